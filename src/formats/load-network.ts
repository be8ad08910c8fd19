/** Loads Caffe files from disk (Node, Deno); the parsing itself is in parse-network.ts. */
import { decodeMeanBinaryproto, type MeanImage } from './caffe/binaryproto.js';
import { implausibleWeights } from './finite-weights.js';
import type { Network } from '../ir/network.js';
import { readBytes, readText } from '../read-file.js';
import { parseNetwork, type ParseNetworkOptions, type WeightsFormat } from './parse-network.js';

export { weightsFormatOf, type WeightsFormat } from './parse-network.js';

/** Where a network's weights come from. */
export type WeightsSource =
  | { readonly kind: 'file'; readonly path: string; readonly format?: WeightsFormat }
  | { readonly kind: 'synthetic'; readonly seed?: number }
  | { readonly kind: 'none' };

/** Where notices and warnings go by default: stderr, as the backend selection's notices do. */
const stderr = (line: string): void => console.error(line);

/**
 * Parses a prototxt file into an IR network without weights. A train_val prototxt needs
 * `options.inputShape` unless its data layer says the whole shape (see parseNetwork).
 */
export async function loadPrototxt(path: string, options: ParseNetworkOptions = {}): Promise<Network> {
  return parseNetwork(await readText(path, 'prototxt'), path, { kind: 'none' }, { ...options, notice: options.notice ?? stderr });
}

/**
 * Options of {@link loadNetwork}: `inputShape` for a train_val prototxt, `notice` for the line
 * saying what became of it (default: stderr), see parseNetwork.
 */
export interface LoadNetworkOptions extends ParseNetworkOptions {
  /**
   * Receives each warning line about the weights file (values of implausible magnitude, see
   * implausibleWeights); default: printed to stderr, as the backend selection's notices are.
   */
  readonly warn?: (line: string) => void;
}

/**
 * Loads a Caffe network: the prototxt, then its weights (a .caffemodel, a Deep Compression .net,
 * or seeded synthetic values). Every weighted layer has weights afterwards, or this throws.
 * Weights from a file are then scanned for implausible magnitudes, reported to `options.warn`.
 *
 * @throws NetworkError, before weights or blobs are allocated, when the network does not fit the
 *   memory limit (DYVE_MEMORY_LIMIT, else a quarter of the machine: see memoryLimit).
 */
export async function loadNetwork(prototxtPath: string, weights: WeightsSource, options: LoadNetworkOptions = {}): Promise<Network> {
  const prototxt = await readText(prototxtPath, 'prototxt');
  const parse = { inputShape: options.inputShape, notice: options.notice ?? stderr };
  if (weights.kind !== 'file') return parseNetwork(prototxt, prototxtPath, weights, parse);
  const bytes = await readBytes(weights.path, 'weights file');
  const net = parseNetwork(prototxt, prototxtPath, { kind: 'bytes', bytes, name: weights.path, format: weights.format }, parse);
  const warn = options.warn ?? stderr;
  for (const line of implausibleWeights(weights.path, net)) warn(`warning: ${line}`);
  return net;
}

/** Reads and decodes a `mean.binaryproto` file. */
export async function loadMeanBinaryproto(path: string): Promise<MeanImage> {
  return decodeMeanBinaryproto(await readBytes(path, 'mean file'), path);
}
