/**
 * Reference Split: one copy of the bottom for every top.
 *
 * Counting: nothing (copies are not arithmetic operations).
 */
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a Split layer: one copy of its input per top. */
export function splitReference(layer: Layer, inputs: readonly Float32Array[], _batch: number, _counts: OpCounts): Float32Array[] {
  return layer.tops.map(() => inputs[0].slice());
}
