import type { LayerParams } from '../network.js';
import { booleanOr, subMessage, type LayerDefinition } from './layer-definition.js';

type Prelu = Extract<LayerParams, { type: 'PReLU' }>;

/** ReLU with learned negative slopes: one per channel, or one for all (`channel_shared`). */
export const prelu: LayerDefinition<Prelu> = {
  type: 'PReLU',
  v1Names: [],
  bottoms: [1, 1],
  tops: [1, 1],
  parse: (layer) => ({ type: 'PReLU', prelu: { channelShared: booleanOr(subMessage(layer, 'prelu_param'), 'channel_shared', false) } }),
  outputShapes: (_p, [input]) => [input],
  blobShapes: ({ prelu: p }, [input]) => [[p.channelShared ? 1 : input.c]],
  macs: () => 0,
};
