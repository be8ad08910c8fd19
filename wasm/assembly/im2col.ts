/**
 * Implicit im2col: the 8-column panels of a convolution's column matrix (Caffe's layout: row
 * k = (ic, ky, kx), column n = (oh, ow)), gathered from the input planes one panel at a time,
 * right before the micro-kernels use it, into a kc x 8 buffer that stays in L1. The whole column
 * matrix is never written.
 *
 * The layer's planes are zero-padded once per image (convolution.ts), so every tap of every
 * output position is in bounds: column n of row k is at src + kOffsets[k] + nOffsets[n] (byte
 * offsets, tables built once per layer call). A full panel whose 8 positions lie on one output
 * row is two v128 loads per row at stride 1, four loads and two shuffles at stride 2; any other
 * panel (crossing an output row, or the last, partial one) gathers 8 scalars per row.
 * A 1 x 1, stride 1, unpadded convolution needs no copy at all: B is the input planes, read in
 * place with a stride of one plane.
 */

/** First plane of the current image and group (the padded copy when the layer pads). */
let src: usize = 0;
/** Int32 table: byte offset of row k's tap (ic, ky, kx) from src. */
let kOffsets: usize = 0;
/** Int32 table: byte offset of output position n's window from a tap. */
let nOffsets: usize = 0;
let columns: i32 = 0;
let outWidth: i32 = 0;
let strideW: i32 = 0;
let direct: bool = false;
/** The columns are a listed subset of the output positions (setIm2colColumns): always the generic gather. */
let listed: bool = false;
/** The n table setIm2colGeometry built: every output position in order. */
let allOffsets: usize = 0;

/** Row stride in bytes of the panel the last im2colPanel call returned. */
export let panelStride: usize = 32;

/**
 * Builds the offset tables at `kTable` (channels * kh * kw ints) and `nTable` (outH * outW ints)
 * for planes of paddedH x paddedW, and sets the geometry of the following im2colPanel calls.
 */
export function setIm2colGeometry(
  channels: i32, paddedH: i32, paddedW: i32, kernelH: i32, kernelW: i32, strideH: i32, strideWidth: i32,
  dilationH: i32, dilationW: i32, outH: i32, outW: i32, pointwise: bool, kTable: usize, nTable: usize,
): void {
  let t = kTable;
  for (let c = 0; c < channels; c++) {
    for (let ky = 0; ky < kernelH; ky++) {
      for (let kx = 0; kx < kernelW; kx++) {
        i32.store(t, ((c * paddedH + ky * dilationH) * paddedW + kx * dilationW) * 4);
        t += 4;
      }
    }
  }
  t = nTable;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      i32.store(t, (oh * strideH * paddedW + ow * strideWidth) * 4);
      t += 4;
    }
  }
  kOffsets = kTable;
  nOffsets = nTable;
  allOffsets = nTable;
  columns = outH * outW;
  outWidth = outW;
  strideW = strideWidth;
  direct = pointwise;
  listed = false;
}

/**
 * Makes the following panels gather the `count` output positions whose window offsets (bytes,
 * like the n table) are at `table`, in that order: the tile-mode kernels' lists (an SDSS grid,
 * the positions off the grid). setIm2colGeometry must have set the k table; setIm2colAllColumns
 * returns to every position in order.
 */
export function setIm2colColumns(table: usize, count: i32): void {
  nOffsets = table;
  columns = count;
  listed = true;
}

/** Returns to the columns setIm2colGeometry set: every output position in order. */
export function setIm2colAllColumns(outH: i32, outW: i32): void {
  nOffsets = allOffsets;
  columns = outH * outW;
  listed = false;
}

/** Sets the planes the next panels are gathered from (one image, one group). */
export function setIm2colSource(planes: usize): void {
  src = planes;
}

/**
 * The panel of rows k0 .. k0 + kc and columns n0 .. n0 + nr (nr <= 8) as a pointer to row k0,
 * with its row stride in `panelStride`: `dst` (kc x 8 values, 32-byte rows) filled with the
 * gathered values, or the input planes themselves for a direct full panel. Columns past nr hold
 * copies of a valid column (the caller ignores them).
 */
