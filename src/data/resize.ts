import type { RgbImage } from './image-decode.js';

/** Fixed-point fraction bits of the filter weights, as Pillow's 8-bit resampler (32 - 8 - 2). */
const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);
const INV_ONE = 1 / ONE; // exact: a power of two

/** Precomputed filter taps of one axis: output i reads input[start[i] + k] * weights[i * taps + k]. */
interface AxisTaps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly taps: number;
  /** Weights in fixed point (sum ~ 2^22 per output). */
  readonly weights: Int32Array;
}

/**
 * Triangle-filter taps for resampling `inSize` samples to `outSize`, exactly as Pillow's BILINEAR
 * (`precompute_coeffs` + `normalize_coeffs_8bpc` in Resample.c): when downscaling, the triangle is
 * widened by the scale factor so every input pixel contributes (antialiasing) instead of sampling
 * 2 of every N; weights are normalised in double, then rounded to fixed point.
 */
function axisTaps(inSize: number, outSize: number): AxisTaps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's radius is 1 input pixel at scale 1
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const w = new Float64Array(taps);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    let total = 0;
    for (let x = lo; x < hi; x++) {
      const d = Math.abs((x - centre + 0.5) / filterScale);
      w[x - lo] = d < 1 ? 1 - d : 0;
      total += w[x - lo];
    }
    for (let k = 0; k < hi - lo; k++) {
      const normalised = total !== 0 ? w[k] / total : w[k];
      weights[i * taps + k] = Math.trunc(0.5 + normalised * ONE);
    }
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, taps, weights };
}

/** Pillow's `clip8`: the fixed-point sum (already offset by one half) to 0..255. */
function clip8(sum: number): number {
  return sum <= 0 ? 0 : sum >= 256 * ONE ? 255 : Math.floor(sum * INV_ONE);
}

function resizeHorizontal(src: Uint8Array, inW: number, rows: number, outW: number): Uint8Array {
  const { start, count, taps, weights } = axisTaps(inW, outW);
  const out = new Uint8Array(outW * rows * 3);
  for (let y = 0; y < rows; y++) {
    const rowIn = y * inW * 3;
    let q = y * outW * 3;
    for (let x = 0; x < outW; x++, q += 3) {
      let r = HALF;
      let g = HALF;
      let b = HALF;
      let p = rowIn + start[x] * 3;
      const wBase = x * taps;
      for (let k = 0, n = count[x]; k < n; k++, p += 3) {
        const w = weights[wBase + k];
        r += w * src[p];
        g += w * src[p + 1];
        b += w * src[p + 2];
      }
      out[q] = clip8(r);
      out[q + 1] = clip8(g);
      out[q + 2] = clip8(b);
    }
  }
  return out;
}

function resizeVertical(src: Uint8Array, width: number, inH: number, outH: number): Uint8Array {
  const { start, count, taps, weights } = axisTaps(inH, outH);
  const rowLen = width * 3;
  const out = new Uint8Array(rowLen * outH);
  // Whole weighted rows are accumulated at once, which keeps memory access sequential.
  const acc = new Float64Array(rowLen);
  for (let y = 0; y < outH; y++) {
    acc.fill(HALF);
    const wBase = y * taps;
    for (let k = 0, n = count[y]; k < n; k++) {
      const w = weights[wBase + k];
      const rowIn = (start[y] + k) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += w * src[rowIn + i];
    }
    const rowOut = y * rowLen;
    for (let i = 0; i < rowLen; i++) out[rowOut + i] = clip8(acc[i]);
  }
  return out;
}

/**
 * Resizes an RGB image with an antialiased bilinear (triangle) filter, bit-identical to Pillow's
 * `Image.resize(size, Image.BILINEAR)`: a horizontal pass, then a vertical one, each in 22-bit
 * fixed point and rounded to 8 bits (Pillow keeps the intermediate image in 8 bits; carrying it
 * in float instead would differ from Pillow by one level on ~15 % of values). An axis whose size
 * does not change is not resampled. Cost: O(pixels x taps), weights precomputed per axis.
 */
export function resizeRgb(image: RgbImage, width: number, height: number): RgbImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  let rgb = image.rgb;
  if (image.width !== width) rgb = resizeHorizontal(rgb, image.width, image.height, width);
  if (image.height !== height) rgb = resizeVertical(rgb, width, image.height, height);
  return { width, height, rgb: rgb === image.rgb ? rgb.slice() : rgb };
}
