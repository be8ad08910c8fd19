/**
 * What the exporter knows about each ONNX tensor it made, and the two reshapes between Caffe's
 * blob ranks.
 *
 * The IR stores every blob as C x H x W per image, but Caffe's own blobs have rank 2 after
 * InnerProduct and Flatten (N x C). The exported graph keeps Caffe's ranks, so a classifier
 * outputs N x classes as it does in Caffe; a rank-2 tensor always has H = W = 1 in the IR.
 */
import type { GraphBuilder } from './graph-builder.js';

/** An ONNX tensor holding a Caffe blob: its name and rank (4: N x C x H x W, or 2: N x C). */
export interface TensorRef {
  readonly name: string;
  readonly rank: 2 | 4;
}

/** The tensor as N x C x H x W (rank 2 becomes N x C x 1 x 1). */
export function toRank4(g: GraphBuilder, x: TensorRef, nodeName: string): TensorRef {
  if (x.rank === 4) return x;
  // Opset 13 takes Unsqueeze's axes as an input tensor, not an attribute.
  const name = g.node('Unsqueeze', [x.name, g.int64s('axes_2_3', [2, 3])], [g.tensor(`${x.name}_4d`)], `${nodeName}/unsqueeze`);
  return { name, rank: 4 };
}

/** The tensor as N x (C*H*W), in C, H, W order: the order of Caffe's InnerProduct weights. */
export function toRank2(g: GraphBuilder, x: TensorRef, nodeName: string): TensorRef {
  if (x.rank === 2) return x;
  const name = g.node('Flatten', [x.name], [g.tensor(`${x.name}_flat`)], `${nodeName}/flatten`, { axis: { int: 1 } });
  return { name, rank: 2 };
}
