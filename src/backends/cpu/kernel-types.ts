import type { Layer } from '../../ir/network.js';
import type { OpCounts } from '../../records/counters.js';


/**
 * A CPU kernel: computes every top of `layer` for `batch` images from its bottoms (each holding
 * batch x C x H x W float32 values, CHW per image) and adds what it executed to `counts`.
 * Kernels never write to their inputs; an output may be an input array itself (identity layers).
 */
export type LayerKernel = (layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts) => Float32Array[];

/**
 * Which implementation of the kernels runs: the plain loops (`reference`), the optimised
 * TypeScript ones (`fast`), or the WebAssembly SIMD kernels for Convolution, InnerProduct, Pooling
 * and ReLU with the fast TypeScript kernels for the other layer types (`wasm`; needs
 * `await initWasmKernels()`, which CpuBackend.run does).
 */
export type KernelVariant = 'fast' | 'reference' | 'wasm';
