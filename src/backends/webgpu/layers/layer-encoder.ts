/**
 * The WebGPU layer registry: per layer type, the encoder that appends its dispatches to a plan.
 * Routing layers that move no data (Dropout at inference, Flatten, Split) are resolved by the
 * scheduler (an alias or a copy) and have no encoder.
 */
import type { Layer, LayerType } from '../../../ir/network.js';
import type { EncodeContext, FusedRelu } from '../encode-context.js';
import { encodeConcat } from './concat.js';
import { encodeConvolution } from './convolution.js';
import { encodeEltwise } from './eltwise.js';
import { encodeInnerProduct } from './inner-product.js';
import { encodeLrn } from './lrn.js';
import { encodePointwise } from './clip-sigmoid.js';
import { encodePooling } from './pooling.js';
import { encodePrelu } from './prelu.js';
import { encodeRelu } from './relu.js';
import { encodeScale } from './scale.js';
import { encodeSoftmax } from './softmax.js';

// Re-exported for the scheduler, which imports it from here.

/** Appends the dispatches of one layer to the plan. */
export type LayerEncoder = (ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu) => Promise<void>;

/** Per layer type, its dense encoder. */
export const LAYER_ENCODERS: Partial<Record<LayerType, LayerEncoder>> = {
  Convolution: encodeConvolution,
  InnerProduct: encodeInnerProduct,
  Pooling: encodePooling,
  LRN: encodeLrn,
  ReLU: encodeRelu,
  Softmax: encodeSoftmax,
  Concat: encodeConcat,
  Scale: encodeScale,
  Eltwise: encodeEltwise,
  PReLU: encodePrelu,
  Clip: encodePointwise,
  Sigmoid: encodePointwise,
};
