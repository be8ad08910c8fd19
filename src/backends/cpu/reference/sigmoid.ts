/**
 * Reference Sigmoid: y = 1 / (1 + exp(-x)), in float64, rounded once.
 *
 * Counting: three ops per value (the exp, the add, the divide), the way Softmax counts its exp as one.
 */
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a Sigmoid layer. */
export function sigmoidReference(_layer: Layer, inputs: readonly Float32Array[], _batch: number, counts: OpCounts): Float32Array[] {
  const x = inputs[0];
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
  counts.otherOps += 3 * x.length;
  return [y];
}
