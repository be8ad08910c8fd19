/**
 * The names of the WebAssembly kernel builds, on their own so that the loader and the instance
 * class both import them downward (no import cycle between wasm-loader.ts and wasm-kernels.ts).
 */

/** The builds of the kernels, fastest first. */
export const WASM_BUILDS = ['relaxed-simd', 'simd'] as const;

/** One build of the kernels (see wasm-loader.ts). */
export type WasmBuild = (typeof WASM_BUILDS)[number];
