/**
 * ReLU over n float32 values in place: y = x > 0 ? x : slope * x, the reference's comparison
 * (f32x4.pmax(0, x) = 0 < x ? x : 0 for slope 0, so NaN and -0 become 0 as there).
 * A tail of n % 4 values runs one at a time.
 */
export function relu(x: usize, n: i32, slope: f32): void {
  const end = x + <usize>n * 4;
  let p = x;
  const zero = f32x4.splat(0);
  if (slope == 0) {
    for (; p + 16 <= end; p += 16) v128.store(p, f32x4.pmax(zero, v128.load(p)));
    for (; p < end; p += 4) {
      const v = f32.load(p);
      f32.store(p, select<f32>(v, 0, v > 0));
    }
  } else {
    const s = f32x4.splat(slope);
    for (; p + 16 <= end; p += 16) {
      const v = v128.load(p);
      v128.store(p, v128.bitselect(v, f32x4.mul(v, s), f32x4.gt(v, zero)));
    }
    for (; p < end; p += 4) {
      const v = f32.load(p);
      f32.store(p, select<f32>(v, v * slope, v > 0));
    }
  }
}
