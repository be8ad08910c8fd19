/**
 * Reference Concat along channels: for every image, the bottoms' CHW blocks one after the other.
 *
 * Counting: nothing (copies are not arithmetic operations).
 */
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs a Concat layer (axis 1). */
export function concatReference(layer: Layer, inputs: readonly Float32Array[], batch: number, _counts: OpCounts): Float32Array[] {
  const outSize = shapeSize(layer.outputShapes[0]);
  const y = new Float32Array(batch * outSize);
  for (let n = 0; n < batch; n++) {
    let offset = n * outSize;
    for (let b = 0; b < inputs.length; b++) {
      const size = shapeSize(layer.inputShapes[b]);
      for (let i = 0; i < size; i++) y[offset + i] = inputs[b][n * size + i];
      offset += size;
    }
  }
  return [y];
}
