/**
 * Register-blocked micro-kernels: an mr x 8 tile of C (mr = 1..6) as 2 x mr v128 accumulators.
 *
 * Operands (byte addresses in linear memory):
 * - `a`: a packed A panel, k-major: the mr values of column k at a + (k * mr + i) * 4 (the
 *   convolution weights of mr output channels, packed once per layer; see pack.ts);
 * - `b`: 8 consecutive float32 of row k of B at b + k * bStride (a packed panel, bStride = 32, or
 *   the input planes themselves for a 1 x 1 convolution, bStride = row length);
 * - `c`: row i of the tile at c + i * ldc.
 * Per k: two v128 loads of B, mr broadcast loads of A (v128.load32_splat: one vbroadcastss from
 * memory, no shuffle port), 2 x mr multiply-adds. The loop is not unrolled: measured, unrolling
 * by 2 or 4 makes V8 hoist the next B loads and run out of registers (10-30 % slower).
 *
 * `init` says where the accumulators start: INIT_FROM_C (a later K block adds to C), INIT_ROW_BIAS
 * (bias[i] of the tile's row i, at `bias` + 4i: convolution, one bias per output channel) or
 * INIT_COLUMN_BIAS (the 8 values at `bias`: inner product, one bias per output column).
 * Written by hand in one pattern per mr (no generics over values in AssemblyScript).
 */
import { madd } from './madd';

/** Accumulators start from C. */
export const INIT_FROM_C: i32 = 0;
/** Accumulators start from one bias per row (splat). */
export const INIT_ROW_BIAS: i32 = 1;
/** Accumulators start from one bias per column (the same 8 values on every row). */
export const INIT_COLUMN_BIAS: i32 = 2;

/**
 * The 1 x 8 tile (see the file comment). One row has only two accumulators, so even and odd k
 * accumulate apart and meet at the end: four independent add chains instead of two, which the
 * inner product of a single image (a 1-row A) is latency-bound on otherwise.
 */
export function tile1x8(kc: i32, a: usize, b: usize, bStride: usize, c: usize, ldc: usize, init: i32, bias: usize): void {
  let c00: v128, c01: v128;
  if (init == INIT_FROM_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
  } else if (init == INIT_ROW_BIAS) {
    c00 = v128.load32_splat(bias); c01 = c00;
  } else {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
  }
  let d00 = f32x4.splat(0), d01 = f32x4.splat(0);
  let p = 0;
  for (; p + 2 <= kc; p += 2) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a); c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const e0 = v128.load(b + bStride), e1 = v128.load(b + bStride, 16);
    const a1 = v128.load32_splat(a, 4); d00 = madd(a1, e0, d00); d01 = madd(a1, e1, d01);
    a += 8;
    b += bStride * 2;
  }
  if (p < kc) {
    const a0 = v128.load32_splat(a); c00 = madd(a0, v128.load(b), c00); c01 = madd(a0, v128.load(b, 16), c01);
  }
  v128.store(c, f32x4.add(c00, d00)); v128.store(c, f32x4.add(c01, d01), 16);
}

/** The 2 x 8 tile (see the file comment). */
export function tile2x8(kc: i32, a: usize, b: usize, bStride: usize, c: usize, ldc: usize, init: i32, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128;
  if (init == INIT_FROM_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + 1 * ldc); c11 = v128.load(c + 1 * ldc, 16);
  } else if (init == INIT_ROW_BIAS) {
    c00 = v128.load32_splat(bias); c01 = c00;
    c10 = v128.load32_splat(bias, 4); c11 = c10;
  } else {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01;
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a); c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4); c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    a += 8;
    b += bStride;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + 1 * ldc, c10); v128.store(c + 1 * ldc, c11, 16);
}

/** The 3 x 8 tile (see the file comment). */
export function tile3x8(kc: i32, a: usize, b: usize, bStride: usize, c: usize, ldc: usize, init: i32, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128;
  if (init == INIT_FROM_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + 1 * ldc); c11 = v128.load(c + 1 * ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
  } else if (init == INIT_ROW_BIAS) {
    c00 = v128.load32_splat(bias); c01 = c00;
    c10 = v128.load32_splat(bias, 4); c11 = c10;
    c20 = v128.load32_splat(bias, 8); c21 = c20;
  } else {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01;
    c20 = c00; c21 = c01;
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a); c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4); c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a, 8); c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    a += 12;
    b += bStride;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + 1 * ldc, c10); v128.store(c + 1 * ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
}

