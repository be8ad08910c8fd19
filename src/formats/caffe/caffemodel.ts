import { assertFiniteWeights } from '../finite-weights.js';
import { ModelFormatError, NetworkError } from '../../errors.js';
import { layerBlobShapes } from '../../ir/layer-metrics.js';
import { checkMemoryNeed } from '../../ir/memory-need.js';
import { isWeighted, type Network } from '../../ir/network.js';
import type { BlobConversion } from './batch-norm-blobs.js';
import { canonicalDims, decodeBlob, type DecodedBlob } from './blob.js';
import { caffeType } from './schema.js';
import type { MessageObject } from './text-to-message.js';

/** The learned blobs of a `.caffemodel`, by layer name. */
export interface CaffemodelWeights {
  readonly netName: string;
  readonly fileName: string;
  readonly layers: ReadonlyMap<string, readonly DecodedBlob[]>;
}

/** Decodes a binary NetParameter (current `layer` or legacy V1 `layers`) and keeps its blobs. */
export function decodeCaffemodel(bytes: Uint8Array, fileName: string): CaffemodelWeights {
  const type = caffeType('NetParameter');
  let net: MessageObject;
  try {
    net = type.toObject(type.decode(bytes), { enums: String, longs: Number, arrays: true }) as MessageObject;
  } catch (err) {
    throw new ModelFormatError(`${fileName}: truncated or corrupt caffemodel: protobuf decoding failed (${(err as Error).message}); the file has ${bytes.length} bytes`);
  }
  const entries = [...(net.layer as MessageObject[]), ...(net.layers as MessageObject[])];
  if (entries.length === 0) throw new ModelFormatError(`${fileName}: no layers in this file: is it a .caffemodel?`);
  const layers = new Map<string, DecodedBlob[]>();
  for (const layer of entries) {
    const name = (layer.name as string | undefined) ?? '';
    const blobs = (layer.blobs as MessageObject[] | undefined) ?? [];
    if (blobs.length === 0) continue;
    layers.set(name, blobs.map((b, i) => decodeBlob(b, `${fileName}: layer '${name}' blob ${i}`)));
  }
  return { netName: (net.name as string | undefined) ?? '', fileName, layers };
}

/**
 * Joins caffemodel blobs to the network's weighted layers by layer name, checking every blob's
 * shape against the one the prototxt implies. Layers of the caffemodel that the network lacks are
 * ignored, as Caffe does (loss and data layers of a training net, for instance).
 *
 * The weights are already in memory (the file's size bounds them), but the blobs of a run are
 * not: the memory limit is checked first, so a network that cannot run fails at load.
 *
 * `conversions` (caffeBlobConversions): layers whose Caffe blobs differ from their IR weights
 * (a BatchNorm's statistics, held as a Scale), checked against their own shapes and converted.
 */
export function attachCaffemodelWeights(
  net: Network, weights: CaffemodelWeights, conversions: ReadonlyMap<string, BlobConversion> = new Map(),
): void {
  checkMemoryNeed(net, 1);
  const weighted = net.layers.filter(isWeighted);
  const matched = weighted.filter((l) => weights.layers.has(l.name)).length;
  // Most layers missing is not a damaged file but the wrong one: say so rather than name one layer.
  if (weighted.length > 0 && matched < weighted.length / 2) {
    const names = [...weights.layers.keys()].slice(0, 8).join(', ');
    throw new NetworkError(
      `${weights.fileName}: ${matched === 0 ? 'none' : `only ${matched} of ${weighted.length}`} of the network's weighted layers are in it: it holds weights for ${weights.netName ? `'${weights.netName}' ` : ''}(layers ${names}) ` +
      `but the prototxt's weighted layers are ${weighted.map((l) => l.name).join(', ')}: is it the weights file of another network?`);
  }
  for (const layer of weighted) {
    const blobs = weights.layers.get(layer.name);
    if (!blobs) throw new NetworkError(`${weights.fileName}: no weights for layer '${layer.name}' of the network`);
    const conversion = conversions.get(layer.name);
    const expected = conversion?.blobShapes ?? layerBlobShapes(layer);
    const blobNames = conversion?.blobNames ?? ['weights', 'bias'];
    if (blobs.length !== expected.length) {
      throw new NetworkError(`${weights.fileName}: layer '${layer.name}' has ${blobs.length} blob(s) but the prototxt implies ${expected.length} (${blobNames.slice(0, expected.length).join(' + ')})`);
    }
    blobs.forEach((blob, i) => {
      const want = expected[i];
      const got = canonicalDims(blob.dims);
      if (got.join('x') !== canonicalDims(want).join('x')) {
        throw new NetworkError(`${weights.fileName}: layer '${layer.name}' blob ${i} (${blobNames[i]}) has shape ${blob.dims.join('x')} but the prototxt implies ${want.join('x')}`);
      }
    });
    layer.weights = conversion
      ? conversion.convert(blobs.map((b) => b.data), weights.fileName)
      : { weight: blobs[0].data, bias: blobs[1]?.data };
    assertFiniteWeights(weights.fileName, layer);
  }
}
