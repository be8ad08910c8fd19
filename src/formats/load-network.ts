import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { describeFsError, NetworkError } from '../errors.js';
import { buildNetwork } from '../ir/build-network.js';
import { isWeighted, type Network } from '../ir/network.js';
import { attachCaffemodelWeights, decodeCaffemodel } from './caffe/caffemodel.js';
import { parseNetPrototxt } from './caffe/net-parameter.js';
import { attachDeepCompressionWeights } from './deep-compression.js';
import { attachSyntheticWeights } from './synthetic-weights.js';

/** The weight file formats dyvedeep reads. */
export type WeightsFormat = 'caffemodel' | 'deep-compression';

/** Where a network's weights come from. */
export type WeightsSource =
  | { readonly kind: 'file'; readonly path: string; readonly format?: WeightsFormat }
  | { readonly kind: 'synthetic'; readonly seed?: number }
  | { readonly kind: 'none' };

/** Guesses the weights format from the file name: `.net` is Deep Compression, anything else a caffemodel. */
export function weightsFormatOf(path: string): WeightsFormat {
  return extname(path).toLowerCase() === '.net' ? 'deep-compression' : 'caffemodel';
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw describeFsError(path, what, err);
  }
}

/** Parses a prototxt file into an IR network without weights. */
export async function loadPrototxt(path: string): Promise<Network> {
  const source = new TextDecoder().decode(await readBytes(path, 'prototxt'));
  return buildNetwork(parseNetPrototxt(source, path));
}

/**
 * Loads a Caffe network: the prototxt, then its weights (a .caffemodel, a Deep Compression .net,
 * or seeded synthetic values). Every weighted layer has weights afterwards, or this throws.
 */
export async function loadNetwork(prototxtPath: string, weights: WeightsSource): Promise<Network> {
  let net = await loadPrototxt(prototxtPath);
  if (weights.kind === 'synthetic') {
    net = attachSyntheticWeights(net, weights.seed);
  } else if (weights.kind === 'file') {
    const bytes = await readBytes(weights.path, 'weights file');
    const format = weights.format ?? weightsFormatOf(weights.path);
    if (format === 'deep-compression') attachDeepCompressionWeights(net, bytes, weights.path);
    else attachCaffemodelWeights(net, decodeCaffemodel(bytes, weights.path));
  }
  if (weights.kind !== 'none') {
    const missing = net.layers.filter((l) => isWeighted(l) && !l.weights);
    if (missing.length > 0) {
      throw new NetworkError(`no weights for layer(s) ${missing.map((l) => `'${l.name}'`).join(', ')}`);
    }
  }
  return net;
}
