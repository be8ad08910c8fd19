import type { LayerParams } from '../network.js';
import { booleanOr, layerError, numberOr, subMessage, type LayerDefinition, type MessageObject } from './layer-definition.js';
import { scale } from './scale.js';

type Scale = Extract<LayerParams, { type: 'Scale' }>;

/** Caffe's BatchNorm epsilon when the prototxt gives none. */
export const BATCH_NORM_DEFAULT_EPS = 1e-5;

/** The epsilon a Caffe BatchNorm adds to its variance (batch_norm_param.eps). */
export function batchNormEpsilon(layer: MessageObject): number {
  return numberOr(subMessage(layer, 'batch_norm_param'), 'eps', BATCH_NORM_DEFAULT_EPS);
}

/**
 * Caffe's BatchNorm at inference: normalizes each channel with the stored mean and variance, a
 * per-channel affine map, so the IR holds it as a Scale with a bias. Its three Caffe blobs (mean,
 * variance, moving-average factor) become that Scale's weight and bias when the weights are read
 * (formats/caffe/batch-norm-blobs.ts); the shapes here are the Scale's.
 */
export const batchNorm: LayerDefinition<Scale> = {
  ...scale,
  v1Names: [],
  bottoms: [1, 1],
  parse(layer, ctx) {
    const p = subMessage(layer, 'batch_norm_param');
    // Caffe uses the stored statistics in the TEST phase unless told otherwise; false would
    // normalize with the statistics of the batch itself, which is training behaviour.
    if (!booleanOr(p, 'use_global_stats', true)) {
      throw layerError(ctx, 'use_global_stats: false normalizes with the statistics of each batch (training); only inference with the stored statistics is supported');
    }
    const eps = batchNormEpsilon(layer);
    if (!(eps >= 0) || !Number.isFinite(eps)) throw layerError(ctx, `batch_norm_param.eps must be a finite number >= 0, found ${eps}`);
    return { type: 'Scale', scale: { biasTerm: true } };
  },
};
