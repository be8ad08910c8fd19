/**
 * Micro-kernels over LISTED rows of A: the tile-mode kernels' surviving output channels. Each row
 * of A is read in place (row-major weights, one pointer per row, 4 bytes per k), so a list of
 * survivors needs no packing; otherwise the tiles are those of microkernels.ts: r x 8 of C,
 * accumulating onto C (row i at c + i * ldc), B in 8-column panels (b + k * bStride).
 * Per k: two v128 loads of B, r broadcast loads of A, 2r multiply-adds. Four rows: 8 accumulators,
 * 2 B vectors, a broadcast and a temporary fit the 15 registers V8 gives on x64 in both builds.
 */
import { madd } from './madd';

/** C[4 x 8] += A rows a0..a3 (k values each) x B. */
export function rows4x8(k: i32, a0: usize, a1: usize, a2: usize, a3: usize, b: usize, bStride: usize, c: usize, ldc: usize): void {
  let c00 = v128.load(c), c01 = v128.load(c, 16);
  let c10 = v128.load(c + ldc), c11 = v128.load(c + ldc, 16);
  let c20 = v128.load(c + 2 * ldc), c21 = v128.load(c + 2 * ldc, 16);
  let c30 = v128.load(c + 3 * ldc), c31 = v128.load(c + 3 * ldc, 16);
  const end = a0 + <usize>k * 4;
  while (a0 < end) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const w0 = v128.load32_splat(a0); c00 = madd(w0, b0, c00); c01 = madd(w0, b1, c01);
    const w1 = v128.load32_splat(a1); c10 = madd(w1, b0, c10); c11 = madd(w1, b1, c11);
    const w2 = v128.load32_splat(a2); c20 = madd(w2, b0, c20); c21 = madd(w2, b1, c21);
    const w3 = v128.load32_splat(a3); c30 = madd(w3, b0, c30); c31 = madd(w3, b1, c31);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4;
    b += bStride;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/** C[2 x 8] += A rows a0, a1 x B. */
export function rows2x8(k: i32, a0: usize, a1: usize, b: usize, bStride: usize, c: usize, ldc: usize): void {
  let c00 = v128.load(c), c01 = v128.load(c, 16);
  let c10 = v128.load(c + ldc), c11 = v128.load(c + ldc, 16);
  const end = a0 + <usize>k * 4;
  while (a0 < end) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const w0 = v128.load32_splat(a0); c00 = madd(w0, b0, c00); c01 = madd(w0, b1, c01);
    const w1 = v128.load32_splat(a1); c10 = madd(w1, b0, c10); c11 = madd(w1, b1, c11);
    a0 += 4; a1 += 4;
    b += bStride;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
}

/** C[1 x 8] += A row a0 x B (even and odd k apart: four add chains, as tile1x8). */
export function rows1x8(k: i32, a0: usize, b: usize, bStride: usize, c: usize): void {
  let c00 = v128.load(c), c01 = v128.load(c, 16);
  let d00 = f32x4.splat(0), d01 = f32x4.splat(0);
  let p = 0;
  for (; p + 2 <= k; p += 2) {
    const w0 = v128.load32_splat(a0); c00 = madd(w0, v128.load(b), c00); c01 = madd(w0, v128.load(b, 16), c01);
    const w1 = v128.load32_splat(a0, 4); d00 = madd(w1, v128.load(b + bStride), d00); d01 = madd(w1, v128.load(b + bStride, 16), d01);
    a0 += 8;
    b += bStride * 2;
  }
  if (p < k) {
    const w0 = v128.load32_splat(a0); c00 = madd(w0, v128.load(b), c00); c01 = madd(w0, v128.load(b, 16), c01);
  }
  v128.store(c, f32x4.add(c00, d00)); v128.store(c, f32x4.add(c01, d01), 16);
}

/**
 * c0..c3 += the dot products of four rows a0..a3 with x, over k values (the per-neuron tile mode:
 * one position's patch x, four of its surviving output channels; each x vector feeds four rows).
 * Two accumulators per row (eight chains) keep the multiply-adds from waiting on each other.
 */
export function dots4(k: i32, a0: usize, a1: usize, a2: usize, a3: usize, x: usize, c0: usize, c1: usize, c2: usize, c3: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
  const end8 = x + (<usize>(k & ~7) << 2);
  while (x < end8) {
    const x0 = v128.load(x), x1 = v128.load(x, 16);
    s0 = madd(v128.load(a0), x0, s0); t0 = madd(v128.load(a0, 16), x1, t0);
    s1 = madd(v128.load(a1), x0, s1); t1 = madd(v128.load(a1, 16), x1, t1);
    s2 = madd(v128.load(a2), x0, s2); t2 = madd(v128.load(a2, 16), x1, t2);
    s3 = madd(v128.load(a3), x0, s3); t3 = madd(v128.load(a3, 16), x1, t3);
    x += 32; a0 += 32; a1 += 32; a2 += 32; a3 += 32;
  }
  let r0 = hsum(f32x4.add(s0, t0)), r1 = hsum(f32x4.add(s1, t1)), r2 = hsum(f32x4.add(s2, t2)), r3 = hsum(f32x4.add(s3, t3));
  const end = x + (<usize>(k & 7) << 2);
  while (x < end) {
    const v = f32.load(x);
    r0 += f32.load(a0) * v; r1 += f32.load(a1) * v; r2 += f32.load(a2) * v; r3 += f32.load(a3) * v;
    x += 4; a0 += 4; a1 += 4; a2 += 4; a3 += 4;
  }
  f32.store(c0, f32.load(c0) + r0);
  f32.store(c1, f32.load(c1) + r1);
  f32.store(c2, f32.load(c2) + r2);
  f32.store(c3, f32.load(c3) + r3);
}

/** c0 += the dot product of row a0 with x over k values (as dots4, one row). */
export function dot1(k: i32, a0: usize, x: usize, c0: usize): void {
  let s0 = f32x4.splat(0), t0 = f32x4.splat(0);
  const end8 = x + (<usize>(k & ~7) << 2);
  while (x < end8) {
    s0 = madd(v128.load(a0), v128.load(x), s0); t0 = madd(v128.load(a0, 16), v128.load(x, 16), t0);
    x += 32; a0 += 32;
  }
  let r0 = hsum(f32x4.add(s0, t0));
  const end = x + (<usize>(k & 7) << 2);
  while (x < end) {
    r0 += f32.load(a0) * f32.load(x);
    x += 4; a0 += 4;
  }
  f32.store(c0, f32.load(c0) + r0);
}

/**
 * out[2q + e] = the dot product of row a_q (kH x L values, contiguous) with position e's window:
 * kH runs of L values, rowStride bytes apart, from x0 / x1 (tiles of 2 and 4 positions over
 * channels-last maps). Each loaded vector feeds two (input) or four (weights) multiply-adds:
 * 8 accumulators, 2 input vectors and a weight vector fit V8's 15 registers.
 */
export function dots4x2(kH: i32, L: i32, rowStride: usize, a0: usize, a1: usize, a2: usize, a3: usize, x0: usize, x1: usize, out: usize): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
  let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
  let t00: f32 = 0, t01: f32 = 0, t10: f32 = 0, t11: f32 = 0, t20: f32 = 0, t21: f32 = 0, t30: f32 = 0, t31: f32 = 0;
  const L4 = <usize>(L & ~3) * 4;
  const Lb = <usize>L * 4;
  for (let ky = 0; ky < kH; ky++) {
    const r0 = x0 + <usize>ky * rowStride;
    const r1 = x1 + <usize>ky * rowStride;
    let i: usize = 0;
    for (; i < L4; i += 16) {
      const u = v128.load(r0 + i), v = v128.load(r1 + i);
      let w = v128.load(a0 + i); s00 = madd(w, u, s00); s01 = madd(w, v, s01);
      w = v128.load(a1 + i); s10 = madd(w, u, s10); s11 = madd(w, v, s11);
      w = v128.load(a2 + i); s20 = madd(w, u, s20); s21 = madd(w, v, s21);
      w = v128.load(a3 + i); s30 = madd(w, u, s30); s31 = madd(w, v, s31);
    }
    for (; i < Lb; i += 4) {
      const u = f32.load(r0 + i), v = f32.load(r1 + i);
      let w = f32.load(a0 + i); t00 += w * u; t01 += w * v;
      w = f32.load(a1 + i); t10 += w * u; t11 += w * v;
      w = f32.load(a2 + i); t20 += w * u; t21 += w * v;
      w = f32.load(a3 + i); t30 += w * u; t31 += w * v;
    }
    a0 += Lb; a1 += Lb; a2 += Lb; a3 += Lb;
  }
  f32.store(out, hsum(s00) + t00); f32.store(out, hsum(s01) + t01, 4);
  f32.store(out, hsum(s10) + t10, 8); f32.store(out, hsum(s11) + t11, 12);
  f32.store(out, hsum(s20) + t20, 16); f32.store(out, hsum(s21) + t21, 20);
  f32.store(out, hsum(s30) + t30, 24); f32.store(out, hsum(s31) + t31, 28);
}

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * out[4q + e] = the dot product of row a_q (kH x L values) with position e's window (e < 4, from
 * x0..x3, as dots4x2): two channels x four positions, each weight vector feeding four
 * multiply-adds (half the weight traffic of dots4x2 per MAC: the rows come from L2).
 */
