import type { LayerParams } from '../network.js';
import { booleanOr, layerError, numberOr, requirePositive, subMessage, type LayerDefinition } from './layer-definition.js';

type InnerProduct = Extract<LayerParams, { type: 'InnerProduct' }>;

/** Fully connected layer over the whole CHW input of an image; output C x 1 x 1. */
export const innerProduct: LayerDefinition<InnerProduct> = {
  type: 'InnerProduct',
  v1Names: ['INNER_PRODUCT'],
  bottoms: [1, 1],
  tops: [1, 1],
  parse(layer, ctx) {
    const p = subMessage(layer, 'inner_product_param');
    if (p.num_output === undefined) throw layerError(ctx, 'inner_product_param.num_output is required');
    if (numberOr(p, 'axis', 1) !== 1) throw layerError(ctx, 'only axis: 1 is supported');
    if (booleanOr(p, 'transpose', false)) throw layerError(ctx, 'transpose: true is not supported');
    return {
      type: 'InnerProduct',
      ip: { numOutput: requirePositive(p.num_output as number, 'num_output', ctx), biasTerm: booleanOr(p, 'bias_term', true) },
    };
  },
  outputShapes: ({ ip }) => [{ c: ip.numOutput, h: 1, w: 1 }],
  blobShapes({ ip }, [input]) {
    const weight = [ip.numOutput, input.c * input.h * input.w];
    return ip.biasTerm ? [weight, [ip.numOutput]] : [weight];
  },
  macs: ({ ip }, [input]) => ip.numOutput * input.c * input.h * input.w,
};
