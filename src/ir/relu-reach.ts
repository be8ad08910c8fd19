import type { Layer, Network } from './network.js';

/**
 * Whether a ReLU decides the sign of this layer's outputs: its only consumer is a ReLU (slope 0)
 * or a Clip with min >= 0 (ReLU6: every value <= 0 leaves it as min, the value 0 gives), possibly
 * through MAX pools (max commutes with both). Only then may SPET write 0 for a neuron it predicts
 * negative. Any other layer on the way (a Scale, an Eltwise sum, a PReLU, a Sigmoid) makes the
 * sign of the raw output matter, and this says no.
 */
export function feedsRelu(net: Network, layer: Layer): boolean {
  let blob = layer.tops[0];
  for (;;) {
    const consumers = net.layers.filter((l) => l.bottoms.includes(blob));
    if (consumers.length !== 1 || blob === net.outputName) return false;
    const next = consumers[0];
    if (next.params.type === 'ReLU') return next.params.relu.negativeSlope === 0;
    if (next.params.type === 'Clip') return next.params.clip.min >= 0 && next.params.clip.max >= next.params.clip.min;
    if (next.params.type === 'Pooling' && next.params.pool.method === 'max') {
      blob = next.tops[0];
      continue;
    }
    return false;
  }
}
