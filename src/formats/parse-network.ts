/**
 * Builds an IR network from a prototxt's text and the weights' bytes, with no file access: the
 * core of loading, shared by the file loader (load-network.ts) and the browser entry.
 */
import { NetworkError } from '../errors.js';
import { buildNetwork } from './caffe/build-network.js';
import { foldScales } from '../ir/fold-scale.js';
import { isWeighted, type Network } from '../ir/network.js';
import { caffeBlobConversions } from './caffe/batch-norm-blobs.js';
import { attachCaffemodelWeights, decodeCaffemodel, type CaffemodelWeights } from './caffe/caffemodel.js';
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

/** Options of {@link parseNetwork}. */
export interface ParseNetworkOptions {
  /**
   * Channels, height and width of the input of a train_val prototxt, whose data layer does not say
   * them (the CLI's `--input-shape CxHxW`). A deploy prototxt's declared input must equal it.
   */
  readonly inputShape?: readonly [number, number, number];
  /**
   * Receives the one line saying how a train_val prototxt became a deploy network (data layer ->
   * input, label, accuracy and loss dropped); default: console.warn.
   */
  readonly notice?: (line: string) => void;
  /**
   * Fold each Scale (a BatchNorm among them) into the Convolution or InnerProduct before it when
   * that layer's output goes nowhere else (ir/fold-scale.ts); default true. The folded layer writes
   * the Scale's top, so the blob between them disappears.
   */
  readonly foldScales?: boolean;
}

/**
 * Parses a prototxt (`name` is used in error positions, `file:line:column`) and attaches the
 * weights. Every weighted layer has weights afterwards, or this throws.
 *
 * A train_val prototxt is accepted too: its TEST phase, the data layer replaced by an input (shape
 * from `options.inputShape`, else from the data layer, with the caffemodel's first convolution for
 * the channels), accuracy and losses dropped, SoftmaxWithLoss run as Softmax; said through
 * `options.notice`. Scales after a convolution or inner product are folded into it
 * (`options.foldScales`).
 *
 * @throws ModelFormatError for malformed text or weights (which layer, which blob); NetworkError
 *   for unsupported layers, layers left without weights, or a train_val whose input shape is
 *   nowhere (pass `inputShape`).
 */
export function parseNetwork(prototxt: string, name: string, weights: WeightsData, options: ParseNetworkOptions = {}): Network {
  const format = weights.kind === 'bytes' ? weights.format ?? weightsFormatOf(weights.name) : undefined;
  // Decoded on first use: a train_val's data layer may need the first convolution's weight dims
  // before the network is built; a deploy prototxt decodes after building, as it always did.
  let decoded: CaffemodelWeights | undefined;
  const caffemodel = weights.kind === 'bytes' && format === 'caffemodel'
    ? () => (decoded ??= decodeCaffemodel(weights.bytes, weights.name))
    : undefined;
  const weightDims = caffemodel && ((layer: string) => caffemodel().layers.get(layer)?.[0]?.dims);
  const def = parseNetPrototxt(prototxt, name, { inputShape: options.inputShape, weightDims });
  let net = buildNetwork(def);
  if (def.notice !== undefined) (options.notice ?? ((line: string) => console.warn(line)))(def.notice);
  if (weights.kind === 'synthetic') {
    net = attachSyntheticWeights(net, weights.seed);
  } else if (weights.kind === 'bytes') {
    if (caffemodel) attachCaffemodelWeights(net, caffemodel(), caffeBlobConversions(def, net));
    else attachDeepCompressionWeights(net, weights.bytes, weights.name);
  }
  if (weights.kind !== 'none') {
    const missing = net.layers.filter((l) => isWeighted(l) && !l.weights);
    if (missing.length > 0) {
      throw new NetworkError(`no weights for layer(s) ${missing.map((l) => `'${l.name}'`).join(', ')}`);
    }
    if (options.foldScales !== false) net = foldScales(net);
  }
  return net;
}
