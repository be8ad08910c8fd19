/** Typed access to a layer's parameters inside the per-type translations. */
import type { ConvolutionParams, Layer, LayerParams, LayerType, LrnParams, PoolingParams } from '../../ir/network.js';

function paramsOf<T extends LayerType>(layer: Layer, type: T): Extract<LayerParams, { type: T }> {
  if (layer.params.type !== type) throw new Error(`internal: layer '${layer.name}' is a ${layer.params.type}, not a ${type}`);
  return layer.params as Extract<LayerParams, { type: T }>;
}

export const convParams = (layer: Layer): ConvolutionParams => paramsOf(layer, 'Convolution').conv;
export const poolParams = (layer: Layer): PoolingParams => paramsOf(layer, 'Pooling').pool;
export const lrnParams = (layer: Layer): LrnParams => paramsOf(layer, 'LRN').lrn;
export const reluSlope = (layer: Layer): number => paramsOf(layer, 'ReLU').relu.negativeSlope;
