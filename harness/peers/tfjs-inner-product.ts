/**
 * A Caffe InnerProduct as one TF.js fused matMul (bias and a following ReLU folded in).
 *
 * Caffe's weight is (out, c x h x w) over its input flattened in CHW order; here the input is an
 * NHWC tensor, which flattens in HWC order. The weight columns are permuted to that order once,
 * so no transpose runs per batch, and stored as [in, out]: TF.js's wasm matMul takes XNNPACK's
 * fully connected path only when neither operand is transposed.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import { NetworkError } from '../../src/errors.js';
import type { InnerProductParams, Layer } from '../../src/ir/network.js';
import type { FusedActivation, TfjsLayer } from './tfjs-layer-form.js';
import type { Tf } from './tfjs-wasm-runtime.js';

/** Caffe's (out, CHW) weight as [HWC, out]. */
export function innerProductWeights(weight: Float32Array, outputs: number, input: { c: number; h: number; w: number }): Float32Array {
  const { c: C, h: H, w: W } = input;
  const size = C * H * W;
  const t = new Float32Array(size * outputs);
  for (let o = 0; o < outputs; o++) {
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) t[((y * W + x) * C + c) * outputs + o] = weight[o * size + (c * H + y) * W + x];
      }
    }
  }
  return t;
}

/** An InnerProduct layer; `act` is the fused activation. */
export function innerProductLayer(tf: Tf, layer: Layer, p: InnerProductParams, act: FusedActivation): TfjsLayer {
  const weights = layer.weights;
  if (!weights) throw new NetworkError(`tfjs-wasm: layer '${layer.name}' has no weights loaded`);
  const input = layer.inputShapes[0];
  const size = input.c * input.h * input.w;
  const b = tf.tensor2d(innerProductWeights(weights.weight, p.numOutput, input), [size, p.numOutput]);
  const bias = weights.bias ? tf.tensor1d(weights.bias) : undefined;
  return {
    run([x]) {
      const batch = x.shape[0];
      const a = tf.reshape(x, [batch, size]) as TfCore.Tensor2D;
      const y = tf.fused.matMul({ a, b, bias, activation: act.activation, leakyreluAlpha: act.leakyreluAlpha });
      return [tf.reshape(y, [batch, 1, 1, p.numOutput]) as TfCore.Tensor4D];
    },
    dispose() {
      b.dispose();
      bias?.dispose();
    },
  };
}
