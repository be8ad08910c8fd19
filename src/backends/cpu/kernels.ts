import type { LayerType } from '../../ir/network.js';
import { convolutionWasm } from './wasm/convolution.js';
import { innerProductWasm } from './wasm/inner-product.js';
import { poolingWasm } from './wasm/pooling.js';
import { reluWasm } from './wasm/relu.js';
import { clipFast } from './fast/clip.js';
import { convolutionFast } from './fast/convolution.js';
import { eltwiseFast } from './fast/eltwise.js';
import { innerProductFast } from './fast/inner-product.js';
import { lrnFast } from './fast/lrn.js';
import { poolingFast } from './fast/pooling.js';
import { preluFast } from './fast/prelu.js';
import { reluFast } from './fast/relu.js';
import { concatFast, identityFast, splitFast } from './fast/routing.js';
import { scaleFast } from './fast/scale.js';
import type { KernelVariant, LayerKernel } from './kernel-types.js';
import { clipReference } from './reference/clip.js';
import { concatReference } from './reference/concat.js';
import { convolutionReference } from './reference/convolution.js';
import { dropoutReference } from './reference/dropout.js';
import { eltwiseReference } from './reference/eltwise.js';
import { flattenReference } from './reference/flatten.js';
import { innerProductReference } from './reference/inner-product.js';
import { lrnReference } from './reference/lrn.js';
import { poolingReference } from './reference/pooling.js';
import { preluReference } from './reference/prelu.js';
import { reluReference } from './reference/relu.js';
import { scaleReference } from './reference/scale.js';
import { sigmoidReference } from './reference/sigmoid.js';
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
  Scale: scaleReference,
  Eltwise: eltwiseReference,
  PReLU: preluReference,
  Clip: clipReference,
  Sigmoid: sigmoidReference,
};

/**
 * The optimised kernels. Softmax and Sigmoid are the reference loops: Softmax is one pass over a
 * final layer of a few thousand values, and Sigmoid's time is its exp, which no rewrite avoids.
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
  Scale: scaleFast,
  Eltwise: eltwiseFast,
  PReLU: preluFast,
  Clip: clipFast,
  Sigmoid: sigmoidReference,
};

/**
 * The WebAssembly SIMD kernels (src/backends/cpu/wasm/, wasm/assembly/): Convolution and InnerProduct
 * (where the MACs are), and Pooling and ReLU, which in TypeScript took a quarter of a dense
 * network's time once the convolutions ran in WebAssembly. The other layers (copies, LRN, the
 * final softmax, and the per-value layers of newer networks: Scale, Eltwise, PReLU, Clip, Sigmoid,
 * one or two loads and a store per value, bound by memory rather than arithmetic) keep the fast
 * TypeScript kernels.
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
