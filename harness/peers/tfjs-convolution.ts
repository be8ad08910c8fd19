/**
 * A Caffe Convolution as TF.js fused convolutions (bias and a following ReLU folded in).
 *
 * Weights go from Caffe's (out, in / group, kh, kw) to TF.js's [kh, kw, in, out] once, here.
 * What TF.js lacks, emulated exactly:
 * - groups: TF.js has no grouped convolution. One input channel per group is a depthwise
 *   convolution with channel multiplier out / group (its output channel c x multiplier + m is
 *   Caffe's channel of group c); otherwise the channels are split per group, each group convolved
 *   and the results concatenated.
 * - stride and dilation both above 1: TF.js refuses the pair; the convolution runs at stride 1
 *   and a strided slice keeps Caffe's positions.
 * - pads that differ between the axes on a depthwise convolution: its fused op takes one number,
 *   so the input is zero-padded first.
 * Caffe's pads are symmetric and its output size rounds down, as TF.js's explicit padding does.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import { NetworkError } from '../../src/errors.js';
import type { ConvolutionParams, Layer } from '../../src/ir/network.js';
import type { FusedActivation, TfjsLayer } from './tfjs-layer-form.js';
import type { Tf } from './tfjs-wasm-runtime.js';

type Tensor4D = TfCore.Tensor4D;

/**
 * Caffe weights of output channels [first, first + count) as a TF.js filter
 * [kh, kw, inPerGroup, count].
 */
function filterOf(weight: Float32Array, p: ConvolutionParams, inPerGroup: number, first: number, count: number): Float32Array {
  const k = p.kernelH * p.kernelW;
  const f = new Float32Array(k * inPerGroup * count);
  for (let o = 0; o < count; o++) {
    for (let i = 0; i < inPerGroup; i++) {
      const src = ((first + o) * inPerGroup + i) * k;
      for (let s = 0; s < k; s++) f[(s * inPerGroup + i) * count + o] = weight[src + s];
    }
  }
  return f;
}

/** A Convolution layer; `act` is the fused activation. */
export function convolutionLayer(tf: Tf, layer: Layer, p: ConvolutionParams, act: FusedActivation): TfjsLayer {
  const weights = layer.weights;
  if (!weights) throw new NetworkError(`tfjs-wasm: layer '${layer.name}' has no weights loaded`);
  const input = layer.inputShapes[0];
  const out = layer.outputShapes[0];
  const groups = p.group;
  const inPer = input.c / groups;
  const outPer = p.numOutput / groups;
  const strided = p.strideH > 1 || p.strideW > 1;
  const dilated = p.dilationH > 1 || p.dilationW > 1;
  const sliceAfter = strided && dilated;
  const strides: [number, number] = sliceAfter ? [1, 1] : [p.strideH, p.strideW];
  const dilations: [number, number] = [p.dilationH, p.dilationW];
  const kernel: [number, number] = [p.kernelH, p.kernelW];
  const fused = { strides, dilations, activation: act.activation, leakyreluAlpha: act.leakyreluAlpha } as const;
  const owned: TfCore.Tensor[] = [];
  const keep = <T extends TfCore.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  const biasOf = (first: number, count: number) =>
    weights.bias ? keep(tf.tensor1d(weights.bias.subarray(first, first + count))) : undefined;

  let convolve: (x: Tensor4D) => Tensor4D;
  if (groups > 1 && inPer === 1) {
    // Depthwise [kh, kw, c, m] is [kh, kw, 1, c x m] in memory: channel c's multiplier m is Caffe's
    // output channel c x outPer + m, so the one-input-channel filter of all outputs is the same array.
    const filter = keep(tf.tensor4d(filterOf(weights.weight, p, 1, 0, p.numOutput), [...kernel, input.c, outPer]));
    const bias = biasOf(0, p.numOutput);
    const samePads = p.padH === p.padW;
    convolve = (x) => {
      const padded = samePads ? x : tf.pad(x, [[0, 0], [p.padH, p.padH], [p.padW, p.padW], [0, 0]]);
      const pad = samePads && p.padH > 0 ? p.padH : 'valid';
      return tf.fused.depthwiseConv2d({ ...fused, x: padded, filter, pad, bias });
    };
  } else {
    const filters = Array.from({ length: groups }, (_, g) =>
      keep(tf.tensor4d(filterOf(weights.weight, p, inPer, g * outPer, outPer), [...kernel, inPer, outPer])));
    const biases = Array.from({ length: groups }, (_, g) => biasOf(g * outPer, outPer));
    const pad = p.padH === 0 && p.padW === 0 ? 'valid' : [[0, 0], [p.padH, p.padH], [p.padW, p.padW], [0, 0]] as TfCore.backend_util.ExplicitPadding;
    const one = (x: Tensor4D, g: number) =>
      tf.fused.conv2d({ ...fused, x, filter: filters[g], pad, dataFormat: 'NHWC', bias: biases[g] });
    convolve = groups === 1 ? (x) => one(x, 0) : (x) => tf.concat(tf.split(x, groups, 3).map((part, g) => one(part as Tensor4D, g)), 3);
  }

  return {
    run([x]) {
      const y = convolve(x);
      if (!sliceAfter) return [y];
      const end = [x.shape[0], (out.h - 1) * p.strideH + 1, (out.w - 1) * p.strideW + 1, out.c];
      return [tf.stridedSlice(y, [0, 0, 0, 0], end, [1, p.strideH, p.strideW, 1]) as Tensor4D];
    },
    dispose: () => owned.forEach((t) => t.dispose()),
  };
}
