import type { LayerParams, Shape } from '../network.js';
import { layerError, numberOr, subMessage, type LayerDefinition } from './layer-definition.js';

/** Layers that only move data: Concat, Split, Flatten. */

type Concat = Extract<LayerParams, { type: 'Concat' }>;
type Split = Extract<LayerParams, { type: 'Split' }>;
type Flatten = Extract<LayerParams, { type: 'Flatten' }>;

const noWeights = { blobShapes: () => [], macs: () => 0 };

/** Concatenation along channels (Caffe's default axis). */
export const concat: LayerDefinition<Concat> = {
  ...noWeights,
  type: 'Concat',
  v1Names: ['CONCAT'],
  bottoms: [1, Infinity],
  tops: [1, 1],
  parse(layer, ctx) {
    const p = subMessage(layer, 'concat_param');
    const axis = p.axis !== undefined ? numberOr(p, 'axis', 1) : numberOr(p, 'concat_dim', 1);
    if (axis !== 1 && axis !== -3) throw layerError(ctx, `only concatenation along channels (axis 1) is supported, found axis ${axis}`);
    return { type: 'Concat' };
  },
  outputShapes(_p, inputs, _tops, ctx) {
    const { h, w } = inputs[0];
    for (const s of inputs) {
      if (s.h !== h || s.w !== w) {
        throw layerError(ctx, `inputs must share height and width: ${inputs.map((i) => `${i.c}x${i.h}x${i.w}`).join(', ')}`);
      }
    }
    return [{ c: inputs.reduce((sum, s) => sum + s.c, 0), h, w }];
  },
};

/** Copies its input to every top. */
export const split: LayerDefinition<Split> = {
  ...noWeights,
  type: 'Split',
  v1Names: ['SPLIT'],
  bottoms: [1, 1],
  tops: [1, Infinity],
  parse: () => ({ type: 'Split' }),
  outputShapes: (_p, [input], tops) => Array.from({ length: tops }, () => input),
};

/** Flattens C x H x W to (C*H*W) x 1 x 1; the memory layout does not change. */
export const flatten: LayerDefinition<Flatten> = {
  ...noWeights,
  type: 'Flatten',
  v1Names: ['FLATTEN'],
  bottoms: [1, 1],
  tops: [1, 1],
  parse(layer, ctx) {
    const p = subMessage(layer, 'flatten_param');
    if (numberOr(p, 'axis', 1) !== 1 || numberOr(p, 'end_axis', -1) !== -1) {
      throw layerError(ctx, 'only the default flatten (axis 1 to the end) is supported');
    }
    return { type: 'Flatten' };
  },
  outputShapes: (_p, [input]: readonly Shape[]) => [{ c: input.c * input.h * input.w, h: 1, w: 1 }],
};
