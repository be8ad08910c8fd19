import type { Layer, Network } from './network.js';

/**
 * Whether a ReLU decides the sign of this layer's outputs: its only consumer is a ReLU (slope 0),
 * possibly through MAX pools (max commutes with ReLU). Only then may SPET write 0 for a neuron it
 * predicts negative.
 */
export function feedsRelu(net: Network, layer: Layer): boolean {
  let blob = layer.tops[0];
  for (;;) {
    const consumers = net.layers.filter((l) => l.bottoms.includes(blob));
    if (consumers.length !== 1 || blob === net.outputName) return false;
    const next = consumers[0];
    if (next.params.type === 'ReLU') return next.params.relu.negativeSlope === 0;
    if (next.params.type === 'Pooling' && next.params.pool.method === 'max') {
      blob = next.tops[0];
      continue;
    }
    return false;
  }
}
