import type { LayerParams } from '../network.js';
import { booleanOr, layerError, numberOr, subMessage, type LayerDefinition } from './layer-definition.js';

type Scale = Extract<LayerParams, { type: 'Scale' }>;

/**
 * Caffe's Scale with its factors as a learned blob: y = x * weight[c] (+ bias[c]) per channel. The
 * two-bottom form (factors from a second blob) and other axes are refused at parse.
 */
export const scale: LayerDefinition<Scale> = {
  type: 'Scale',
  v1Names: [],
  // Two bottoms are accepted here only to refuse Caffe's two-bottom form with a sentence of its own.
  bottoms: [1, 2],
  tops: [1, 1],
  parse(layer, ctx) {
    const bottoms = layer.bottom as readonly string[] | undefined;
    if (bottoms && bottoms.length > 1) {
      throw layerError(ctx, 'the two-bottom Scale (factors read from a second blob) is not supported: only a Scale with learned factors and one bottom is');
    }
    const p = subMessage(layer, 'scale_param');
    const axis = numberOr(p, 'axis', 1);
    const numAxes = numberOr(p, 'num_axes', 1);
    if ((axis !== 1 && axis !== -3) || numAxes !== 1) {
      throw layerError(ctx, `only per-channel scaling (axis 1, num_axes 1) is supported, found axis ${axis}, num_axes ${numAxes}`);
    }
    return { type: 'Scale', scale: { biasTerm: booleanOr(p, 'bias_term', false) } };
  },
  outputShapes(_p, inputs, _tops, ctx) {
    if (inputs.length !== 1) throw layerError(ctx, `takes one bottom, found ${inputs.length}`);
    return [inputs[0]];
  },
  blobShapes: ({ scale: s }, [input]) => (s.biasTerm ? [[input.c], [input.c]] : [[input.c]]),
  macs: () => 0,
};
