import { layerBlobShapes } from '../ir/layer-metrics.js';
import { checkMemoryNeed } from '../ir/memory-need.js';
import { isWeighted, type Network } from '../ir/network.js';

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
 * Fills every weighted layer with seeded random weights (uniform, He-scaled by fan-in so that
 * activations keep their magnitude through deep networks; small biases). For speed and op counts of
 * architectures whose trained weights are not available: the network is marked `synthetic` and no
 * accuracy may be reported for it.
 *
 * @throws NetworkError, before allocating any weight, when the weights and one image's blobs do
 *   not fit the memory limit (checkMemoryNeed).
 */
export function attachSyntheticWeights(net: Network, seed = 1): Network {
  checkMemoryNeed(net, 1);
  const random = mulberry32(seed);
  for (const layer of net.layers.filter(isWeighted)) {
    const [weightShape, biasShape] = layerBlobShapes(layer);
    const fanIn = weightShape.slice(1).reduce((a, b) => a * b, 1);
    const limit = Math.sqrt(6 / fanIn);
    const weight = new Float32Array(weightShape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < weight.length; i++) weight[i] = (2 * random() - 1) * limit;
    const bias = biasShape ? new Float32Array(biasShape[0]).map(() => (2 * random() - 1) * 0.01) : undefined;
    layer.weights = { weight, bias };
  }
  return { ...net, synthetic: true };
}
