/**
 * Caffe layer types whose learned blobs are not the IR layer's weights as they stand: BatchNorm,
 * which the IR holds as a Scale (ir/layers/batch-norm.ts). Its caffemodel blobs are the running
 * mean, the running variance and the moving-average factor they were accumulated with; at
 * inference Caffe computes y = (x - mean / f) / sqrt(variance / f + eps), f read as 0 when the
 * factor is 0 (an untrained layer), which is the Scale weight = 1 / sqrt(variance / f + eps),
 * bias = -mean / f * weight.
 */
import { NetworkError } from '../../errors.js';
import { batchNormEpsilon } from '../../ir/layers/batch-norm.js';
import type { LayerWeights, Network } from '../../ir/network.js';
import type { CaffeNetDefinition } from './net-parameter.js';

/** How the caffemodel blobs of one layer become its IR weights. */
export interface BlobConversion {
  /** What each blob is, for error messages (`mean`, `variance`, ...). */
  readonly blobNames: readonly string[];
  /** The shapes the blobs must have. */
  readonly blobShapes: readonly number[][];
  /** The IR weights from the blobs' values (already checked against blobShapes). */
  convert(blobs: readonly Float32Array[], fileName: string): LayerWeights;
}

/** The Scale weights of a Caffe BatchNorm from its three blobs (see the module comment). */
export function batchNormToScale(
  layerName: string, [mean, variance, factor]: readonly Float32Array[], eps: number, fileName: string,
): LayerWeights {
  const f = factor[0] === 0 ? 0 : 1 / factor[0];
  const weight = new Float32Array(mean.length);
  const bias = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    const v = variance[c] * f + eps;
    if (!(v > 0)) {
      throw new NetworkError(`${fileName}: BatchNorm layer '${layerName}': channel ${c} has variance ${variance[c] * f} and eps ${eps}: the normalization would divide by ${v <= 0 ? 'zero or an imaginary number' : v}`);
    }
    const w = 1 / Math.sqrt(v);
    weight[c] = w;
    bias[c] = 0 - mean[c] * f * w; // not -(...): a zero mean gives +0, not -0
  }
  return { weight, bias };
}

/**
 * The blob conversions of the network's layers that need one, by layer name: every BatchNorm of
 * the Caffe definition (`net` is the IR built from `def`, for the channel counts).
 */
export function caffeBlobConversions(def: CaffeNetDefinition, net: Network): Map<string, BlobConversion> {
  const conversions = new Map<string, BlobConversion>();
  for (const caffe of def.layers) {
    if (caffe.type !== 'BatchNorm') continue;
    const layer = net.layers.find((l) => l.name === caffe.name);
    if (!layer) continue;
    const channels = layer.inputShapes[0].c;
    const eps = batchNormEpsilon(caffe.message);
    conversions.set(caffe.name, {
      blobNames: ['mean', 'variance', 'moving-average factor'],
      blobShapes: [[channels], [channels], [1]],
      convert: (blobs, fileName) => batchNormToScale(caffe.name, blobs, eps, fileName),
    });
  }
  return conversions;
}
