/** MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool (2-D, or 1-D as 1 x k) -> Pooling (see window-geometry.ts for the padding rules). */
import { NetworkError } from '../../../errors.js';
import type { PoolingParams, PoolMethod } from '../../../ir/network.js';
import { paddedInput, windowAttribute, windowAxes } from './conv-import.js';
import type { GraphImport, OnnxNode } from './graph-import.js';
import { declaredPads, poolingAxis } from './window-geometry.js';

function importPool(node: OnnxNode, g: GraphImport, method: PoolMethod): void {
  const { source: x, extra } = paddedInput(g, node, 0);
  const spatial = windowAxes(node, x);
  if (method === 'max' && (extra[0] > 0 || extra[1] > 0)) {
    throw new NetworkError(`${node.where}: reads a zero Pad: the zeros would enter the maximum, which the IR's pooling (padding ignored) does not compute`);
  }
  const kernel = windowAttribute(node, 'kernel_shape', spatial);
  const strides = windowAttribute(node, 'strides', spatial, [1, 1]);
  const dilations = windowAttribute(node, 'dilations', spatial, [1, 1]);
  if (dilations[0] !== 1 || dilations[1] !== 1) throw new NetworkError(`${node.where}: dilations [${node.attrs.ints('dilations').join(', ')}] are not supported for pooling`);
  const ceil = node.attrs.int('ceil_mode', 0) !== 0;
  const countIncludePad = method === 'ave' ? node.attrs.int('count_include_pad', 0) !== 0 : undefined;
  // storage_order only orders the Indices output, which the importer refuses when it is read.
  if (method === 'max') node.attrs.ignore('storage_order');
  const input: [number, number] = [x.shape.h, x.shape.w];
  const pads = declaredPads(node, spatial, [input[0] + 2 * extra[0], input[1] + 2 * extra[1]], kernel, strides);
  const axes = ([0, 1] as const).map((a) => poolingAxis(node, a, {
    input: input[a], kernel: kernel[a], stride: strides[a], extra: extra[a], begin: pads.begin[a], end: pads.end[a], same: pads.same, ceil,
  }, countIncludePad));
  // Caffe's rounding (up) where both give ONNX's sizes: a Caffe network exported and read back is unchanged.
  const ceilMode = [true, false].find((c) => axes[0].ceilModes.includes(c) && axes[1].ceilModes.includes(c));
  if (ceilMode === undefined) {
    throw new NetworkError(`${node.where}: its output size is rounded up along one axis and down along the other: not supported`);
  }
  const pool: PoolingParams = {
    method, kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1],
    padH: axes[0].pad, padW: axes[1].pad, global: false, ceilMode,
  };
  g.addNodeLayer(node, { type: 'Pooling', pool }, [x], x.rank);
}

/** MaxPool (its Indices output is refused when read, as every output a translation does not make). */
export const importMaxPool = (node: OnnxNode, g: GraphImport): void => importPool(node, g, 'max');

/** AveragePool. */
export const importAveragePool = (node: OnnxNode, g: GraphImport): void => importPool(node, g, 'ave');

/** GlobalMaxPool / GlobalAveragePool: the whole map, no padding. */
export function importGlobalPool(method: PoolMethod) {
  return (node: OnnxNode, g: GraphImport): void => {
    const x = g.activation(node, 0);
    windowAxes(node, x);
    const pool: PoolingParams = { method, kernelH: 0, kernelW: 0, strideH: 1, strideW: 1, padH: 0, padW: 0, global: true, ceilMode: true };
    g.addNodeLayer(node, { type: 'Pooling', pool }, [x], x.rank);
  };
}
