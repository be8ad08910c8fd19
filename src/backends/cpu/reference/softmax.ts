/**
 * Reference Softmax over channels, independently at every spatial position of every image
 * (Caffe's default axis 1): y_c = exp(x_c - max) / sum_c' exp(x_c' - max).
 *
 * Counting, per position with C channels: C comparisons (max), C subtractions, C exps, C adds and
 * C divides: 5 x C.
 */
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a Softmax layer. */
export function softmaxReference(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const { c: C, h: H, w: W } = layer.inputShapes[0];
  const hw = H * W;
  const x = inputs[0];
  const y = new Float32Array(x.length);
  const e = new Float64Array(C);
  for (let n = 0; n < batch; n++) {
    for (let s = 0; s < hw; s++) {
      const base = n * C * hw + s;
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, x[base + c * hw]);
      let sum = 0;
      for (let c = 0; c < C; c++) {
        e[c] = Math.exp(x[base + c * hw] - max);
        sum += e[c];
      }
      for (let c = 0; c < C; c++) y[base + c * hw] = e[c] / sum;
    }
  }
  counts.otherOps += 5 * C * hw * batch;
  return [y];
}
