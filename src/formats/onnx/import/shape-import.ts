/**
 * Operators that route or reshape without computing: Concat, Flatten, Reshape, Squeeze,
 * Unsqueeze, Dropout and Identity (the identity at inference), Constant.
 */
import { NetworkError } from '../../../errors.js';
import { onnx, type ITensorProto } from '../onnx-proto.js';
import type { GraphImport, OnnxNode } from './graph-import.js';
import { innerDims, onnxDims, type Activation } from './graph-values.js';

/** Concat along the channels: axis 1 (-3 of N x C x H x W, -1 of N x C). */
export function importConcat(node: OnnxNode, g: GraphImport): void {
  const inputs = (node.proto.input ?? []).map((_, i) => g.activation(node, i));
  const rank = inputs[0]?.rank;
  if (!rank) throw new NetworkError(`${node.where}: has no inputs`);
  if (inputs.some((x) => x.rank !== rank)) throw new NetworkError(`${node.where}: its inputs ${inputs.map(onnxDims).join(', ')} differ in rank`);
  const axis = node.attrs.int('axis', node.opset < 4 ? 1 : undefined);
  if ((axis < 0 ? axis + rank : axis) !== 1) throw new NetworkError(`${node.where}: concatenation along axis ${axis} is not supported (only the channels, axis 1)`);
  if (inputs.length === 1) {
    g.setOutput(node, 0, inputs[0]);
    return;
  }
  g.addNodeLayer(node, { type: 'Concat' }, inputs, rank);
}

/** N x C x H x W (or N x C x L) -> N x (C*H*W), left pending (see graph-values.ts); a rank-2 input is unchanged. */
function flattenTo2(node: OnnxNode, g: GraphImport, x: Activation): void {
  if (x.rank === 2) {
    g.setOutput(node, 0, x);
    return;
  }
  const output = node.proto.output?.[0] ?? '';
  g.setOutput(node, 0, { kind: 'flatten', source: x, layerName: node.layerName, output });
}

/** The input as a run-time value, a pending flatten kept pending (a second flatten or reshape of it is the same). */
function flattenable(node: OnnxNode, g: GraphImport): Activation {
  const v = g.required(node, 0, 'input');
  return v.kind === 'flatten' ? v.source : g.activation(node, 0);
}

/** Flatten from axis 1 (the batch stays apart). */
export function importFlatten(node: OnnxNode, g: GraphImport): void {
  const x = flattenable(node, g);
  const axis = node.attrs.int('axis', 1);
  if (axis !== 1 && axis !== 1 - x.rank) throw new NetworkError(`${node.where}: flatten from axis ${axis} of ${onnxDims(x)} is not supported (only axis 1: N x everything else)`);
  flattenTo2(node, g, x);
}

/**
 * Reshape that keeps the batch and either flattens the rest ([0, -1], [-1, C*H*W], [N, -1] with the
 * model's fixed batch N) or keeps the tensor's own per-image shape. Any other shape would reorder
 * what the IR holds per image, and is refused.
 */
export function importReshape(node: OnnxNode, g: GraphImport): void {
  const v = g.required(node, 0, 'input');
  const x = flattenable(node, g);
  const flat = x.shape.c * x.shape.h * x.shape.w;
  // The input's ONNX dims after the batch.
  const inner = v.kind === 'flatten' ? [flat] : innerDims(x);
  const allowZero = node.attrs.int('allowzero', 0) !== 0;
  const target = g.integers(g.constant(node, 1, 'shape')).values;
  const refuse = (): NetworkError => new NetworkError(`${node.where}: reshape of [N, ${inner.join(', ')}] to [${target.join(', ')}] is not supported: `
    + `only flattening to [N, ${flat}] ([0, -1], [-1, ${flat}]) or the same shape`);
  if (target.length < 2) throw refuse();
  // 0 copies the input's dim at that position (unless allowzero).
  const dims = target.map((d, i) => (d === 0 && !allowZero ? (i === 0 ? 0 : inner[i - 1] ?? Number.NaN) : d));
  const rest = dims.slice(1);
  if (rest.some((d) => !(d === -1 || (Number.isSafeInteger(d) && d >= 1)))) throw refuse();
  const known = rest.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const unknown = rest.filter((d) => d === -1).length;
  const batchKept = dims[0] === 0 || (g.batch !== undefined && dims[0] === g.batch) || (dims[0] === -1 && unknown === 0 && known === flat);
  if (!batchKept || unknown > 1 || (unknown === 1 ? flat % known !== 0 : known !== flat)) throw refuse();
  const perImage = rest.map((d) => (d === -1 ? flat / known : d));
  if (perImage.length === 1) {
    flattenTo2(node, g, x);
    return;
  }
  if (perImage.join(',') === inner.join(',')) {
    g.setOutput(node, 0, v.kind === 'flatten' ? v : x);
    return;
  }
  // N x K <-> N x K x 1 x 1: the same blob, another rank.
  const a = v.kind === 'flatten' ? g.activation(node, 0) : x;
  const k = a.shape.c;
  const shape = perImage.join(',');
  if (a.shape.h === 1 && a.shape.w === 1 && (shape === `${k},1,1` || shape === `${k}`)) {
    g.setOutput(node, 0, { ...a, rank: perImage.length === 3 ? 4 : 2 });
    return;
  }
  throw refuse();
}

