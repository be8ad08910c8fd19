/**
 * Reference Flatten: C x H x W to (C*H*W) x 1 x 1, the same values in the same order.
 * Returns a copy so no two blobs share storage.
 *
 * Counting: nothing (a copy is not an arithmetic operation).
 */
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a Flatten layer: copies its input. */
export function flattenReference(_layer: Layer, inputs: readonly Float32Array[], _batch: number, _counts: OpCounts): Float32Array[] {
  return [inputs[0].slice()];
}
