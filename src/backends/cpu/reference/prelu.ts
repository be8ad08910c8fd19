/**
 * Reference PReLU: y = x > 0 ? x : slope[c] * x, one slope per channel or one for all
 * (channel_shared).
 *
 * Counting: one comparison per value, plus one multiply per negative value (as the reference ReLU).
 */
import { checkedWeights, preluParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a PReLU layer. */
export function preluReference(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const { channelShared } = preluParams(layer);
  const { c: C, h: H, w: W } = layer.inputShapes[0];
  const { weight } = checkedWeights(layer, channelShared ? 1 : C, false, 0);
  const hw = H * W;
  const x = inputs[0];
  const y = new Float32Array(x.length);
  let multiplies = 0;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * hw;
      const slope = weight[channelShared ? 0 : c];
      for (let i = 0; i < hw; i++) {
        const v = x[base + i];
        if (v > 0) {
          y[base + i] = v;
        } else {
          y[base + i] = v * slope;
          multiplies++;
        }
      }
    }
  }
  counts.otherOps += x.length + multiplies;
  return [y];
}
