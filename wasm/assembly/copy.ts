/**
 * Short copies (a row of a plane, a few hundred bytes): V8 compiles memory.copy to a call into
 * the runtime, whose fixed cost dominated the bordering of small planes; this loop is inlined.
 */
// @ts-ignore: decorator
@inline
export function copyBytes(dst: usize, src: usize, bytes: usize): void {
  const end = src + bytes;
  let s = src;
  let d = dst;
  for (; s + 16 <= end; s += 16, d += 16) v128.store(d, v128.load(s));
  for (; s < end; s += 4, d += 4) f32.store(d, f32.load(s));
}
