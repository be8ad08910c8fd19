/**
 * The shape of a weighted layer as the dynamic kernels see it: a (grouped, strided, padded,
 * dilated) 2-D convolution. A fully connected layer is the special case whose kernel covers the
 * whole input map (kernel = input H x W, no pad, one output position): its weight matrix
 * (out, C*H*W) is exactly a (out, C, H, W) filter bank, so the SPET plan and the per-neuron
 * reference loops serve both layer types unchanged.
 */
import { NetworkError } from '../errors.js';
import type { ConvolutionParams, Layer } from '../ir/network.js';
import { checkedWeights } from '../ir/layer-params.js';

/** Everything the dynamic kernels index with, resolved once per call. */
export interface DynGeometry {
  readonly inC: number;
  readonly inH: number;
  readonly inW: number;
  readonly outC: number;
  readonly outH: number;
  readonly outW: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly group: number;
  /** Input channels per group. */
  readonly cpg: number;
  /** Output channels per group. */
  readonly m: number;
  /** Taps per input channel: kernelH x kernelW. */
  readonly taps: number;
  /** Output positions per map: outH x outW. */
  readonly positions: number;
  /** Values of one input map: inH x inW. */
  readonly planeSize: number;
  /** Values of one image's input blob. */
  readonly inSize: number;
  /** Values of one image's output blob. */
  readonly outSize: number;
}

/** The weights and bias of a layer, checked against its geometry. */
export interface DynWeights {
  readonly weight: Float32Array;
  readonly bias: Float32Array | undefined;
}

/** Geometries by layer: the per-geometry caches (tap layouts) then hit on every call. */
const geometries = new WeakMap<Layer, DynGeometry>();

function cached(layer: Layer, make: () => DynGeometry): DynGeometry {
  let g = geometries.get(layer);
  if (!g) {
    g = make();
    geometries.set(layer, g);
  }
  return g;
}

/** Geometry of a Convolution layer. */
export function convolutionGeometry(layer: Layer): DynGeometry {
  if (layer.params.type !== 'Convolution') {
    throw new NetworkError(`layer '${layer.name}': a dynamic convolution was given a ${layer.params.type} layer`);
  }
  const conv = layer.params.conv;
  return cached(layer, () => makeConvolutionGeometry(layer, conv));
}

/** Geometry of an InnerProduct layer seen as a convolution whose kernel is the whole input map. */
export function innerProductGeometry(layer: Layer): DynGeometry {
  if (layer.params.type !== 'InnerProduct') {
    throw new NetworkError(`layer '${layer.name}': a dynamic inner product was given a ${layer.params.type} layer`);
  }
  const numOutput = layer.params.ip.numOutput;
  return cached(layer, () => makeInnerProductGeometry(layer, numOutput));
}

function makeConvolutionGeometry(layer: Layer, p: ConvolutionParams): DynGeometry {
  const { c: inC, h: inH, w: inW } = layer.inputShapes[0];
  const { c: outC, h: outH, w: outW } = layer.outputShapes[0];
  return {
    inC, inH, inW, outC, outH, outW,
    kernelH: p.kernelH, kernelW: p.kernelW, strideH: p.strideH, strideW: p.strideW,
    padH: p.padH, padW: p.padW, dilationH: p.dilationH, dilationW: p.dilationW,
    group: p.group, cpg: inC / p.group, m: outC / p.group, taps: p.kernelH * p.kernelW,
    positions: outH * outW, planeSize: inH * inW, inSize: inC * inH * inW, outSize: outC * outH * outW,
  };
}

function makeInnerProductGeometry(layer: Layer, outC: number): DynGeometry {
  const { c: inC, h: inH, w: inW } = layer.inputShapes[0];
  return {
    inC, inH, inW, outC, outH: 1, outW: 1,
    kernelH: inH, kernelW: inW, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1,
    group: 1, cpg: inC, m: outC, taps: inH * inW,
    positions: 1, planeSize: inH * inW, inSize: inC * inH * inW, outSize: outC,
  };
}

/** The layer's weights, size-checked (a short array fails with a sentence instead of NaNs). */
export function dynWeights(layer: Layer, g: DynGeometry): DynWeights {
  const p = layer.params;
  const biasTerm = p.type === 'Convolution' ? p.conv.biasTerm : p.type === 'InnerProduct' ? p.ip.biasTerm : false;
  const w = checkedWeights(layer, g.outC * g.cpg * g.taps, biasTerm, g.outC);
  return { weight: w.weight, bias: biasTerm ? w.bias : undefined };
}

/**
 * For each output coordinate along one axis, the range [lo, hi) of kernel taps whose input
 * coordinate `out * stride - pad + k * dilation` falls inside [0, size). Taps increase the input
 * coordinate monotonically, so the in-bounds taps always form one range (possibly empty).
 */
export function inBoundsTapRanges(outSize: number, inSize: number, kernel: number, stride: number, pad: number, dilation: number): Int32Array {
  const r = new Int32Array(2 * outSize);
  for (let o = 0; o < outSize; o++) {
    const start = o * stride - pad;
    let lo = 0;
    while (lo < kernel && start + lo * dilation < 0) lo++;
    let hi = lo;
    while (hi < kernel && start + hi * dilation < inSize) hi++;
    r[2 * o] = lo;
    r[2 * o + 1] = hi;
  }
  return r;
}
