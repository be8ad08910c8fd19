/**
 * The dense CPU kernels of dyvedeep in WebAssembly SIMD (src/backends/cpu/wasm/ is the host side):
 * Convolution and InnerProduct (packed GEMM, register-blocked micro-kernels), Pooling and ReLU.
 * No allocator: the host owns linear memory above heapBase() (packed weights, then per-call
 * scratch) and passes byte addresses.
 */
import { MR } from './madd';

export { convolution, convolutionScratchBytes } from './convolution';
export { gemm, gemmScratchBytes } from './gemm';
export { innerProduct, innerProductScratchBytes } from './inner-product';
export { packColumnPanels, packRowPanels } from './pack';
export { pooling, poolingScratchBytes } from './pooling';
export { relu } from './relu';

/** First byte the host may use (after the module's static data). */
export function heapBase(): usize {
  return __heap_base;
}

/** Rows of the largest micro-tile of this build (madd.ts MR): 5 plain SIMD, 6 relaxed. */
export function tileRows(): i32 {
  return MR;
}
export { channelsLastRows, tileConvolution, tileConvolutionScratchBytes } from './tile-convolution';
