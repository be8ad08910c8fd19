import type { LayerParams } from '../network.js';
import { layerError, numberOr, subMessage, type LayerDefinition } from './layer-definition.js';

/** Layers whose output has the input's shape and no parameters worth a file of their own. */

type Relu = Extract<LayerParams, { type: 'ReLU' }>;
type Dropout = Extract<LayerParams, { type: 'Dropout' }>;
type Softmax = Extract<LayerParams, { type: 'Softmax' }>;

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
