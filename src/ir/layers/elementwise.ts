import type { LayerParams } from '../network.js';
import { layerError, numberOr, optionalNumber, subMessage, type LayerDefinition } from './layer-definition.js';

/** Layers whose output has the input's shape and no parameters worth a file of their own. */

type Relu = Extract<LayerParams, { type: 'ReLU' }>;
type Dropout = Extract<LayerParams, { type: 'Dropout' }>;
type Softmax = Extract<LayerParams, { type: 'Softmax' }>;
type Clip = Extract<LayerParams, { type: 'Clip' }>;
type Sigmoid = Extract<LayerParams, { type: 'Sigmoid' }>;

const sameShape = {
  bottoms: [1, 1] as const,
  tops: [1, 1] as const,
  outputShapes: (_p: unknown, inputs: readonly { c: number; h: number; w: number }[]) => [inputs[0]],
  blobShapes: () => [],
  macs: () => 0,
};

export const relu: LayerDefinition<Relu> = {
  ...sameShape,
  type: 'ReLU',
  v1Names: ['RELU'],
  parse: (layer) => ({ type: 'ReLU', relu: { negativeSlope: numberOr(subMessage(layer, 'relu_param'), 'negative_slope', 0) } }),
};

/** Dropout is the identity at inference (Caffe scales during training, not at test time). */
export const dropout: LayerDefinition<Dropout> = {
  ...sameShape,
  type: 'Dropout',
  v1Names: ['DROPOUT'],
  parse: () => ({ type: 'Dropout' }),
};

/** Softmax over channels, at every spatial position. */
export const softmax: LayerDefinition<Softmax> = {
  ...sameShape,
  type: 'Softmax',
  v1Names: ['SOFTMAX'],
  parse(layer, ctx) {
    if (numberOr(subMessage(layer, 'softmax_param'), 'axis', 1) !== 1) throw layerError(ctx, 'only axis: 1 is supported');
    return { type: 'Softmax' };
  },
};

/** Clamp to [min, max] (Caffe's Clip; ReLU6 is min 0, max 6). */
export const clip: LayerDefinition<Clip> = {
  ...sameShape,
  type: 'Clip',
  v1Names: [],
  parse(layer, ctx) {
    const p = subMessage(layer, 'clip_param');
    const min = optionalNumber(p, 'min');
    const max = optionalNumber(p, 'max');
    if (min === undefined || max === undefined) throw layerError(ctx, 'clip_param.min and clip_param.max are required');
    if (Number.isNaN(min) || Number.isNaN(max) || min > max) throw layerError(ctx, `clip_param.min (${min}) must not exceed clip_param.max (${max})`);
    return { type: 'Clip', clip: { min, max } };
  },
};

/** The logistic function 1 / (1 + exp(-x)). */
export const sigmoid: LayerDefinition<Sigmoid> = {
  ...sameShape,
  type: 'Sigmoid',
  v1Names: ['SIGMOID'],
  parse: () => ({ type: 'Sigmoid' }),
};
