/**
 * Reference ReLU: y = x > 0 ? x : negative_slope * x (Caffe: max(x, 0) + slope * min(x, 0)).
 *
 * Counting: one comparison per value, plus one multiply per negative value when negative_slope
 * is not 0.
 */
import type { Layer } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { reluParams } from '../../../ir/layer-params.js';

/** Runs a ReLU layer. */
export function reluReference(layer: Layer, inputs: readonly Float32Array[], _batch: number, counts: OpCounts): Float32Array[] {
  const slope = reluParams(layer).negativeSlope;
  const x = inputs[0];
  const y = new Float32Array(x.length);
  if (slope === 0) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      y[i] = v > 0 ? v : 0;
    }
    counts.otherOps += x.length;
  } else {
    let multiplies = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v > 0) {
        y[i] = v;
      } else {
        y[i] = v * slope;
        multiplies++;
      }
    }
    counts.otherOps += x.length + multiplies;
  }
  return [y];
}
