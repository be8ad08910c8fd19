import type { LayerParams } from '../network.js';
import { layerError, numberOr, subMessage, type LayerDefinition } from './layer-definition.js';

type Lrn = Extract<LayerParams, { type: 'LRN' }>;

/** Local response normalisation, across channels or within a channel (Caffe defaults). */
export const lrn: LayerDefinition<Lrn> = {
  type: 'LRN',
  v1Names: ['LRN'],
  bottoms: [1, 1],
  tops: [1, 1],
  parse(layer, ctx) {
    const p = subMessage(layer, 'lrn_param');
    const localSize = numberOr(p, 'local_size', 5);
    if (localSize % 2 !== 1) throw layerError(ctx, `lrn_param.local_size must be odd, found ${localSize}`);
    const region = (p.norm_region as string | undefined) ?? 'ACROSS_CHANNELS';
    return {
      type: 'LRN',
      lrn: {
        localSize,
        alpha: numberOr(p, 'alpha', 1),
        beta: numberOr(p, 'beta', 0.75),
        k: numberOr(p, 'k', 1),
        region: region === 'WITHIN_CHANNEL' ? 'within-channel' : 'across-channels',
      },
    };
  },
  outputShapes: (_p, [input]) => [input],
  blobShapes: () => [],
  macs: () => 0,
};
