/**
 * im2col for one group of one image, Caffe's layout: row (ic, ky, kx), column (oh, ow), so that
 * the convolution is weights (outC/group x K) times this (K x outH*outW) matrix.
 */

/** Geometry of a convolution as im2col needs it. */
export interface ConvGeometry {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly padH: number;
  readonly padW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly outH: number;
  readonly outW: number;
}

let scratch = new Float32Array(0);

/**
 * A scratch array of at least `size` values, reused between calls (it grows, never shrinks) so
 * that a batch does not allocate one column matrix per image. Valid until the next call.
 */
export function columnBuffer(size: number): Float32Array {
  if (scratch.length < size) scratch = new Float32Array(size);
  return scratch;
}

/**
 * Writes the (channels * kh * kw) x (outH * outW) column matrix of the `channels` planes starting
 * at `src[srcOffset]` into `dst` (from index 0); padding taps are written as 0.
 */
export function im2col(src: Float32Array, srcOffset: number, g: ConvGeometry, dst: Float32Array): void {
  const { height: H, width: W, outH, outW, strideH, strideW, padH, padW, dilationH, dilationW } = g;
  const n = outH * outW;
  let row = 0;
  for (let ic = 0; ic < g.channels; ic++) {
    const plane = srcOffset + ic * H * W;
    for (let ky = 0; ky < g.kernelH; ky++) {
      for (let kx = 0; kx < g.kernelW; kx++) {
        const dOff = row * n;
        const xShift = kx * dilationW - padW;
        // Columns ow with 0 <= ow * strideW + xShift < W: [owLo, owHi).
        const owLo = Math.min(outW, Math.max(0, Math.ceil(-xShift / strideW)));
        const owHi = Math.max(owLo, Math.min(outW, Math.ceil((W - xShift) / strideW)));
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padH + ky * dilationH;
          const d = dOff + oh * outW;
          if (ih < 0 || ih >= H) {
            dst.fill(0, d, d + outW);
            continue;
          }
          for (let ow = 0; ow < owLo; ow++) dst[d + ow] = 0;
          const s = plane + ih * W + xShift;
          if (strideW === 1) {
            for (let ow = owLo; ow < owHi; ow++) dst[d + ow] = src[s + ow];
          } else {
            for (let ow = owLo; ow < owHi; ow++) dst[d + ow] = src[s + ow * strideW];
          }
          for (let ow = owHi; ow < outW; ow++) dst[d + ow] = 0;
        }
        row++;
      }
    }
  }
}
