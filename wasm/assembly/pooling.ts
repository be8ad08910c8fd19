/**
 * Pooling (MAX and AVE with Caffe's windows: src/backends/cpu/reference/pooling.ts), separable:
 * per plane, a row pass (every row reduced over each output column's window into a rows buffer),
 * then a column pass (the rows buffer reduced over each output row's window). A max (sum) over a
 * rectangle is the max (sum) of its rows' maxima (sums).
 *
 * Every plane is first copied into a bordered buffer whose border holds the neutral value (-inf
 * for MAX, 0 for AVE), wide and tall enough that EVERY window (Caffe's last window may pass the
 * input plus pad) is whole. Then there is no clipping and both passes run 4 output columns per
 * v128: stride 1 is one load per tap, stride 2 the even lanes of two loads (i32x4.shuffle),
 * larger strides gather lane by lane. MAX is f32x4.pmax, i.e. the reference's `v > m ? v : m`:
 * exact. AVE sums in float32 (the reference in float64: within the parity tolerance) and divides
 * by Caffe's divisor, the window clipped to input + pad.
 *
 * Ops (what the host counts): (kernelW - 1) per output column of each bordered row in the row
 * pass, (kernelH - 1) per output in the column pass, one divide per output for AVE; the lanes
 * past the last output column of a partial group are computed and dropped, not counted.
 */
import { copyBytes } from './copy';

/** The bordered plane's geometry for one layer (see the file comment). */
// @ts-ignore: decorator
@inline
function borderedWidth(w: i32, outW: i32, kernelW: i32, strideW: i32, padW: i32): i32 {
  // Whole 4-lane groups of outputs, plus 4 floats the stride-2 pair of loads may read past.
  return max(w + padW, (((outW + 3) & ~3) - 1) * strideW + kernelW) + 4;
}

// @ts-ignore: decorator
@inline
function borderedHeight(h: i32, outH: i32, kernelH: i32, strideH: i32, padH: i32): i32 {
  return max(h + padH, (outH - 1) * strideH + kernelH);
}

/** Scratch bytes `pooling` needs: the bordered plane and the rows buffer. */
export function poolingScratchBytes(
  h: i32, w: i32, outH: i32, outW: i32, kernelH: i32, kernelW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32,
): usize {
  const bh = <usize>borderedHeight(h, outH, kernelH, strideH, padH);
  const bw = <usize>borderedWidth(w, outW, kernelW, strideW, padW);
  return bh * bw * 4 + bh * <usize>((outW + 3) & ~3) * 4 + 16;
}

// @ts-ignore: decorator
@inline
function combine4(isMax: bool, m: v128, v: v128): v128 {
  return isMax ? f32x4.pmax(m, v) : f32x4.add(m, v);
}

/** Four outputs of the row pass: lanes j = 0..3 reduce s + (j * strideW + kx) * 4 over kx. */
// @ts-ignore: decorator
@inline
function rowGroup(isMax: bool, s: usize, kernelW: i32, strideW: i32): v128 {
  let m: v128;
  if (strideW == 1) {
    m = v128.load(s);
    for (let kx = 1; kx < kernelW; kx++) m = combine4(isMax, m, v128.load(s + <usize>kx * 4));
  } else if (strideW == 2) {
    m = i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
    for (let kx = 1; kx < kernelW; kx++) {
      const p = s + <usize>kx * 4;
      m = combine4(isMax, m, i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6));
    }
  } else {
    const step = <usize>strideW * 4;
    m = f32x4(f32.load(s), f32.load(s + step), f32.load(s + 2 * step), f32.load(s + 3 * step));
    for (let kx = 1; kx < kernelW; kx++) {
      const p = s + <usize>kx * 4;
      m = combine4(isMax, m, f32x4(f32.load(p), f32.load(p + step), f32.load(p + 2 * step), f32.load(p + 3 * step)));
    }
  }
  return m;
}

