/**
 * One IR layer as TF.js ops on NHWC tensors, with its weights uploaded once; and the table from
 * layer type to its TF.js form.
 *
 * Blobs travel as [batch, h, w, c] tensors (TF.js's wasm kernels are NHWC only). A blob of shape
 * c x 1 x 1 has the same values in the same order in NCHW and NHWC, so fully connected outputs
 * and the classifier's scores need no transpose.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import { NetworkError } from '../../src/errors.js';
import type { Layer, ReluParams } from '../../src/ir/network.js';
import { convolutionLayer } from './tfjs-convolution.js';
import { innerProductLayer } from './tfjs-inner-product.js';
import { lrnLayer } from './tfjs-lrn.js';
import { poolingLayer } from './tfjs-pooling.js';
import { fusedActivation, type TfjsLayer } from './tfjs-layer-form.js';
import type { Tf } from './tfjs-wasm-runtime.js';

type Tensor4D = TfCore.Tensor4D;

const noWeights = (run: TfjsLayer['run']): TfjsLayer => ({ run, dispose: () => undefined });

/**
 * The TF.js form of `layer`. `relu`: the parameters of a ReLU layer that follows a Convolution or
 * InnerProduct and is fused into it (see tfjs-graph.ts).
 */
export function tfjsLayer(tf: Tf, layer: Layer, relu?: ReluParams): TfjsLayer {
  const p = layer.params;
  switch (p.type) {
    case 'Convolution':
      return convolutionLayer(tf, layer, p.conv, fusedActivation(relu));
    case 'InnerProduct':
      return innerProductLayer(tf, layer, p.ip, fusedActivation(relu));
    case 'Pooling':
      return poolingLayer(tf, layer, p.pool);
    case 'LRN':
      return lrnLayer(tf, layer, p.lrn);
    case 'ReLU': {
      const slope = p.relu.negativeSlope;
      return noWeights(([x]) => [slope === 0 ? tf.relu(x) : tf.leakyRelu(x, slope)]);
    }
    // Dropout is the identity at inference; Split hands the same (immutable) tensor to every top.
    case 'Dropout':
      return noWeights(([x]) => [x]);
    case 'Split':
      return noWeights(([x]) => layer.tops.map(() => x));
    // Over channels at every position: the last axis in NHWC.
    case 'Softmax':
      return noWeights(([x]) => [tf.softmax(x)]);
    case 'Concat':
      return noWeights((xs) => [xs.length === 1 ? xs[0] : tf.concat(xs as Tensor4D[], 3)]);
    case 'Flatten': {
      const { c, h, w } = layer.inputShapes[0];
      // The flat vector is in Caffe's CHW order, which the layers after it (and their weights) expect.
      return noWeights(([x]) => [h * w === 1 ? x : tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], 1, 1, c * h * w])]);
    }
    // Per-channel constants are [C]: NHWC broadcasting puts them along the channel axis.
    case 'Scale':
    case 'PReLU':
      return perChannelLayer(tf, layer);
    case 'Eltwise': {
      const { operation, coeffs } = p.eltwise;
      const combine = operation === 'sum' ? tf.add : operation === 'prod' ? tf.mul : tf.maximum;
      return noWeights((xs) => {
        const terms = xs.map((x, i) => (coeffs.length > 0 && coeffs[i] !== 1 ? tf.mul(x, coeffs[i]) as Tensor4D : x));
        return [terms.slice(1).reduce((acc, t) => combine(acc, t) as Tensor4D, terms[0])];
      });
    }
    case 'Clip':
      return noWeights(([x]) => [tf.clipByValue(x, p.clip.min, p.clip.max)]);
    case 'Sigmoid':
      return noWeights(([x]) => [tf.sigmoid(x)]);
    default: {
      const type: string = (p as { type: string }).type;
      throw new NetworkError(`tfjs-wasm: layer '${layer.name}' has type ${type}, which the TF.js peer does not build`);
    }
  }
}

/** Scale (x * weight + bias) or PReLU (slopes) with its [C] (or shared [1]) weights uploaded once. */
function perChannelLayer(tf: Tf, layer: Layer): TfjsLayer {
  const w = layer.weights;
  if (!w) throw new NetworkError(`tfjs-wasm: layer '${layer.name}' (${layer.params.type}) has no weights`);
  const weight = tf.tensor1d(w.weight);
  const bias = w.bias && tf.tensor1d(w.bias);
  const run: TfjsLayer['run'] = layer.params.type === 'PReLU'
    ? ([x]) => [tf.prelu(x, weight as TfCore.Tensor as Tensor4D)]
    : ([x]) => [(bias ? tf.add(tf.mul(x, weight), bias) : tf.mul(x, weight)) as Tensor4D];
  return { run, dispose: () => { weight.dispose(); bias?.dispose(); } };
}
