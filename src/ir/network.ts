/**
 * The model IR: a Caffe network after parsing, shape inference and weight loading.
 *
 * Every blob is stored per image as CHW (channels, height, width) float32; a batch of N images is
 * N such blocks back to back. Fully connected outputs are C x 1 x 1, so Flatten is free.
 */

/** Shape of one image's blob: channels x height x width. */
export interface Shape {
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

/** Number of float32 values in one image's blob of this shape. */
export function shapeSize(s: Shape): number {
  return s.c * s.h * s.w;
}

/** Human-readable `CxHxW`. */
export function formatShape(s: Shape): string {
  return `${s.c}x${s.h}x${s.w}`;
}

/** Convolution parameters, all 2-D fields resolved (Caffe's scalar, repeated and _h/_w forms). */
export interface ConvolutionParams {
  readonly numOutput: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly group: number;
  readonly biasTerm: boolean;
}

export type PoolMethod = 'max' | 'ave';

export interface PoolingParams {
  readonly method: PoolMethod;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly global: boolean;
  /**
   * Output size rounded up (Caffe, ONNX ceil_mode 1) or down (ONNX's default). Kernels read the
   * output shape, so only shape inference looks at this.
   */
  readonly ceilMode: boolean;
}

export interface LrnParams {
  readonly localSize: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  readonly region: 'across-channels' | 'within-channel';
}

export interface InnerProductParams {
  readonly numOutput: number;
  readonly biasTerm: boolean;
}

export interface ReluParams {
  readonly negativeSlope: number;
}

/**
 * Per-channel affine map y = x * weight[c] (+ bias[c]): Caffe's Scale, and what an inference
 * batch normalization (Caffe BatchNorm + Scale, ONNX BatchNormalization) and an ONNX Add / Mul by a
 * per-channel constant become. Its weights are `weight` (C) and `bias` (C, when biasTerm).
 */
export interface ScaleParams {
  readonly biasTerm: boolean;
}

export type EltwiseOperation = 'sum' | 'prod' | 'max';

/** Element by element over two or more bottoms of one shape (Caffe Eltwise; ONNX Add / Mul / Max). */
export interface EltwiseParams {
  readonly operation: EltwiseOperation;
  /** Per-bottom factors of a sum (Caffe `coeff`); empty = all 1. */
  readonly coeffs: readonly number[];
}

/** ReLU with a learned negative slope per channel (`weight`, C values), or one shared value. */
export interface PreluParams {
  readonly channelShared: boolean;
}

/** Clamp to [min, max] (ReLU6 is min 0, max 6). */
export interface ClipParams {
  readonly min: number;
  readonly max: number;
}

/** Each layer type with its parameters; the discriminant is the canonical Caffe type name. */
export type LayerParams =
  | { readonly type: 'Convolution'; readonly conv: ConvolutionParams }
  | { readonly type: 'Pooling'; readonly pool: PoolingParams }
  | { readonly type: 'LRN'; readonly lrn: LrnParams }
  | { readonly type: 'InnerProduct'; readonly ip: InnerProductParams }
  | { readonly type: 'ReLU'; readonly relu: ReluParams }
  | { readonly type: 'Scale'; readonly scale: ScaleParams }
  | { readonly type: 'Eltwise'; readonly eltwise: EltwiseParams }
  | { readonly type: 'PReLU'; readonly prelu: PreluParams }
  | { readonly type: 'Clip'; readonly clip: ClipParams }
  | { readonly type: 'Sigmoid' }
  | { readonly type: 'Dropout' }
  | { readonly type: 'Softmax' }
  | { readonly type: 'Concat' }
  | { readonly type: 'Split' }
  | { readonly type: 'Flatten' };

export type LayerType = LayerParams['type'];

/** Learned parameters of a layer, in Caffe's blob order. */
export interface LayerWeights {
  /** Convolution: (out, in / group, kh, kw); InnerProduct: (out, in); Scale: (C); PReLU: (C) or (1). */
  readonly weight: Float32Array;
  /** One per output channel, or absent when bias_term is false. */
  readonly bias?: Float32Array;
}

/** A layer of the IR, its shapes inferred. */
export interface Layer {
  readonly name: string;
  readonly params: LayerParams;
  readonly bottoms: readonly string[];
  readonly tops: readonly string[];
  readonly inputShapes: readonly Shape[];
  readonly outputShapes: readonly Shape[];
  /** Present exactly for weighted layers (see isWeighted) once weights are loaded. */
  weights?: LayerWeights;
}

/** A network ready to run: layers in execution order, every blob shape known. */
export interface Network {
  readonly name: string;
  readonly inputName: string;
  readonly inputShape: Shape;
  readonly layers: readonly Layer[];
  /** The blob the network's last layer writes: what classification reads. */
  readonly outputName: string;
  /** Shape of every blob, input included. */
  readonly blobShapes: ReadonlyMap<string, Shape>;
  /** Set when the weights are seeded random, never trained: results carry no accuracy. */
  readonly synthetic: boolean;
}

/** The blob top-1 is read from before any final Softmax (monotone, so the same decision, without its ties). */
export function logitsBlob(net: Network): string {
  const last = net.layers.at(-1);
  return last && last.params.type === 'Softmax' ? last.bottoms[0] : net.outputName;
}

/** Layers that carry weights. */
export function isWeighted(layer: Layer): boolean {
  const t = layer.params.type;
  return t === 'Convolution' || t === 'InnerProduct' || t === 'Scale' || t === 'PReLU';
}

/**
 * Convolution and InnerProduct: the layers with MACs, the only ones DyVEDeep's mechanisms act on
 * and the ones a following ReLU may be fused into (isWeighted also holds Scale and PReLU).
 */
export function isConvOrInnerProduct(layer: Layer): boolean {
  const t = layer.params.type;
  return t === 'Convolution' || t === 'InnerProduct';
}