export function dots2x4(kH: i32, L: i32, rowStride: usize, a0: usize, a1: usize, x0: usize, x1: usize, x2: usize, x3: usize, out: usize): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  let t00: f32 = 0, t01: f32 = 0, t02: f32 = 0, t03: f32 = 0, t10: f32 = 0, t11: f32 = 0, t12: f32 = 0, t13: f32 = 0;
  const L4 = <usize>(L & ~3) * 4;
  const Lb = <usize>L * 4;
  for (let ky = 0; ky < kH; ky++) {
    const r0 = x0 + <usize>ky * rowStride, r1 = x1 + <usize>ky * rowStride;
    const r2 = x2 + <usize>ky * rowStride, r3 = x3 + <usize>ky * rowStride;
    let i: usize = 0;
    for (; i < L4; i += 16) {
      const u0 = v128.load(r0 + i), u1 = v128.load(r1 + i), u2 = v128.load(r2 + i), u3 = v128.load(r3 + i);
      let w = v128.load(a0 + i); s00 = madd(w, u0, s00); s01 = madd(w, u1, s01); s02 = madd(w, u2, s02); s03 = madd(w, u3, s03);
      w = v128.load(a1 + i); s10 = madd(w, u0, s10); s11 = madd(w, u1, s11); s12 = madd(w, u2, s12); s13 = madd(w, u3, s13);
    }
    for (; i < Lb; i += 4) {
      const u0 = f32.load(r0 + i), u1 = f32.load(r1 + i), u2 = f32.load(r2 + i), u3 = f32.load(r3 + i);
      let w = f32.load(a0 + i); t00 += w * u0; t01 += w * u1; t02 += w * u2; t03 += w * u3;
      w = f32.load(a1 + i); t10 += w * u0; t11 += w * u1; t12 += w * u2; t13 += w * u3;
    }
    a0 += Lb; a1 += Lb;
  }
  f32.store(out, hsum(s00) + t00); f32.store(out, hsum(s01) + t01, 4);
  f32.store(out, hsum(s02) + t02, 8); f32.store(out, hsum(s03) + t03, 12);
  f32.store(out, hsum(s10) + t10, 16); f32.store(out, hsum(s11) + t11, 20);
  f32.store(out, hsum(s12) + t12, 24); f32.store(out, hsum(s13) + t13, 28);
}

