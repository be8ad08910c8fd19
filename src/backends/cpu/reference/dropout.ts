/**
 * Reference Dropout: the identity at inference (Caffe scales by 1 / (1 - ratio) while training,
 * never at test time). Returns a copy so no two blobs share storage.
 *
 * Counting: nothing (a copy is not an arithmetic operation).
 */
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a Dropout layer at inference: copies its input. */
export function dropoutReference(_layer: Layer, inputs: readonly Float32Array[], _batch: number, _counts: OpCounts): Float32Array[] {
  return [inputs[0].slice()];
}
