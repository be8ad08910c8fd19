/**
 * The one multiply-add of the micro-kernels: c + a * b on four float32 lanes.
 *
 * The plain SIMD build (what every engine with WebAssembly SIMD runs) multiplies then adds: two
 * instructions, two roundings. The relaxed-SIMD build (`--enable relaxed-simd`, chosen at run time
 * where the engine validates it) uses f32x4.relaxed_madd, which V8 lowers to one FMA where the CPU
 * has one (one rounding, or two where it does not: both are within the parity tolerance). The
 * branch is on a compile-time constant, so each build holds one of the two bodies.
 */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * Rows of the largest micro-tile each build uses (`MR`). The tile is MR rows x 8 columns of
 * float32 accumulators, two v128 per row. V8 on x64 allocates 15 of the 16 xmm registers:
 * - plain SIMD: 2 x 5 accumulators + 2 B vectors + the broadcast A value + the product temporary
 *   = 14; a sixth row needs 16 and spills (measured: 6 x 8 runs at 2/3 the speed of 5 x 8).
 * - relaxed SIMD: the fused multiply-add needs no temporary, so 2 x 6 + 2 + 1 = 15 fits.
 */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