/** out[e] = the dot product of row a0 with position e's window (e < 4): dots2x4 for one channel. */
export function dot1x4(kH: i32, L: i32, rowStride: usize, a0: usize, x0: usize, x1: usize, x2: usize, x3: usize, out: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
  const L4 = <usize>(L & ~3) * 4;
  const Lb = <usize>L * 4;
  for (let ky = 0; ky < kH; ky++) {
    const r0 = x0 + <usize>ky * rowStride, r1 = x1 + <usize>ky * rowStride;
    const r2 = x2 + <usize>ky * rowStride, r3 = x3 + <usize>ky * rowStride;
    let i: usize = 0;
    for (; i < L4; i += 16) {
      const w = v128.load(a0 + i);
      s0 = madd(w, v128.load(r0 + i), s0); s1 = madd(w, v128.load(r1 + i), s1);
      s2 = madd(w, v128.load(r2 + i), s2); s3 = madd(w, v128.load(r3 + i), s3);
    }
    for (; i < Lb; i += 4) {
      const w = f32.load(a0 + i);
      t0 += w * f32.load(r0 + i); t1 += w * f32.load(r1 + i); t2 += w * f32.load(r2 + i); t3 += w * f32.load(r3 + i);
    }
    a0 += Lb;
  }
  f32.store(out, hsum(s0) + t0); f32.store(out, hsum(s1) + t1, 4);
  f32.store(out, hsum(s2) + t2, 8); f32.store(out, hsum(s3) + t3, 12);
}