export function im2colPanel(k0: i32, kc: i32, n0: i32, nr: i32, dst: usize): usize {
  if (direct && !listed && nr == 8) {
    panelStride = <usize>columns * 4;
    return src + (<usize>k0 * columns + n0) * 4;
  }
  panelStride = 32;
  let kt = kOffsets + <usize>k0 * 4;
  let d = dst;
  const end = dst + <usize>kc * 32;
  if (!listed && nr == 8 && (n0 % outWidth) + 8 <= outWidth && strideW <= 2) {
    runPanel(kt, d, end, src + <usize>i32.load(nOffsets + <usize>n0 * 4), strideW == 2);
    return dst;
  }
  // Generic gather: the 8 window offsets in locals, past-the-end columns repeat the last one.
  const last = columns - 1;
  const nt = nOffsets;
  const o0 = src + <usize>i32.load(nt + <usize>n0 * 4);
  const o1 = src + <usize>i32.load(nt + <usize>min(n0 + 1, last) * 4);
  const o2 = src + <usize>i32.load(nt + <usize>min(n0 + 2, last) * 4);
  const o3 = src + <usize>i32.load(nt + <usize>min(n0 + 3, last) * 4);
  const o4 = src + <usize>i32.load(nt + <usize>min(n0 + 4, last) * 4);
  const o5 = src + <usize>i32.load(nt + <usize>min(n0 + 5, last) * 4);
  const o6 = src + <usize>i32.load(nt + <usize>min(n0 + 6, last) * 4);
  const o7 = src + <usize>i32.load(nt + <usize>min(n0 + 7, last) * 4);
  // Listed positions whose windows are one or two values apart (an SDSS grid row, a row off the
  // grid) are a run of one padded row: the vector loads of the fast path.
  const step = o1 - o0;
  if (listed && nr == 8 && (step == 4 || step == 8) && o2 - o1 == step && o3 - o2 == step && o4 - o3 == step &&
    o5 - o4 == step && o6 - o5 == step && o7 - o6 == step) {
    runPanel(kt, d, end, o0, step == 8);
    return dst;
  }
  // Lane loads into two vectors: 8 loads and 2 stores per row instead of 8 and 8.
  const zero = i32x4.splat(0);
  while (d < end) {
    const k = <usize>i32.load(kt);
    let lo = v128.load32_lane(o0 + k, zero, 0);
    let hi = v128.load32_lane(o4 + k, zero, 0);
    lo = v128.load32_lane(o1 + k, lo, 1);
    hi = v128.load32_lane(o5 + k, hi, 1);
    lo = v128.load32_lane(o2 + k, lo, 2);
    hi = v128.load32_lane(o6 + k, hi, 2);
    lo = v128.load32_lane(o3 + k, lo, 3);
    hi = v128.load32_lane(o7 + k, hi, 3);
    v128.store(d, lo);
    v128.store(d, hi, 16);
    kt += 4;
    d += 32;
  }
  return dst;
}

/**
 * Rows of a panel whose 8 windows are consecutive values of one padded row from `s0`, or every
 * other value (`two`): two v128 loads per row, or four and two shuffles (the 16th value, one past
 * the window, is read and dropped: buffers carry 64 bytes of slack).
 */
// @ts-ignore: decorator
@inline
function runPanel(kt: usize, d: usize, end: usize, s0: usize, two: bool): void {
  if (!two) {
    while (d < end) {
      const s = s0 + <usize>i32.load(kt);
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
      kt += 4;
      d += 32;
    }
    return;
  }
  while (d < end) {
    const s = s0 + <usize>i32.load(kt);
    v128.store(d, i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
    v128.store(d, i32x4.shuffle(v128.load(s, 32), v128.load(s, 48), 0, 2, 4, 6), 16);
    kt += 4;
    d += 32;
  }
}
