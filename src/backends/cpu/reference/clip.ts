/**
 * Reference Clip: y = min(max(x, min), max). NaN stays NaN, as in Caffe and ONNX.
 *
 * Counting: two comparisons per value.
 */
import { clipParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a Clip layer. */
export function clipReference(layer: Layer, inputs: readonly Float32Array[], _batch: number, counts: OpCounts): Float32Array[] {
  const { min, max } = clipParams(layer);
  const x = inputs[0];
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v < min ? min : v > max ? max : v;
  }
  counts.otherOps += 2 * x.length;
  return [y];
}