/** The 4 x 8 tile (see the file comment). */
export function tile4x8(kc: i32, a: usize, b: usize, bStride: usize, c: usize, ldc: usize, init: i32, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (init == INIT_FROM_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + 1 * ldc); c11 = v128.load(c + 1 * ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
  } else if (init == INIT_ROW_BIAS) {
    c00 = v128.load32_splat(bias); c01 = c00;
    c10 = v128.load32_splat(bias, 4); c11 = c10;
    c20 = v128.load32_splat(bias, 8); c21 = c20;
    c30 = v128.load32_splat(bias, 12); c31 = c30;
  } else {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01;
    c20 = c00; c21 = c01;
    c30 = c00; c31 = c01;
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a); c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4); c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a, 8); c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a, 12); c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    a += 16;
    b += bStride;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + 1 * ldc, c10); v128.store(c + 1 * ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/** The 5 x 8 tile (see the file comment). */
export function tile5x8(kc: i32, a: usize, b: usize, bStride: usize, c: usize, ldc: usize, init: i32, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128, c40: v128, c41: v128;
  if (init == INIT_FROM_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + 1 * ldc); c11 = v128.load(c + 1 * ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
    c40 = v128.load(c + 4 * ldc); c41 = v128.load(c + 4 * ldc, 16);
  } else if (init == INIT_ROW_BIAS) {
    c00 = v128.load32_splat(bias); c01 = c00;
    c10 = v128.load32_splat(bias, 4); c11 = c10;
    c20 = v128.load32_splat(bias, 8); c21 = c20;
    c30 = v128.load32_splat(bias, 12); c31 = c30;
    c40 = v128.load32_splat(bias, 16); c41 = c40;
  } else {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01;
    c20 = c00; c21 = c01;
    c30 = c00; c31 = c01;
    c40 = c00; c41 = c01;
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a); c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4); c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a, 8); c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a, 12); c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    const a4 = v128.load32_splat(a, 16); c40 = madd(a4, b0, c40); c41 = madd(a4, b1, c41);
    a += 20;
    b += bStride;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + 1 * ldc, c10); v128.store(c + 1 * ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
  v128.store(c + 4 * ldc, c40); v128.store(c + 4 * ldc, c41, 16);
}

/** The 6 x 8 tile (see the file comment). */
export function tile6x8(kc: i32, a: usize, b: usize, bStride: usize, c: usize, ldc: usize, init: i32, bias: usize): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128, c40: v128, c41: v128, c50: v128, c51: v128;
  if (init == INIT_FROM_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + 1 * ldc); c11 = v128.load(c + 1 * ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
    c40 = v128.load(c + 4 * ldc); c41 = v128.load(c + 4 * ldc, 16);
    c50 = v128.load(c + 5 * ldc); c51 = v128.load(c + 5 * ldc, 16);
  } else if (init == INIT_ROW_BIAS) {
    c00 = v128.load32_splat(bias); c01 = c00;
    c10 = v128.load32_splat(bias, 4); c11 = c10;
    c20 = v128.load32_splat(bias, 8); c21 = c20;
    c30 = v128.load32_splat(bias, 12); c31 = c30;
    c40 = v128.load32_splat(bias, 16); c41 = c40;
    c50 = v128.load32_splat(bias, 20); c51 = c50;
  } else {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01;
    c20 = c00; c21 = c01;
    c30 = c00; c31 = c01;
    c40 = c00; c41 = c01;
    c50 = c00; c51 = c01;
  }
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a); c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4); c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a, 8); c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a, 12); c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    const a4 = v128.load32_splat(a, 16); c40 = madd(a4, b0, c40); c41 = madd(a4, b1, c41);
    const a5 = v128.load32_splat(a, 20); c50 = madd(a5, b0, c50); c51 = madd(a5, b1, c51);
    a += 24;
    b += bStride;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + 1 * ldc, c10); v128.store(c + 1 * ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
  v128.store(c + 4 * ldc, c40); v128.store(c + 4 * ldc, c41, 16);
  v128.store(c + 5 * ldc, c50); v128.store(c + 5 * ldc, c51, 16);
}

/** Runs the mr x 8 tile, mr in 1..6 (the driver never asks for more than MR rows). */
export function tile(mr: i32, kc: i32, a: usize, b: usize, bStride: usize, c: usize, ldc: usize, init: i32, bias: usize): void {
  switch (mr) {
    case 1: tile1x8(kc, a, b, bStride, c, ldc, init, bias); break;
    case 2: tile2x8(kc, a, b, bStride, c, ldc, init, bias); break;
    case 3: tile3x8(kc, a, b, bStride, c, ldc, init, bias); break;
    case 4: tile4x8(kc, a, b, bStride, c, ldc, init, bias); break;
    case 5: tile5x8(kc, a, b, bStride, c, ldc, init, bias); break;
    case 6: tile6x8(kc, a, b, bStride, c, ldc, init, bias); break;
    default: unreachable();
  }
}
