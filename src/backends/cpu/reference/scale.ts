/**
 * Reference Scale: y = x * weight[c] (+ bias[c]) at every position of channel c.
 *
 * Counting: one multiply per value, plus one add per value with a bias.
 */
import { checkedWeights, scaleParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a Scale layer. */
export function scaleReference(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const { biasTerm } = scaleParams(layer);
  const { c: C, h: H, w: W } = layer.inputShapes[0];
  const { weight, bias } = checkedWeights(layer, C, biasTerm, C);
  const hw = H * W;
  const x = inputs[0];
  const y = new Float32Array(x.length);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * hw;
      const a = weight[c];
      const b = biasTerm && bias ? bias[c] : 0;
      for (let i = 0; i < hw; i++) y[base + i] = x[base + i] * a + b;
    }
  }
  counts.otherOps += (biasTerm ? 2 : 1) * batch * C * hw;
  return [y];
}
