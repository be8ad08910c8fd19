/**
 * The float64 workspace of the fast dynamic convolution (src/backends/cpu/dynamic/tile-kernels.ts), which
 * this module does not own: it imports the memory the host made (createTsTileKernels().memory), where the
 * host's Float64Array view starts at WS_BASE. Kernels take WORKSPACE INDICES (in doubles, as the
 * TypeScript kernels do) and the byte addresses of small staged lists (Int32 / Float64) above it.
 */

/** Byte offset of workspace index 0: the first page is left to this module's static data. */
export const WS_BASE: usize = 65536;

/** Byte address of workspace index `i`. */
// @ts-ignore: decorator
@inline
export function ws(i: i32): usize {
  return WS_BASE + (<usize>i << 3);
}

/** Workspace value `i`. */
// @ts-ignore: decorator
@inline
export function wsLoad(i: i32): f64 {
  return load<f64>(WS_BASE + (<usize>i << 3));
}

/** Element `k` of the staged Int32 list at `list`. */
// @ts-ignore: decorator
@inline
export function at(list: usize, k: i32): i32 {
  return load<i32>(list + (<usize>k << 2));
}
