/** Typed access to a layer's parameters and weights, checked, for every backend's kernels. */
import { NetworkError } from '../errors.js';
import type {
  ClipParams,
  ConvolutionParams,
  EltwiseParams,
  InnerProductParams,
  Layer,
  LayerParams,
  LayerWeights,
  LrnParams,
  PoolingParams,
  PreluParams,
  ReluParams,
  ScaleParams,
} from './network.js';

type ParamsOf<T extends LayerParams['type']> = Extract<LayerParams, { type: T }>;

function wrongType(layer: Layer, expected: string): NetworkError {
  return new NetworkError(`layer '${layer.name}': a ${expected} kernel was given a ${layer.params.type} layer`);
}

function paramsOf<T extends LayerParams['type']>(layer: Layer, type: T): ParamsOf<T> {
  if (layer.params.type !== type) throw wrongType(layer, type);
  return layer.params as ParamsOf<T>;
}

/** The convolution parameters of `layer`; throws if it is not a Convolution. */
export function convParams(layer: Layer): ConvolutionParams {
  return paramsOf(layer, 'Convolution').conv;
}

/** The pooling parameters of `layer`; throws if it is not a Pooling layer. */
export function poolParams(layer: Layer): PoolingParams {
  return paramsOf(layer, 'Pooling').pool;
}

/** The LRN parameters of `layer`; throws if it is not an LRN layer. */
export function lrnParams(layer: Layer): LrnParams {
  return paramsOf(layer, 'LRN').lrn;
}

/** The inner-product parameters of `layer`; throws if it is not an InnerProduct. */
export function ipParams(layer: Layer): InnerProductParams {
  return paramsOf(layer, 'InnerProduct').ip;
}

/** The ReLU parameters of `layer`; throws if it is not a ReLU. */
export function reluParams(layer: Layer): ReluParams {
  return paramsOf(layer, 'ReLU').relu;
}

/** The Scale parameters of `layer`; throws if it is not a Scale. */
export function scaleParams(layer: Layer): ScaleParams {
  return paramsOf(layer, 'Scale').scale;
}

/** The Eltwise parameters of `layer`; throws if it is not an Eltwise. */
export function eltwiseParams(layer: Layer): EltwiseParams {
  return paramsOf(layer, 'Eltwise').eltwise;
}

/** The PReLU parameters of `layer`; throws if it is not a PReLU. */
export function preluParams(layer: Layer): PreluParams {
  return paramsOf(layer, 'PReLU').prelu;
}

/** The Clip parameters of `layer`; throws if it is not a Clip. */
export function clipParams(layer: Layer): ClipParams {
  return paramsOf(layer, 'Clip').clip;
}

/**
 * The weights of a weighted layer (Convolution, InnerProduct, Scale, PReLU), checked against the sizes the kernels index
 * with, so a short array fails here with a sentence instead of producing NaNs.
 */
export function checkedWeights(layer: Layer, weightSize: number, biasTerm: boolean, biasSize: number): LayerWeights {
  const w = layer.weights;
  if (!w) throw new NetworkError(`layer '${layer.name}' (${layer.params.type}) has no weights loaded`);
  if (w.weight.length !== weightSize) {
    throw new NetworkError(`layer '${layer.name}': weight has ${w.weight.length} values, expected ${weightSize}`);
  }
  if (biasTerm) {
    if (!w.bias) throw new NetworkError(`layer '${layer.name}': bias_term is true but no bias is loaded`);
    if (w.bias.length !== biasSize) {
      throw new NetworkError(`layer '${layer.name}': bias has ${w.bias.length} values, expected ${biasSize}`);
    }
  }
  return w;
}
