/**
 * What a network needs in memory, checked before anything is allocated: a prototxt can declare a
 * layer of a million outputs or an input of 100000x100000 pixels in a few bytes, and a typed
 * array of that size fails (or swaps the machine) only once the engine tries to allocate it.
 */
import { NetworkError } from '../errors.js';
import { layerBlobShapes } from './layer-metrics.js';
import { formatBytes, MEMORY_LIMIT_VARIABLE, memoryLimit, type MemoryLimit } from './memory-limit.js';
import { formatShape, isWeighted, shapeSize, type Layer, type Network, type Shape } from './network.js';

/** Bytes per value: every blob and weight is float32. */
const VALUE_BYTES = 4;

/**
 * The most values one tensor (one image's blob, or a weights blob) may hold: 2^30 float32 values,
 * 4 GiB, what a 32-bit WebAssembly memory or a u32 WebGPU byte offset can address at all. No Caffe
 * CNN comes near it: VGG16's largest blob is 3.2 M values per image, its largest weights 103 M.
 */
export const MAX_TENSOR_VALUES = 2 ** 30;

/** `1.02e+9`: counts of values in messages, readable whatever their size. */
function count(values: number): string {
  return values < 1e6 ? String(values) : values.toPrecision(3);
}

/**
 * Checks that a tensor's value count is one a tensor may hold (see {@link MAX_TENSOR_VALUES}):
 * shape inference calls it for every blob and weights blob, so an absurd dimension, or dimensions
 * whose product overflows, fails with a sentence before any allocation.
 *
 * @param subject the tensor, with its position and shape, as the message starts:
 *   `deploy.prototxt:3:1: layer 'conv1' (Convolution): its output 'conv1' (1000000x32x32)`.
 * @throws NetworkError naming the tensor, its values and bytes, and the cap.
 */
export function checkTensorSize(values: number, subject: () => string): void {
  if (values <= MAX_TENSOR_VALUES) return;
  throw new NetworkError(
    `${subject()} would hold ${count(values)} values (${formatBytes(values * VALUE_BYTES)}), more than the 2^30 values ` +
    `(${formatBytes(MAX_TENSOR_VALUES * VALUE_BYTES)}) one tensor may hold: check the dimensions it is computed from`,
  );
}

/** The values of a blob of these dims (a weights blob's, from layerBlobShapes). */
export function dimsSize(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Bytes of every learned blob of the network (weights and biases), float32. */
export function weightBytes(net: Network): number {
  let bytes = 0;
  for (const layer of net.layers.filter(isWeighted)) {
    for (const dims of layerBlobShapes(layer)) bytes += VALUE_BYTES * dimsSize(dims);
  }
  return bytes;
}

function overLimit(limit: MemoryLimit): string {
  // A limit the user set needs no advice on how to set it.
  const how = limit.source.startsWith(MEMORY_LIMIT_VARIABLE) ? '' : `; set ${MEMORY_LIMIT_VARIABLE}, e.g. ${MEMORY_LIMIT_VARIABLE}=16G, to change it`;
  return `over the memory limit of ${formatBytes(limit.bytes)} (${limit.source}${how})`;
}

/** The largest weights blob of the network, for the message when the weights alone do not fit. */
function largestWeights(net: Network): string {
  let best = { values: -1, text: '' };
  for (const layer of net.layers.filter(isWeighted)) {
    layerBlobShapes(layer).forEach((dims, i) => {
      const values = dimsSize(dims);
      if (values > best.values) {
        best = { values, text: `layer '${layer.name}' ${i === 0 ? 'weights' : 'bias'} ${dims.join('x')}, ${formatBytes(values * VALUE_BYTES)}` };
      }
    });
  }
  return best.text;
}

/** The blobs a layer reads and writes, by name, with their shapes (a blob read twice counts once). */
function layerBlobs(layer: Layer): Map<string, Shape> {
  const blobs = new Map<string, Shape>();
  layer.bottoms.forEach((b, i) => blobs.set(b, layer.inputShapes[i]));
  layer.tops.forEach((t, i) => blobs.set(t, layer.outputShapes[i]));
  return blobs;
}

/**
 * Checks that running `net` on `batch` images fits the memory limit, before anything of the run is
 * allocated. It counts a lower bound of what any backend must hold: every weight, and for each
 * layer the blobs it reads and writes for the whole batch (a run holds at least those at once);
 * the first layer, in execution order, that does not fit is named.
 *
 * Loading calls it with batch 1 before weights are allocated (synthetic, Deep Compression) or
 * kept (caffemodel); an evaluation calls it again with its batch, which multiplies the blobs.
 *
 * @param limit defaults to {@link memoryLimit} (DYVE_MEMORY_LIMIT, else a quarter of the machine).
 * @throws NetworkError naming the layer, the largest blob and the bytes against the limit.
 */
export function checkMemoryNeed(net: Network, batch: number, limit: MemoryLimit = memoryLimit()): void {
  const weights = weightBytes(net);
  if (weights > limit.bytes) {
    throw new NetworkError(`network '${net.name}': its weights need ${formatBytes(weights)} (the largest: ${largestWeights(net)}), ${overLimit(limit)}`);
  }
  for (const layer of net.layers) {
    const blobs = layerBlobs(layer);
    let values = 0;
    let largest: [string, Shape] | undefined;
    for (const [name, shape] of blobs) {
      values += shapeSize(shape);
      if (!largest || shapeSize(shape) > shapeSize(largest[1])) largest = [name, shape];
    }
    const activations = batch * values * VALUE_BYTES;
    if (weights + activations <= limit.bytes || !largest) continue;
    const [name, shape] = largest;
    throw new NetworkError(
      `layer '${layer.name}' (${layer.params.type}) needs at least ${formatBytes(weights + activations)} for a batch of ${batch}: ` +
      `${formatBytes(activations)} for the ${blobs.size} blob(s) it reads and writes (the largest, '${name}' ${formatShape(shape)}, ` +
      `${formatBytes(shapeSize(shape) * VALUE_BYTES)} per image) and ${formatBytes(weights)} of weights, ${overLimit(limit)}` +
      (batch > 1 ? '; a smaller batch needs less' : ''),
    );
  }
}
