/**
 * Single layers with seeded random weights, for the kernel tests of every CPU variant (fast,
 * reference, wasm): the same shapes and values in every suite.
 */
import { mulberry32 } from '../../src/formats/synthetic-weights.js';
import { convOutputSize } from '../../src/ir/layers/convolution.js';
import { poolOutputSize } from '../../src/ir/layers/pooling.js';
import type { ConvolutionParams, Layer, LayerParams, PoolingParams, Shape } from '../../src/ir/network.js';
import { shapeSize } from '../../src/ir/network.js';

/** Seeded values uniform in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** A layer of the IR with generated blob names. */
export function layer(name: string, params: LayerParams, inputShapes: Shape[], outputShapes: Shape[], extra: Partial<Layer> = {}): Layer {
  return {
    name,
    params,
    bottoms: inputShapes.map((_, i) => `${name}_in${i}`),
    tops: outputShapes.map((_, i) => `${name}_out${i}`),
    inputShapes,
    outputShapes,
    ...extra,
  };
}

/** Convolution parameters: the required ones, the rest defaulting as in Caffe. */
export type ConvOptions = Partial<ConvolutionParams> & { numOutput: number; kernelH: number; kernelW: number };

/** A Convolution with seeded weights (or `weight`) and, unless biasTerm is false, a seeded bias. */
export function convLayer(input: Shape, o: ConvOptions, seed = 1, weight?: Float32Array): Layer {
  const conv: ConvolutionParams = {
    strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, group: 1, biasTerm: true, ...o,
  };
  const out: Shape = {
    c: conv.numOutput,
    h: convOutputSize(input.h, conv.kernelH, conv.strideH, conv.padH, conv.dilationH),
    w: convOutputSize(input.w, conv.kernelW, conv.strideW, conv.padW, conv.dilationW),
  };
  const wSize = conv.numOutput * (input.c / conv.group) * conv.kernelH * conv.kernelW;
  const weights = {
    weight: weight ?? randomArray(wSize, seed, 0.5),
    ...(conv.biasTerm ? { bias: randomArray(conv.numOutput, seed + 1000, 0.5) } : {}),
  };
  return layer('conv', { type: 'Convolution', conv }, [input], [out], { weights });
}

/** Pooling parameters: the method, the rest defaulting to a 1-stride, unpadded window. */
export type PoolOptions = Partial<PoolingParams> & { method: 'max' | 'ave' };

/** A Pooling layer (Caffe's output rounding). */
export function poolLayer(input: Shape, o: PoolOptions): Layer {
  const pool: PoolingParams = { kernelH: 0, kernelW: 0, strideH: 1, strideW: 1, padH: 0, padW: 0, global: false, ceilMode: true, ...o };
  const out: Shape = pool.global
    ? { c: input.c, h: 1, w: 1 }
    : { c: input.c, h: poolOutputSize(input.h, pool.kernelH, pool.strideH, pool.padH), w: poolOutputSize(input.w, pool.kernelW, pool.strideW, pool.padW) };
  return layer('pool', { type: 'Pooling', pool }, [input], [out]);
}

/** An InnerProduct with seeded weights. */
export function ipLayer(input: Shape, numOutput: number, biasTerm = true, seed = 7): Layer {
  const weights = { weight: randomArray(numOutput * shapeSize(input), seed, 0.2), ...(biasTerm ? { bias: randomArray(numOutput, seed + 1) } : {}) };
  return layer('ip', { type: 'InnerProduct', ip: { numOutput, biasTerm } }, [input], [{ c: numOutput, h: 1, w: 1 }], { weights });
}

/** An in-place ReLU. */
export function reluLayer(shape: Shape, negativeSlope: number): Layer {
  return { name: 'relu', params: { type: 'ReLU', relu: { negativeSlope } }, bottoms: ['in'], tops: ['in'], inputShapes: [shape], outputShapes: [shape] };
}

/**
 * Convolution geometries every CPU kernel variant is tested on (name, input, options, batch):
 * padding, groups, depthwise, dilation, asymmetric kernels and strides. Suites add their own.
 */
export const CONV_GEOMETRY_CASES: readonly [string, Shape, ConvOptions, number][] = [
  ['3x3 pad 1', { c: 5, h: 9, w: 11 }, { numOutput: 7, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 2],
  ['groups 2', { c: 6, h: 8, w: 8 }, { numOutput: 10, kernelH: 3, kernelW: 3, padH: 1, padW: 1, group: 2 }, 2],
  ['groups 3, no bias', { c: 9, h: 7, w: 6 }, { numOutput: 6, kernelH: 2, kernelW: 2, group: 3, biasTerm: false }, 1],
  ['depthwise (group = channels)', { c: 4, h: 10, w: 10 }, { numOutput: 4, kernelH: 3, kernelW: 3, padH: 1, padW: 1, group: 4 }, 2],
  ['dilation 2', { c: 3, h: 13, w: 12 }, { numOutput: 5, kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2, padH: 2, padW: 2 }, 1],
  ['dilation 3x1, asymmetric', { c: 3, h: 14, w: 9 }, { numOutput: 4, kernelH: 3, kernelW: 2, dilationH: 3, dilationW: 1, padH: 1, padW: 0 }, 1],
  ['kernel 3x5, stride 2x1, pad 1x2', { c: 4, h: 11, w: 10 }, { numOutput: 6, kernelH: 3, kernelW: 5, strideH: 2, strideW: 1, padH: 1, padW: 2 }, 2],
  ['stride 3x2, pad 2x0', { c: 2, h: 10, w: 9 }, { numOutput: 3, kernelH: 4, kernelW: 3, strideH: 3, strideW: 2, padH: 2, padW: 0 }, 1],
];
