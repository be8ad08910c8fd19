/**
 * Loading the WebAssembly kernels (wasm/assembly/, embedded as base64 by scripts/embed-assets.mjs)
 * the same way in Node, Deno and browsers: no file reads, no node: modules, asynchronous
 * instantiation (browsers refuse to compile large modules synchronously on the main thread).
 *
 * Two builds exist: `relaxed-simd` (f32x4.relaxed_madd: one FMA per multiply-add, and a 6-row
 * micro-tile) and `simd` (multiply then add, 5-row tile). `initWasmKernels()` picks relaxed SIMD
 * where the engine validates it (Chrome >= 114, Node >= 22, Deno), plain SIMD elsewhere (Node 20
 * without --experimental-wasm-relaxed-simd); both can be forced by name so tests cover both.
 */
import { DyveError } from '../../../errors.js';
import { WASM_KERNELS_RELAXED, WASM_KERNELS_SIMD } from '../../../generated/embedded-assets.js';
import type { TileKernels } from '../dynamic/tile-kernels.js';
import { decodeBase64 } from './base64.js';
import { WASM_BUILDS, type WasmBuild } from './wasm-builds.js';
import { instantiateWasmTileKernels } from './wasm-tile-kernels.js';
import { WasmKernels, type WasmKernelExports } from './wasm-kernels.js';

/** Re-exported for the loader's callers. */
export { WASM_BUILDS, type WasmBuild };

const BASE64: Readonly<Record<WasmBuild, string>> = { 'relaxed-simd': WASM_KERNELS_RELAXED, simd: WASM_KERNELS_SIMD };

const bytesCache = new Map<WasmBuild, Uint8Array<ArrayBuffer>>();

function buildBytes(build: WasmBuild): Uint8Array<ArrayBuffer> {
  let bytes = bytesCache.get(build);
  if (!bytes) {
    bytes = decodeBase64(BASE64[build]);
    bytesCache.set(build, bytes);
  }
  return bytes;
}

/** Whether this JavaScript engine can run `build` (WebAssembly.validate of its bytes). */
export function wasmBuildSupported(build: WasmBuild): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(buildBytes(build));
}

const instances = new Map<WasmBuild, Promise<WasmKernels>>();
let tileKernels: Promise<TileKernels> | null = null;

/** The dynamic convolution's WebAssembly loops: one instance per thread, whichever dense build runs (they need plain SIMD only). */
function wasmTileKernels(): Promise<TileKernels> {
  tileKernels ??= instantiateWasmTileKernels();
  return tileKernels;
}
let active: WasmKernels | null = null;

async function instantiate(build: WasmBuild): Promise<WasmKernels> {
  if (!wasmBuildSupported(build)) {
    throw new DyveError(
      build === 'simd'
        ? 'this JavaScript engine has no WebAssembly SIMD, which the wasm kernels need (Node >= 16.4, Chrome >= 91, Firefox >= 89, Safari >= 16.4, Deno): use --backend cpu'
        : 'this JavaScript engine has no WebAssembly relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd): use the simd build',
    );
  }
  const abort = (): never => {
    throw new DyveError('the wasm kernels aborted (an internal error: please report it)');
  };
  const { instance } = await WebAssembly.instantiate(buildBytes(build), { env: { abort } });
  return new WasmKernels(build, instance.exports as unknown as WasmKernelExports, await wasmTileKernels());
}

/**
 * Instantiates the kernels once per build and makes them the ones the `wasm` kernel variant runs:
 * `build` when given (a DyveError when the engine cannot run it), else the fastest build this
 * engine validates. Later calls without `build` return the active instance.
 */
export async function initWasmKernels(build?: WasmBuild): Promise<WasmKernels> {
  if (!build && active) return active;
  const chosen = build ?? WASM_BUILDS.find(wasmBuildSupported) ?? 'simd';
  let pending = instances.get(chosen);
  if (!pending) {
    pending = instantiate(chosen);
    instances.set(chosen, pending);
    // A failed instantiation is not cached: a later call may try again (or another build).
    pending.catch(() => instances.delete(chosen));
  }
  active = await pending;
  return active;
}

/**
 * The instance the `wasm` kernels run on, for the synchronous kernel calls; throws when
 * initWasmKernels() has not completed (CpuBackend.run awaits it for you).
 */
export function activeWasmKernels(): WasmKernels {
  if (!active) {
    throw new DyveError('the wasm kernels are not loaded yet: await initWasmKernels() first (CpuBackend.run does it; runSync and runLayer do not)');
  }
  return active;
}
