/**
 * Fast Clip with Math.min / Math.max, which V8 compiles without branches (ReLU6 inputs are half
 * negative: a branch would mispredict). NaN stays NaN, as in the reference.
 *
 * Counting: as the reference (two comparisons per value).
 */
import { clipParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';
import { blobPool } from '../blob-pool.js';

/** Runs a Clip layer. */
export function clipFast(layer: Layer, inputs: readonly Float32Array[], _batch: number, counts: OpCounts): Float32Array[] {
  const { min, max } = clipParams(layer);
  const x = inputs[0];
  const y = blobPool.take(x.length);
  for (let i = 0; i < x.length; i++) y[i] = Math.min(Math.max(x[i], min), max);
  counts.otherOps += 2 * x.length;
  return [y];
}
