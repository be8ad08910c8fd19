import { layerBlobShapes } from '../ir/layer-metrics.js';
import { checkMemoryNeed } from '../ir/memory-need.js';
import { isWeighted, type Layer, type LayerWeights, type Network } from '../ir/network.js';

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same weights everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeded weights of one layer. Convolution and InnerProduct: uniform, He-scaled by fan-in so that
 * activations keep their magnitude through deep networks, small biases. Scale (a batch
 * normalization among them): positive factors around 1 and biases around 0, as a trained
 * normalization of positive variance has. PReLU: slopes in [0, 0.5), around PReLU's usual 0.25.
 */
function syntheticWeights(layer: Layer, random: () => number): LayerWeights {
  const [weightShape, biasShape] = layerBlobShapes(layer);
  const count = weightShape.reduce((a, b) => a * b, 1);
  const uniform = (n: number, from: number, to: number) => new Float32Array(n).map(() => from + (to - from) * random());
  if (layer.params.type === 'Scale') {
    return { weight: uniform(count, 0.5, 1.5), bias: biasShape ? uniform(biasShape[0], -0.1, 0.1) : undefined };
  }
  if (layer.params.type === 'PReLU') return { weight: uniform(count, 0, 0.5) };
  const fanIn = weightShape.slice(1).reduce((a, b) => a * b, 1);
  const limit = Math.sqrt(6 / fanIn);
  const weight = new Float32Array(count);
  for (let i = 0; i < weight.length; i++) weight[i] = (2 * random() - 1) * limit;
  const bias = biasShape ? new Float32Array(biasShape[0]).map(() => (2 * random() - 1) * 0.01) : undefined;
  return { weight, bias };
}

/**
 * Fills every weighted layer with seeded random weights (syntheticWeights). For speed and op counts of
 * architectures whose trained weights are not available: the network is marked `synthetic` and no
 * accuracy may be reported for it.
 *
 * @throws NetworkError, before allocating any weight, when the weights and one image's blobs do
 *   not fit the memory limit (checkMemoryNeed).
 */
export function attachSyntheticWeights(net: Network, seed = 1): Network {
  checkMemoryNeed(net, 1);
  const random = mulberry32(seed);
  for (const layer of net.layers.filter(isWeighted)) layer.weights = syntheticWeights(layer, random);
  return { ...net, synthetic: true };
}