/** The axes of Squeeze / Unsqueeze: an attribute before opset 13, an input after. */
function axesOf(node: OnnxNode, g: GraphImport, rank: number): number[] {
  const axes = node.opset < 13 ? node.attrs.ints('axes', []) : (g.input(node, 1) ? g.integers(g.constant(node, 1, 'axes')).values : []);
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
}

/** Unsqueeze of N x C to N x C x 1 x 1 (axes 2, 3): the same blob. */
export function importUnsqueeze(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  const axes = axesOf(node, g, x.rank + 2);
  if (x.rank !== 2 || axes.join(',') !== '2,3') throw new NetworkError(`${node.where}: unsqueeze of ${onnxDims(x)} along axes [${axes.join(', ')}] is not supported (only N x C to N x C x 1 x 1)`);
  g.setOutput(node, 0, { ...x, rank: 4 });
}

/** Squeeze of N x C x 1 x 1 to N x C (axes 2, 3, or none given): the same blob. */
export function importSqueeze(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  const axes = axesOf(node, g, x.rank);
  const ok = x.rank === 4 && x.shape.h === 1 && x.shape.w === 1 && (axes.length === 0 ? x.shape.c !== 1 : axes.join(',') === '2,3');
  if (!ok) throw new NetworkError(`${node.where}: squeeze of ${onnxDims(x)} along axes [${axes.join(', ')}] is not supported (only N x C x 1 x 1 to N x C)`);
  g.setOutput(node, 0, { ...x, rank: 2 });
}

/** Identity, and Dropout at inference (its mask output is refused when read). */
export function importIdentity(node: OnnxNode, g: GraphImport): void {
  if (node.opType === 'Dropout') {
    node.attrs.ignore('ratio', 'seed');
    // Before opset 7 `is_test` defaults to 0: training, a random mask.
    const isTest = node.attrs.int('is_test', node.opset < 7 ? 0 : 1);
    if (isTest !== 1) {
      throw new NetworkError(`${node.where}: is_test ${isTest}${node.attrs.has('is_test') ? '' : ' (the default before opset 7)'} is training mode: not supported (inference only, is_test 1)`);
    }
    const training = g.input(node, 2) && g.integers(g.constant(node, 2, 'training_mode')).values[0];
    if (training) throw new NetworkError(`${node.where}: training_mode true is not supported (inference only)`);
  }
  const v = g.required(node, 0, 'input');
  g.setOutput(node, 0, v.kind === 'pad' ? g.activation(node, 0) : v);
}

/** Constant: its value becomes a constant tensor (value, or value_float(s) / value_int(s)). */
export function importConstant(node: OnnxNode, g: GraphImport): void {
  const T = onnx.TensorProto.DataType;
  let proto: ITensorProto | undefined = node.attrs.tensor('value');
  if (!proto && node.attrs.has('value_float')) proto = { dims: [], dataType: T.FLOAT, floatData: [node.attrs.float('value_float')] };
  if (!proto && node.attrs.has('value_floats')) { const v = node.attrs.floats('value_floats'); proto = { dims: [v.length], dataType: T.FLOAT, floatData: v }; }
  if (!proto && node.attrs.has('value_int')) proto = { dims: [], dataType: T.INT64, int64Data: [node.attrs.int('value_int')] };
  if (!proto && node.attrs.has('value_ints')) { const v = node.attrs.ints('value_ints'); proto = { dims: [v.length], dataType: T.INT64, int64Data: v }; }
  if (!proto) throw new NetworkError(`${node.where}: only numeric values (value, value_float(s), value_int(s)) are supported`);
  g.setOutput(node, 0, { kind: 'constant', proto, what: `${node.where}: its value` });
}
