/**
 * What an ONNX tensor name stands for while a graph is imported.
 *
 * ONNX tensors have a rank; IR blobs are C x H x W per image. A rank-4 tensor (N x C x H x W) is a
 * blob as is; a rank-3 tensor (N x C x L, PyTorch's 1-D layers) is a C x 1 x L blob, its 1-D
 * windows 1 x k windows of the IR (the same values in the same order); a rank-2 tensor (N x C) is
 * a C x 1 x 1 blob. Two ONNX nodes have no layer of their
 * own until a reader needs one (a pending value):
 * - Flatten (or a flattening Reshape) of a rank-4 tensor: a fully connected layer reads the C x H x W
 *   blob directly (its weights are in C, H, W order, as Caffe's), so Flatten -> Gemm becomes one
 *   InnerProduct, exactly the layers of the Caffe network it was exported from; any other reader
 *   gets a Flatten layer.
 * - Pad with zeros: folded into the padding of the Conv or AveragePool that reads it (our own
 *   export writes Caffe's AVE pooling as Pad + AveragePool); any other reader is an error.
 */
import type { ITensorProto } from '../onnx-proto.js';
import type { Shape } from '../../../ir/network.js';

/** The ONNX ranks an activation may have: batch first, then C x H x W, C x L or C. */
export type OnnxRank = 2 | 3 | 4;

/** The IR blob shape of an activation of `rank` whose dims after the batch are `dims`. */
export function blobShape(rank: OnnxRank, dims: readonly number[]): Shape {
  switch (rank) {
    case 4: return { c: dims[0], h: dims[1], w: dims[2] };
    case 3: return { c: dims[0], h: 1, w: dims[1] };
    case 2: return { c: dims[0], h: 1, w: 1 };
  }
}

/** A tensor computed at run time, held in an IR blob. */
export interface Activation {
  readonly kind: 'activation';
  /** The IR blob. */
  readonly blob: string;
  /** The ONNX rank: 4 (N x C x H x W), 3 (N x C x L, a C x 1 x L blob) or 2 (N x C, a C x 1 x 1 blob). */
  readonly rank: OnnxRank;
  /** Per-image shape of the blob. */
  readonly shape: Shape;
}

/** A tensor known at load time: an initializer or a Constant node's value, decoded when read. */
export interface Constant {
  readonly kind: 'constant';
  readonly proto: ITensorProto;
  /** Names the tensor in messages: `model.onnx: initializer 'fc.weight'`. */
  readonly what: string;
}

/** A rank-4 tensor flattened to N x (C*H*W), its Flatten layer made only when a reader needs it. */
export interface PendingFlatten {
  readonly kind: 'flatten';
  readonly source: Activation;
  /** The Flatten node's layer name and output tensor, for the layer if one is made. */
  readonly layerName: string;
  readonly output: string;
  /** The flattened activation, once made. */
  made?: Activation;
}

/** A tensor padded with zeros along H and W (the same amount before and after). */
export interface PendingPad {
  readonly kind: 'pad';
  readonly source: Activation;
  readonly padH: number;
  readonly padW: number;
  /** The Pad node, for messages. */
  readonly where: string;
}

export type Value = Activation | Constant | PendingFlatten | PendingPad;

/** The ONNX dims of an activation after the batch. */
export function innerDims(a: Activation): number[] {
  switch (a.rank) {
    case 4: return [a.shape.c, a.shape.h, a.shape.w];
    case 3: return [a.shape.c, a.shape.w];
    case 2: return [a.shape.c];
  }
}

/** The ONNX shape of an activation, batch first (`N` for the batch). */
export function onnxDims(a: Activation): string {
  return `[N, ${innerDims(a).join(', ')}]`;
}
