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

/**
 * SPET through a residual sum (y = ReLU(conv + addend), the block of every residual CNN): the
 * Convolution's only reader is an Eltwise SUM of exactly two different bottoms with coefficients 1,
 * whose output a ReLU decides (feedsRelu), and the other bottom is computed before the convolution
 * (or is the network's input). Then SPET may test partial + bias + addend[n] and store -addend[n]
 * for a neuron it predicts negative: the sum is then exactly 0 (x + (-x) in any precision), which
 * the ReLU keeps. Other coefficients or more bottoms would not give an exact 0, and say no.
 */
export interface ResidualSum {
  /** The sum's other bottom, read by the convolution's SPET test. */
  readonly addend: string;
  /** The Eltwise layer that adds it. */
  readonly sum: string;
}

/** The residual sum this Convolution feeds (see {@link ResidualSum}), or null. */
export function residualSum(net: Network, layer: Layer): ResidualSum | null {
  if (layer.params.type !== 'Convolution' || layer.tops.length !== 1) return null;
  const top = layer.tops[0];
  if (top === net.outputName) return null;
  const consumers = net.layers.filter((l) => l.bottoms.includes(top));
  if (consumers.length !== 1) return null;
  const sum = consumers[0];
  if (sum.params.type !== 'Eltwise' || sum.params.eltwise.operation !== 'sum' || sum.bottoms.length !== 2) return null;
  if (sum.params.eltwise.coeffs.some((c) => c !== 1)) return null;
  const addend = sum.bottoms[0] === top ? sum.bottoms[1] : sum.bottoms[0];
  if (addend === top || !feedsRelu(net, sum)) return null;
  const at = net.layers.indexOf(layer);
  const producer = net.layers.findIndex((l) => l.tops.includes(addend));
  if (addend !== net.inputName && (producer < 0 || producer >= at)) return null;
  return { addend, sum: sum.name };
}
