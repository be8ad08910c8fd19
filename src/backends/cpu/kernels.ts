import type { LayerType } from '../../ir/network.js';
import { convolutionWasm } from './wasm/convolution.js';
import { innerProductWasm } from './wasm/inner-product.js';
import { poolingWasm } from './wasm/pooling.js';
import { reluWasm } from './wasm/relu.js';
import { convolutionFast } from './fast/convolution.js';
import { innerProductFast } from './fast/inner-product.js';
import { lrnFast } from './fast/lrn.js';
import { poolingFast } from './fast/pooling.js';
import { reluFast } from './fast/relu.js';
import { concatFast, identityFast, splitFast } from './fast/routing.js';
import type { KernelVariant, LayerKernel } from './kernel-types.js';
import { concatReference } from './reference/concat.js';
import { convolutionReference } from './reference/convolution.js';
import { dropoutReference } from './reference/dropout.js';
import { flattenReference } from './reference/flatten.js';
import { innerProductReference } from './reference/inner-product.js';
import { lrnReference } from './reference/lrn.js';
import { poolingReference } from './reference/pooling.js';
import { reluReference } from './reference/relu.js';
import { softmaxReference } from './reference/softmax.js';
import { splitReference } from './reference/split.js';

/** The plain loops: ground truth for every other implementation. */
export const REFERENCE_KERNELS: Readonly<Record<LayerType, LayerKernel>> = {
  Convolution: convolutionReference,
  Pooling: poolingReference,
  LRN: lrnReference,
  InnerProduct: innerProductReference,
  ReLU: reluReference,
  Dropout: dropoutReference,
  Softmax: softmaxReference,
  Concat: concatReference,
  Split: splitReference,
  Flatten: flattenReference,
};

/**
 * The optimised kernels. Softmax is the reference loop: one pass over a final layer of a few
 * thousand values.
 */
export const FAST_KERNELS: Readonly<Record<LayerType, LayerKernel>> = {
  Convolution: convolutionFast,
  Pooling: poolingFast,
  LRN: lrnFast,
  InnerProduct: innerProductFast,
  ReLU: reluFast,
  Dropout: identityFast,
  Softmax: softmaxReference,
  Concat: concatFast,
  Split: splitFast,
  Flatten: identityFast,
};

/**
 * The WebAssembly SIMD kernels (src/backends/cpu/wasm/, wasm/assembly/): Convolution and InnerProduct
 * (where the MACs are), and Pooling and ReLU, which in TypeScript took a quarter of a dense
 * network's time once the convolutions ran in WebAssembly. The other layers (copies, LRN, the
 * final softmax) keep the fast TypeScript kernels.
 */
export const WASM_KERNELS: Readonly<Record<LayerType, LayerKernel>> = {
  ...FAST_KERNELS,
  Convolution: convolutionWasm,
  InnerProduct: innerProductWasm,
  Pooling: poolingWasm,
  ReLU: reluWasm,
};

/** Every kernel table by variant name. */
export const KERNEL_TABLES: Readonly<Record<KernelVariant, Readonly<Record<LayerType, LayerKernel>>>> = {
  fast: FAST_KERNELS,
  reference: REFERENCE_KERNELS,
  wasm: WASM_KERNELS,
};

/** The kernel of `variant` for layers of type `type`. */
export function kernelFor(type: LayerType, variant: KernelVariant): LayerKernel {
  return KERNEL_TABLES[variant][type];
}
