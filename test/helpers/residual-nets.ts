/**
 * Residual networks written as Caffe prototxts, for the tests of the new layers and of SPET
 * through a residual sum: Conv-BN(-ReLU) blocks whose Eltwise SUM feeds a ReLU.
 */
import type { SpetKnobs } from '../../src/effort/effort.js';
import { parseProfile, type EffortProfile } from '../../src/effort/profile.js';
import type { Network } from '../../src/ir/network.js';

/** A Caffe BatchNorm + Scale pair on `blob` (in place), folded into the convolution at load. */
const bn = (name: string, blob: string) => `
layer { name: "${name}" type: "BatchNorm" bottom: "${blob}" top: "${blob}" batch_norm_param { use_global_stats: true } }
layer { name: "${name}_scale" type: "Scale" bottom: "${blob}" top: "${blob}" scale_param { bias_term: true } }`;

/** A 3x3 convolution (pad 1, no bias: the batch normalization after it brings one). */
const conv = (name: string, bottom: string, out: number) =>
  `layer { name: "${name}" type: "Convolution" bottom: "${bottom}" top: "${name}" convolution_param { num_output: ${out} kernel_size: 3 pad: 1 bias_term: false } }`;

/** Two two-convolution residual blocks after a stem (8 channels on 16 x 16), as Caffe ResNets are written. */
export const TINY_RESNET = `name: "tiny-resnet" input: "data" input_dim: 1 input_dim: 3 input_dim: 16 input_dim: 16
${conv('stem', 'data', 8)}${bn('stem_bn', 'stem')}
layer { name: "stem_relu" type: "ReLU" bottom: "stem" top: "stem" }
${conv('b1a', 'stem', 8)}${bn('b1a_bn', 'b1a')}
layer { name: "b1a_relu" type: "ReLU" bottom: "b1a" top: "b1a" }
${conv('b1b', 'b1a', 8)}${bn('b1b_bn', 'b1b')}
layer { name: "b1_add" type: "Eltwise" bottom: "stem" bottom: "b1b" top: "b1" eltwise_param { operation: SUM } }
layer { name: "b1_relu" type: "ReLU" bottom: "b1" top: "b1" }
${conv('b2a', 'b1', 8)}${bn('b2a_bn', 'b2a')}
layer { name: "b2a_relu" type: "ReLU" bottom: "b2a" top: "b2a" }
${conv('b2b', 'b2a', 8)}${bn('b2b_bn', 'b2b')}
layer { name: "b2_add" type: "Eltwise" bottom: "b1" bottom: "b2b" top: "b2" eltwise_param { operation: SUM } }
layer { name: "b2_relu" type: "ReLU" bottom: "b2" top: "b2" }
layer { name: "gap" type: "Pooling" bottom: "b2" top: "gap" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "gap" top: "fc" inner_product_param { num_output: 10 } }
`;

/**
 * A stem, a two-convolution residual block (the addend is the sum's FIRST bottom) and a
 * one-convolution block (the addend SECOND). 16 channels on 32 x 32: b1b is large enough
 * (2.4 M MACs) for the two-thread backend to split it between threads on one image.
 */
export const RESIDUAL_SPET_NET = `name: "residual-spet" input: "data" input_dim: 1 input_dim: 3 input_dim: 32 input_dim: 32
${conv('stem', 'data', 16)}${bn('stem_bn', 'stem')}
layer { name: "stem_relu" type: "ReLU" bottom: "stem" top: "stem" }
${conv('b1a', 'stem', 16)}${bn('b1a_bn', 'b1a')}
layer { name: "b1a_relu" type: "ReLU" bottom: "b1a" top: "b1a" }
${conv('b1b', 'b1a', 16)}${bn('b1b_bn', 'b1b')}
layer { name: "b1_add" type: "Eltwise" bottom: "stem" bottom: "b1b" top: "b1" eltwise_param { operation: SUM } }
layer { name: "b1_relu" type: "ReLU" bottom: "b1" top: "b1" }
${conv('b2', 'b1', 16)}${bn('b2_bn', 'b2')}
layer { name: "b2_add" type: "Eltwise" bottom: "b2" bottom: "b1" top: "b2s" eltwise_param { operation: SUM } }
layer { name: "b2_relu" type: "ReLU" bottom: "b2s" top: "b2s" }
layer { name: "gap" type: "Pooling" bottom: "b2s" top: "gap" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "gap" top: "fc" inner_product_param { num_output: 10 } }
`;

const spetThreshold = (fraction: number, threshold: number): SpetKnobs => ({ mode: 'threshold', fraction, threshold });
const spetExact = (fraction: number): SpetKnobs => ({ mode: 'exact', fraction });

/**
 * Profiles of RESIDUAL_SPET_NET with SPET on both residual convolutions and on the convolutions
 * that feed a ReLU: threshold SPET composed with SDSS (b1b) and SFMA (b2), or exact SPET alone
 * everywhere (which must leave the network's outputs dense).
 */
export function residualSpetProfile(net: Network, mode: 'neuron' | 'tile', spet: 'threshold' | 'exact'): EffortProfile {
  const t = mode === 'tile' ? { tile: { positions: 8 } } : {};
  const exact = { spet: spetExact(0.5), ...t };
  const s = spetThreshold(0.5, mode === 'tile' ? 0.5 : 0);
  const layers = spet === 'exact'
    ? { stem: exact, b1a: exact, b1b: exact, b2: exact }
    : {
      stem: exact,
      b1a: { spet: spetThreshold(0.5, 0), ...t },
      b1b: { spet: s, sdss: { stride: 2, delta: 0.05 }, ...t },
      b2: { spet: s, sfma: { epsilon: 0.05 }, ...t },
    };
  return parseProfile(JSON.stringify({ layers }), net);
}
