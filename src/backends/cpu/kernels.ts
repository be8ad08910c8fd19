import type { LayerType } from '../../ir/network.js';
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

/** Every kernel table by variant name. */
export const KERNEL_TABLES: Readonly<Record<KernelVariant, Readonly<Record<LayerType, LayerKernel>>>> = {
  fast: FAST_KERNELS,
  reference: REFERENCE_KERNELS,
};

/** The kernel of `variant` for layers of type `type`. */
export function kernelFor(type: LayerType, variant: KernelVariant): LayerKernel {
  return KERNEL_TABLES[variant][type];
}
