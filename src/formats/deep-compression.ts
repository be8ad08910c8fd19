import { assertFiniteWeights } from './finite-weights.js';
import { ModelFormatError, NetworkError } from '../errors.js';
import { layerBlobShapes } from '../ir/layer-metrics.js';
import { checkMemoryNeed } from '../ir/memory-need.js';
import type { Layer, Network } from '../ir/network.js';

/**
 * Deep Compression `.net` weights (Han et al.): pruned, quantised weights of the Convolution and
 * InnerProduct layers whose names contain `conv`, `fc` or `ip`, in network order. Little-endian:
 *
 *   header   uint32 entry count n per layer
 *   per layer: codebook float32 x 2^bits (8 bits for conv, 4 for fc), bias float32 x outputs,
 *              n code indices (bits each, low nibble first for 4-bit), n 4-bit gaps (low nibble first)
 *
 * Entry k sits at position sum_{j<=k}(gap_j + 1) - 1; every other weight is codebook[0]. Long gaps
 * are bridged by filler entries that point at a zero codebook entry. The file must be consumed
 * exactly.
 *
 * The dense weights are sized by the prototxt, not by the file (a few KB of codes can stand for
 * gigabytes of weights), so the memory limit is checked before any is allocated.
 */
export function attachDeepCompressionWeights(net: Network, bytes: Uint8Array, fileName: string): void {
  checkMemoryNeed(net, 1);
  const layers = net.layers.filter(
    (l) => (l.params.type === 'Convolution' || l.params.type === 'InnerProduct') && /conv|fc|ip/.test(l.name),
  );
  if (layers.length === 0) throw new NetworkError(`${fileName}: the network has no conv/fc/ip layers to take Deep Compression weights`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = 4 * layers.length;
  if (bytes.byteLength < headerBytes) {
    throw new ModelFormatError(`${fileName}: too short: ${bytes.byteLength} bytes cannot hold the header of ${layers.length} layers (${headerBytes} bytes)`);
  }
  const counts = layers.map((_, i) => view.getUint32(4 * i, true));
  let offset = headerBytes;
  const take = (n: number, layer: Layer, what: string): number => {
    if (offset + n > bytes.byteLength) {
      throw new ModelFormatError(`${fileName}: too short: ends inside the ${what} of layer '${layer.name}' (needs ${offset + n - bytes.byteLength} more bytes); is it the weights file of another network?`);
    }
    const at = offset;
    offset += n;
    return at;
  };
  layers.forEach((layer, i) => {
    const [weightShape, biasShape] = layerBlobShapes(layer);
    const weightCount = weightShape.reduce((a, b) => a * b, 1);
    // The format stores one bias per output whether or not the layer uses it.
    const outputs = weightShape[0];
    const bits = layer.params.type === 'Convolution' ? 8 : 4;
    const n = counts[i];
    const codebookAt = take(4 * (1 << bits), layer, 'codebook');
    const codebook = new Float32Array(1 << bits);
    for (let k = 0; k < codebook.length; k++) codebook[k] = view.getFloat32(codebookAt + 4 * k, true);
    const biasAt = take(4 * outputs, layer, 'bias');
    const bias = new Float32Array(outputs);
    for (let k = 0; k < outputs; k++) bias[k] = view.getFloat32(biasAt + 4 * k, true);
    const codesAt = take(Math.ceil((n * bits) / 8), layer, 'codes');
    const gapsAt = take(Math.ceil(n / 2), layer, 'gaps');
    const weight = new Float32Array(weightCount).fill(codebook[0]);
    let position = -1;
    for (let k = 0; k < n; k++) {
      const gapByte = bytes[gapsAt + (k >> 1)];
      position += ((k & 1) === 0 ? gapByte & 0x0f : gapByte >> 4) + 1;
      if (position >= weightCount) {
        throw new ModelFormatError(`${fileName}: layer '${layer.name}': entry ${k} of ${n} lands at weight ${position}, beyond its ${weightCount} weights; the file does not match this network`);
      }
      const code = bits === 8 ? bytes[codesAt + k] : (k & 1) === 0 ? bytes[codesAt + (k >> 1)] & 0x0f : bytes[codesAt + (k >> 1)] >> 4;
      weight[position] = codebook[code];
    }
    layer.weights = { weight, bias: biasShape ? bias : undefined };
    assertFiniteWeights(fileName, layer);
  });
  if (offset !== bytes.byteLength) {
    throw new ModelFormatError(`${fileName}: too long: ${bytes.byteLength - offset} bytes left over after the last layer ('${layers[layers.length - 1].name}'); the file does not match this network`);
  }
}
