/**
 * Fast Scale: one channel's plane at a time through subarray views, the factor and bias held in
 * locals; the same float32 products as the reference (one multiply, one add, one rounding).
 *
 * Counting: as the reference (one multiply per value, one add with a bias).
 */
import { checkedWeights, scaleParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';
import { blobPool } from '../blob-pool.js';

/** Runs a Scale layer. */
export function scaleFast(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const { biasTerm } = scaleParams(layer);
  const { c: C, h: H, w: W } = layer.inputShapes[0];
  const { weight, bias } = checkedWeights(layer, C, biasTerm, C);
  const hw = H * W;
  const x = inputs[0];
  const y = blobPool.take(x.length);
  for (let plane = 0; plane < batch * C; plane++) {
    const c = plane % C;
    const from = x.subarray(plane * hw, (plane + 1) * hw);
    const to = y.subarray(plane * hw, (plane + 1) * hw);
    const a = weight[c];
    if (biasTerm && bias) {
      const b = bias[c];
      for (let i = 0; i < hw; i++) to[i] = from[i] * a + b;
    } else {
      for (let i = 0; i < hw; i++) to[i] = from[i] * a;
    }
  }
  counts.otherOps += (biasTerm ? 2 : 1) * batch * C * hw;
  return [y];
}
