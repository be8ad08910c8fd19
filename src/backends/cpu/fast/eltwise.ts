/**
 * Fast Eltwise: one pass per bottom over a float32 accumulator (the reference loops bottoms inside
 * each value). Two bottoms without coeffs, the residual addition, round exactly as the reference
 * does; with more bottoms or coeffs a sum rounds once per bottom, within float32 rounding of it.
 *
 * Counting: as the reference.
 */
import { eltwiseParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';
import { blobPool } from '../blob-pool.js';

/** Runs an Eltwise layer. */
export function eltwiseFast(layer: Layer, inputs: readonly Float32Array[], _batch: number, counts: OpCounts): Float32Array[] {
  const { operation, coeffs } = eltwiseParams(layer);
  const n = inputs.length;
  const length = inputs[0].length;
  const scaled = operation === 'sum' && coeffs.length > 0;
  const y = blobPool.take(length);
  const first = inputs[0];
  if (scaled) {
    const k = coeffs[0];
    for (let i = 0; i < length; i++) y[i] = k * first[i];
  } else {
    y.set(first);
  }
  for (let b = 1; b < n; b++) {
    const x = inputs[b];
    if (operation === 'sum') {
      const k = scaled ? coeffs[b] : 1;
      if (k === 1) for (let i = 0; i < length; i++) y[i] += x[i];
      else for (let i = 0; i < length; i++) y[i] += k * x[i];
    } else if (operation === 'prod') {
      for (let i = 0; i < length; i++) y[i] *= x[i];
    } else {
      // Not Math.max: a NaN in a later bottom is skipped by Caffe's comparison, as here.
      for (let i = 0; i < length; i++) if (x[i] > y[i]) y[i] = x[i];
    }
  }
  counts.otherOps += (n - 1 + (scaled ? n : 0)) * length;
  return [y];
}