// @ts-ignore: decorator
@inline
function poolPlanes(
  isMax: bool, x: usize, y: usize, planes: i32, h: i32, w: i32, outH: i32, outW: i32,
  kernelH: i32, kernelW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, scratch: usize,
): void {
  const bh = borderedHeight(h, outH, kernelH, strideH, padH);
  const bw = borderedWidth(w, outW, kernelW, strideW, padW);
  const groups = (outW + 3) >> 2;
  const bordered = scratch;
  const rows = bordered + <usize>bh * bw * 4;
  const rowBytes = <usize>groups * 16;
  // The border keeps the neutral value across planes: only the interior is rewritten.
  const neutral: f32 = isMax ? <f32>-Infinity : <f32>0;
  for (let p = bordered; p < rows; p += 4) f32.store(p, neutral);
  const interior = bordered + (<usize>padH * bw + padW) * 4;
  for (let plane = 0; plane < planes; plane++) {
    const xp = x + <usize>plane * h * w * 4;
    for (let r = 0; r < h; r++) copyBytes(interior + <usize>r * bw * 4, xp + <usize>r * w * 4, <usize>w * 4);
    // Row pass over every bordered row.
    for (let r = 0; r < bh; r++) {
      const src = bordered + <usize>r * bw * 4;
      const dst = rows + <usize>r * rowBytes;
      for (let g = 0; g < groups; g++) v128.store(dst + <usize>g * 16, rowGroup(isMax, src + <usize>g * 16 * strideW, kernelW, strideW));
    }
    // Column pass.
    const yp = y + <usize>plane * outH * outW * 4;
    for (let ph = 0; ph < outH; ph++) {
      const top = rows + <usize>ph * strideH * rowBytes;
      // Caffe's AVE divisor: the window clipped to the input plus pad.
      const hs = ph * strideH - padH;
      const divH = <f32>(min(hs + kernelH, h + padH) - hs);
      const dst = yp + <usize>ph * outW * 4;
      for (let g = 0; g < groups; g++) {
        let p = top + <usize>g * 16;
        let m = v128.load(p);
        for (let ky = 1; ky < kernelH; ky++) {
          p += rowBytes;
          m = combine4(isMax, m, v128.load(p));
        }
        const pw = g << 2;
        if (!isMax) {
          const ws = pw * strideW - padW;
          const lastW = w + padW;
          const div = f32x4(
            <f32>(min(ws + kernelW, lastW) - ws), <f32>(min(ws + strideW + kernelW, lastW) - ws - strideW),
            <f32>(min(ws + 2 * strideW + kernelW, lastW) - ws - 2 * strideW), <f32>(min(ws + 3 * strideW + kernelW, lastW) - ws - 3 * strideW),
          );
          m = f32x4.div(m, f32x4.mul(div, f32x4.splat(divH)));
        }
        if (pw + 4 <= outW) {
          v128.store(dst + <usize>pw * 4, m);
        } else {
          // The last, partial group: its valid lanes only (the output plane ends here).
          f32.store(dst + <usize>pw * 4, f32x4.extract_lane(m, 0));
          if (pw + 1 < outW) f32.store(dst + <usize>pw * 4, f32x4.extract_lane(m, 1), 4);
          if (pw + 2 < outW) f32.store(dst + <usize>pw * 4, f32x4.extract_lane(m, 2), 8);
        }
      }
    }
  }
}

/**
 * Pools `planes` planes of h x w float32 at `x` into outH x outW planes at `y`. `isMax`: MAX,
 * else AVE. Kernel, stride and pad per axis as the layer's (global pooling: kernel = h x w);
 * `scratch`: poolingScratchBytes(...) bytes.
 */
export function pooling(
  x: usize, y: usize, planes: i32, h: i32, w: i32, outH: i32, outW: i32,
  kernelH: i32, kernelW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, isMax: bool, scratch: usize,
): void {
  if (isMax) poolPlanes(true, x, y, planes, h, w, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW, scratch);
  else poolPlanes(false, x, y, planes, h, w, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW, scratch);
}
