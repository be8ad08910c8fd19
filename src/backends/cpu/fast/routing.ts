/**
 * Fast data-movement layers. Kernels never write to their inputs, so identity layers (Dropout at
 * inference, Flatten, Split) hand their input array on instead of copying it; Concat copies with
 * TypedArray.set.
 *
 * Counting: nothing (no arithmetic).
 */
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';
import { blobPool } from '../blob-pool.js';

/** Dropout (inference), Flatten: the input array itself. */
export function identityFast(_layer: Layer, inputs: readonly Float32Array[], _batch: number, _counts: OpCounts): Float32Array[] {
  return [inputs[0]];
}

/** Split: the input array for every top. */
export function splitFast(layer: Layer, inputs: readonly Float32Array[], _batch: number, _counts: OpCounts): Float32Array[] {
  return layer.tops.map(() => inputs[0]);
}

/** Concat along channels with block copies. */
export function concatFast(layer: Layer, inputs: readonly Float32Array[], batch: number, _counts: OpCounts): Float32Array[] {
  const outSize = shapeSize(layer.outputShapes[0]);
  const y = blobPool.take(batch * outSize);
  for (let n = 0; n < batch; n++) {
    let offset = n * outSize;
    for (let b = 0; b < inputs.length; b++) {
      const size = shapeSize(layer.inputShapes[b]);
      y.set(inputs[b].subarray(n * size, (n + 1) * size), offset);
      offset += size;
    }
  }
  return [y];
}
