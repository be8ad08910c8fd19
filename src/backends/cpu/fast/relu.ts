/**
 * Fast ReLU, branch free: the comparison of the reference mispredicts on about half of real
 * activations, which costs 4x. max(v, 0) = (v + |v|) / 2 and min(v, 0) = (v - |v|) / 2 are exact
 * in float64 for float32 v, so the results equal the reference's for finite inputs.
 *
 * Counting: one op per value (the max); with a negative slope two (max and the slope multiply,
 * which this loop executes for every value, unlike the reference's branch).
 */
import type { Layer } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { reluParams } from '../../../ir/layer-params.js';
import { blobPool } from '../blob-pool.js';

/** Runs a ReLU layer without branches. */
export function reluFast(layer: Layer, inputs: readonly Float32Array[], _batch: number, counts: OpCounts): Float32Array[] {
  const slope = reluParams(layer).negativeSlope;
  const x = inputs[0];
  const y = blobPool.take(x.length);
  if (slope === 0) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      y[i] = (v + Math.abs(v)) * 0.5;
    }
    counts.otherOps += x.length;
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      const a = Math.abs(v);
      y[i] = (v + a + slope * (v - a)) * 0.5;
    }
    counts.otherOps += 2 * x.length;
  }
  return [y];
}
