/**
 * Fast PReLU, branch free as the fast ReLU: y = (v + |v| + slope * (v - |v|)) / 2, exact in float64
 * for float32 v, so the results equal the reference's for finite inputs.
 *
 * Counting: two ops per value (the max and the slope multiply, executed for every value).
 */
import { checkedWeights, preluParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';
import { blobPool } from '../blob-pool.js';

/** Runs a PReLU layer without branches. */
export function preluFast(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const { channelShared } = preluParams(layer);
  const { c: C, h: H, w: W } = layer.inputShapes[0];
  const { weight } = checkedWeights(layer, channelShared ? 1 : C, false, 0);
  const hw = H * W;
  const x = inputs[0];
  const y = blobPool.take(x.length);
  for (let plane = 0; plane < batch * C; plane++) {
    const slope = weight[channelShared ? 0 : plane % C];
    const base = plane * hw;
    for (let i = base; i < base + hw; i++) {
      const v = x[i];
      const a = Math.abs(v);
      y[i] = (v + a + slope * (v - a)) * 0.5;
    }
  }
  counts.otherOps += 2 * x.length;
  return [y];
}
