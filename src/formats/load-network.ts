/**
 * Loads models from disk (Node, Deno): Caffe files (the parsing itself is in parse-network.ts) and
 * ONNX models (onnx/import/).
 */
import { decodeMeanBinaryproto, type MeanImage } from './caffe/binaryproto.js';
import { DyveError } from '../errors.js';
import { loadOnnxNetwork } from './onnx/import/load-onnx.js';
import { attachSyntheticWeights } from './synthetic-weights.js';
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

/** Whether a model file is an ONNX model (by its extension, `.onnx`) rather than a Caffe prototxt. */
export function isOnnxModel(path: string): boolean {
  return /\.onnx$/i.test(path);
}

/**
 * Loads a network: a Caffe prototxt, then its weights (a .caffemodel, a Deep Compression .net,
 * or seeded synthetic values); or an ONNX model (`.onnx`, see isOnnxModel), whose weights are in
 * the file (`weights` is then `none`, or `synthetic` to replace them with seeded values; a weights
 * file is an error). Every weighted layer has weights afterwards, or this throws. Weights from a
 * file are then scanned for implausible magnitudes, reported to `options.warn`.
 *
 * @throws NetworkError, before weights or blobs are allocated, when the network does not fit the
 *   memory limit (DYVE_MEMORY_LIMIT, else a quarter of the machine: see memoryLimit).
 */
export async function loadNetwork(prototxtPath: string, weights: WeightsSource, options: LoadNetworkOptions = {}): Promise<Network> {
  if (isOnnxModel(prototxtPath)) return loadOnnxModel(prototxtPath, weights, options);
  const prototxt = await readText(prototxtPath, 'prototxt');
  const parse = { inputShape: options.inputShape, notice: options.notice ?? stderr, foldScales: options.foldScales };
  if (weights.kind !== 'file') return parseNetwork(prototxt, prototxtPath, weights, parse);
  const bytes = await readBytes(weights.path, 'weights file');
  const net = parseNetwork(prototxt, prototxtPath, { kind: 'bytes', bytes, name: weights.path, format: weights.format }, parse);
  const warn = options.warn ?? stderr;
  for (const line of implausibleWeights(weights.path, net)) warn(`warning: ${line}`);
  return net;
}

/** An ONNX model with its own weights, or seeded synthetic ones (see loadNetwork). */
async function loadOnnxModel(path: string, weights: WeightsSource, options: LoadNetworkOptions): Promise<Network> {
  if (weights.kind === 'file') {
    throw new DyveError(`${path} is an ONNX model, which carries its weights: drop the weights file ${weights.path} (or give 'synthetic' to replace them with seeded values)`);
  }
  if (options.inputShape !== undefined) {
    throw new DyveError(`${path} is an ONNX model, which declares its input shape: --input-shape applies to a train_val prototxt only`);
  }
  const notice = options.notice ?? stderr;
  const net = await loadOnnxNetwork(path, { notice, foldScales: options.foldScales });
  if (weights.kind === 'synthetic') return attachSyntheticWeights(net, weights.seed);
  const warn = options.warn ?? stderr;
  for (const line of implausibleWeights(path, net)) warn(`warning: ${line}`);
  return net;
}

/** Reads and decodes a `mean.binaryproto` file. */
export async function loadMeanBinaryproto(path: string): Promise<MeanImage> {
  return decodeMeanBinaryproto(await readBytes(path, 'mean file'), path);
}
