/** Loads Caffe files from disk (Node, Deno); the parsing itself is in parse-network.ts. */
import { decodeMeanBinaryproto, type MeanImage } from './caffe/binaryproto.js';
import type { Network } from '../ir/network.js';
import { readBytes, readText } from '../read-file.js';
import { parseNetwork, type WeightsFormat } from './parse-network.js';

export { weightsFormatOf, type WeightsFormat } from './parse-network.js';

/** Where a network's weights come from. */
export type WeightsSource =
  | { readonly kind: 'file'; readonly path: string; readonly format?: WeightsFormat }
  | { readonly kind: 'synthetic'; readonly seed?: number }
  | { readonly kind: 'none' };

/** Parses a prototxt file into an IR network without weights. */
export async function loadPrototxt(path: string): Promise<Network> {
  return parseNetwork(await readText(path, 'prototxt'), path, { kind: 'none' });
}

/**
 * Loads a Caffe network: the prototxt, then its weights (a .caffemodel, a Deep Compression .net,
 * or seeded synthetic values). Every weighted layer has weights afterwards, or this throws.
 */
export async function loadNetwork(prototxtPath: string, weights: WeightsSource): Promise<Network> {
  const prototxt = await readText(prototxtPath, 'prototxt');
  if (weights.kind !== 'file') return parseNetwork(prototxt, prototxtPath, weights);
  const bytes = await readBytes(weights.path, 'weights file');
  return parseNetwork(prototxt, prototxtPath, { kind: 'bytes', bytes, name: weights.path, format: weights.format });
}

/** Reads and decodes a `mean.binaryproto` file. */
export async function loadMeanBinaryproto(path: string): Promise<MeanImage> {
  return decodeMeanBinaryproto(await readBytes(path, 'mean file'), path);
}
