/**
 * Caffe's LRN with TF.js ops.
 *
 * ACROSS_CHANNELS: Caffe's y = x (k + alpha / n x sum over the n channels around c of x^2)^-beta
 * is TF.js's localResponseNormalization with depthRadius (n - 1) / 2, bias k, alpha / n (TF.js
 * does not divide alpha by the window) and beta; both clip the window to the existing channels.
 * WITHIN_CHANNEL (no TF.js op): y = x (1 + alpha / n^2 x sum of x^2 over the zero-padded n x n
 * window)^-beta, the sum as a depthwise convolution of x^2 with a constant filter alpha / n^2 and
 * a bias of 1. The divisor is n^2 everywhere (Caffe's AVE pooling with pad (n - 1) / 2); k is
 * unused, as in Caffe.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type { Layer, LrnParams } from '../../src/ir/network.js';
import type { TfjsLayer } from './tfjs-layer-form.js';
import type { Tf } from './tfjs-wasm-runtime.js';

/** An LRN layer. */
export function lrnLayer(tf: Tf, layer: Layer, p: LrnParams): TfjsLayer {
  const half = (p.localSize - 1) / 2;
  if (p.region === 'across-channels') {
    return {
      run: ([x]) => [tf.localResponseNormalization(x, half, p.k, p.alpha / p.localSize, p.beta)],
      dispose: () => undefined,
    };
  }
  const channels = layer.inputShapes[0].c;
  const n = p.localSize;
  const filter = tf.fill([n, n, channels, 1], p.alpha / (n * n)) as TfCore.Tensor4D;
  const one = tf.ones([channels]) as TfCore.Tensor1D;
  const exponent = tf.scalar(-p.beta);
  return {
    run([x]) {
      const base = tf.fused.depthwiseConv2d({ x: tf.square(x), filter, strides: 1, pad: half > 0 ? half : 'valid', bias: one });
      return [tf.mul(x, tf.pow(base, exponent))];
    },
    dispose() {
      filter.dispose();
      one.dispose();
      exponent.dispose();
    },
  };
}
