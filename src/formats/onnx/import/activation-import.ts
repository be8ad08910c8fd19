/** Element-wise activations and Softmax: Relu, LeakyRelu, PRelu, Clip, Sigmoid, Softmax. */
import { NetworkError } from '../../../errors.js';
import { channelValues, type ChannelValues } from './channel-constant.js';
import type { GraphImport, OnnxNode } from './graph-import.js';
import { onnxDims, type Activation, type Constant } from './graph-values.js';

/** float32's largest value: Clip's default bounds before opset 11, and what counts as unbounded. */
const FLOAT32_MAX = 3.4028234663852886e38;

export function importRelu(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  g.addNodeLayer(node, { type: 'ReLU', relu: { negativeSlope: 0 } }, [x], x.rank);
}

/** LeakyRelu is Caffe's ReLU with negative_slope: max(0, x) + alpha * min(0, x). */
export function importLeakyRelu(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  g.addNodeLayer(node, { type: 'ReLU', relu: { negativeSlope: node.attrs.float('alpha', 0.01) } }, [x], x.rank);
}

/**
 * PRelu with per-channel slopes (or one shared slope), a constant. From opset 7 the slope
 * broadcasts by numpy's rules; before, a slope of one value is shared and one of C values (dims
 * [C]) is per channel, whatever the input's rank (PRelu-6).
 */
export function importPrelu(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  const slope = g.constant(node, 1, 'slope');
  const slopes = node.opset < 7 ? legacySlopes(g, node, slope, x) : channelValues(g, node, slope, x, 'slope');
  const weight = slopes.shared ? slopes.values.slice(0, 1) : slopes.values;
  g.addNodeLayer(node, { type: 'PReLU', prelu: { channelShared: slopes.shared } }, [x], x.rank, { weight });
}

/** PRelu's slopes before opset 7: one value, or dims [C]. */
function legacySlopes(g: GraphImport, node: OnnxNode, slope: Constant, x: Activation): ChannelValues {
  const { dims, data } = g.floats(slope);
  if (data.length === 1) return { values: new Float32Array(x.shape.c).fill(data[0]), shared: true };
  if (dims.length !== 1 || dims[0] !== x.shape.c) {
    throw new NetworkError(`${node.where}: its slope has dims [${dims.join(', ')}]; before opset 7 a slope is one value or one per channel ([${x.shape.c}] for its input ${onnxDims(x)})`);
  }
  return { values: data.slice(), shared: false };
}

export function importSigmoid(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  g.addNodeLayer(node, { type: 'Sigmoid' }, [x], x.rank);
}

/** One bound of Clip from its optional input (opset 11 on): a one-value constant. */
function bound(node: OnnxNode, g: GraphImport, i: number, role: string, fallback: number): number {
  if (!g.input(node, i)) return fallback;
  const { data } = g.floats(g.constant(node, i, role), false);
  if (data.length !== 1) throw new NetworkError(`${node.where}: its ${role} has ${data.length} values; Clip takes one`);
  if (Number.isNaN(data[0])) throw new NetworkError(`${node.where}: its ${role} is NaN`);
  return data[0];
}

/**
 * Clip to [min, max] (ReLU6 is Clip(0, 6)). Bounds are attributes before opset 11, optional
 * constant inputs after. Clip(0, unbounded) is a ReLU, and becomes one: DyVEDeep's mechanisms
 * recognise a ReLU.
 */
export function importClip(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  const [min, max] = node.opset < 11
    ? [node.attrs.float('min', -FLOAT32_MAX), node.attrs.float('max', FLOAT32_MAX)]
    : [bound(node, g, 1, 'min', -Infinity), bound(node, g, 2, 'max', Infinity)];
  if (min > max) throw new NetworkError(`${node.where}: min ${min} is above max ${max}`);
  if (min === 0 && max >= FLOAT32_MAX) {
    g.addNodeLayer(node, { type: 'ReLU', relu: { negativeSlope: 0 } }, [x], x.rank);
    return;
  }
  const unbounded = (v: number): number => (Math.abs(v) >= FLOAT32_MAX ? Math.sign(v) * Infinity : v);
  g.addNodeLayer(node, { type: 'Clip', clip: { min: unbounded(min), max: unbounded(max) } }, [x], x.rank);
}

/**
 * Softmax over the channels (the IR's, at every position). From opset 13 `axis` is the one axis
 * normalised: 1 for N x C x H x W or N x C x L, 1 or -1 for N x C. Before opset 13 the input was
 * flattened from `axis` on, so axis 1 over N x C x H x W normalised over C*H*W values: the same
 * only when H = W = 1.
 */
export function importSoftmax(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  const axis = node.attrs.int('axis', node.opset < 13 ? 1 : -1);
  const normalized = axis < 0 ? axis + x.rank : axis;
  const spatial = x.shape.h * x.shape.w > 1;
  const channels = x.rank === 2 ? normalized === 1 : normalized === 1 && (node.opset >= 13 || !spatial);
  if (!channels) {
    throw new NetworkError(`${node.where}: softmax along axis ${axis} of its input ${onnxDims(x)} (opset ${node.opset}) is not supported: only over the channels (axis 1${node.opset < 13 && x.rank > 2 ? ', before opset 13 only when the dims after C are all 1' : ''})`);
  }
  g.addNodeLayer(node, { type: 'Softmax' }, [x], x.rank);
}
