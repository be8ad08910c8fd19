/**
 * Builds an IR network from a prototxt's text and the weights' bytes, with no file access: the
 * core of loading, shared by the file loader (load-network.ts) and the browser entry.
 */
import { NetworkError } from '../errors.js';
import { buildNetwork } from './caffe/build-network.js';
import { isWeighted, type Network } from '../ir/network.js';
import { attachCaffemodelWeights, decodeCaffemodel } from './caffe/caffemodel.js';
import { parseNetPrototxt } from './caffe/net-parameter.js';
import { attachDeepCompressionWeights } from './deep-compression.js';
import { attachSyntheticWeights } from './synthetic-weights.js';

/** The weight file formats dyvedeep reads. */
export type WeightsFormat = 'caffemodel' | 'deep-compression';

/** Weights for {@link parseNetwork}: bytes in memory, seeded synthetic values, or none. */
export type WeightsData =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly name: string; readonly format?: WeightsFormat }
  | { readonly kind: 'synthetic'; readonly seed?: number }
  | { readonly kind: 'none' };

/** Guesses the weights format from the file name: `.net` is Deep Compression, anything else a caffemodel. */
export function weightsFormatOf(name: string): WeightsFormat {
  return /\.net$/i.test(name) ? 'deep-compression' : 'caffemodel';
}

/**
 * Parses a prototxt (`name` is used in error positions, `file:line:column`) and attaches the
 * weights. Every weighted layer has weights afterwards, or this throws.
 *
 * @throws ModelFormatError for malformed text or weights (which layer, which blob); NetworkError
 *   for unsupported layers or layers left without weights.
 */
export function parseNetwork(prototxt: string, name: string, weights: WeightsData): Network {
  let net = buildNetwork(parseNetPrototxt(prototxt, name));
  if (weights.kind === 'synthetic') {
    net = attachSyntheticWeights(net, weights.seed);
  } else if (weights.kind === 'bytes') {
    const format = weights.format ?? weightsFormatOf(weights.name);
    if (format === 'deep-compression') attachDeepCompressionWeights(net, weights.bytes, weights.name);
    else attachCaffemodelWeights(net, decodeCaffemodel(weights.bytes, weights.name));
  }
  if (weights.kind !== 'none') {
    const missing = net.layers.filter((l) => isWeighted(l) && !l.weights);
    if (missing.length > 0) {
      throw new NetworkError(`no weights for layer(s) ${missing.map((l) => `'${l.name}'`).join(', ')}`);
    }
  }
  return net;
}
