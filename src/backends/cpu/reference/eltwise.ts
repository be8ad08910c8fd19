/**
 * Reference Eltwise over two or more bottoms of one shape: SUM (each bottom times its coeff, in
 * float64, rounded once), PROD, or MAX (Caffe's order: the first bottom, then each later one).
 *
 * Counting per value with n bottoms: n - 1 adds, multiplies or comparisons; a SUM with coeffs
 * adds n multiplies.
 */
import { eltwiseParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import type { OpCounts } from '../../../records/counters.js';

/** Runs an Eltwise layer. */
export function eltwiseReference(layer: Layer, inputs: readonly Float32Array[], _batch: number, counts: OpCounts): Float32Array[] {
  const { operation, coeffs } = eltwiseParams(layer);
  const length = inputs[0].length;
  const y = new Float32Array(length);
  const n = inputs.length;
  for (let i = 0; i < length; i++) {
    if (operation === 'sum') {
      let s = 0;
      for (let b = 0; b < n; b++) s += (coeffs.length > 0 ? coeffs[b] : 1) * inputs[b][i];
      y[i] = s;
    } else if (operation === 'prod') {
      let p = 1;
      for (let b = 0; b < n; b++) p *= inputs[b][i];
      y[i] = p;
    } else {
      let m = inputs[0][i];
      for (let b = 1; b < n; b++) if (inputs[b][i] > m) m = inputs[b][i];
      y[i] = m;
    }
  }
  counts.otherOps += (n - 1 + (operation === 'sum' && coeffs.length > 0 ? n : 0)) * length;
  return [y];
}
