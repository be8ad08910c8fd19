/**
 * How the ONNX backend test runner judges an output (onnx 1.12, onnx/backend/test/loader and
 * runner): numpy's assert_allclose with the test's rtol and atol, which the loader sets to
 * rtol 1e-3 and atol 1e-7 for every test folder that holds a model.onnx.
 */

/** The loader's relative tolerance. */
export const ONNX_RTOL = 1e-3;
/** The loader's absolute tolerance. */
export const ONNX_ATOL = 1e-7;

/** The outcome of comparing an output with the expected one. */
export interface CloseCheck {
  readonly ok: boolean;
  /** Values outside the tolerance. */
  readonly mismatches: number;
  /** The first of them, for the message. */
  readonly first?: { readonly index: number; readonly actual: number; readonly expected: number };
}

/**
 * numpy.testing.assert_allclose element by element: |actual - expected| <= atol + rtol *
 * |expected|, NaN equal to NaN (its default), an infinity only equal to itself.
 */
export function allClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = ONNX_RTOL, atol = ONNX_ATOL): CloseCheck {
  let mismatches = 0;
  let first: CloseCheck['first'];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const close = Number.isNaN(e) ? Number.isNaN(a)
      : !Number.isFinite(e) ? a === e
        : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!close) {
      mismatches++;
      first ??= { index: i, actual: a, expected: e };
    }
  }
  return { ok: mismatches === 0, mismatches, first };
}
