/**
 * Numerical tolerances shared by the parity tests, in one place so that every comparison of an
 * implementation against the CPU reference uses the same bar.
 */

/**
 * Largest accepted relative error of a layer output against the reference:
 * max |a - ref| / max(1e-6, max |ref|) over the whole blob (see {@link relativeError}).
 */
export const PARITY_RELATIVE_TOLERANCE = 1e-4;

/** max |a - ref| / max(1e-6, max |ref|); Infinity when the lengths differ or a value is NaN. */
export function relativeError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  return maxDiff / Math.max(1e-6, maxRef);
}

/**
 * Dynamic kernels on another backend (WebGPU sums in float32, the CPU in float64): largest accepted
 * fraction of neurons whose SPET / SDSS decision differs (a partial sum within rounding of its
 * threshold), and of the counts that follow from those decisions.
 */
export const DYNAMIC_DECISION_TOLERANCE = 1e-3;
