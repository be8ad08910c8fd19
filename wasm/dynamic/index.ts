/**
 * The hot loops of the fast dynamic convolution (SPET's significant-channel quads and
 * completions, SDSS's grid and failing neurons, the SPET-free tiles over SFMA's kept maps) in
 * WebAssembly f64x2, on the workspace memory the host imports into this module
 * (src/backends/cpu/dynamic/tile-kernels.ts; host side: src/backends/cpu/wasm/wasm-tile-kernels.ts). The same
 * sums in the same order as the TypeScript loops: the decisions they lead to are the same.
 */
export { accumulatePanels, accumulateQuadTile, accumulateSpetQuads } from './tiles';
export { accumulatePacked, accumulatePlanes } from './neurons';
export { buildPatches } from './patches';

/** First byte after this module's static data (the host checks it is below the workspace). */
export function heapBase(): usize {
  return __heap_base;
}
