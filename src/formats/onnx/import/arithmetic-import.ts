/**
 * Add, Sub, Mul, Div, Sum, Max as CNNs use them: two run-time tensors of one shape (a residual
 * connection) -> Eltwise; a tensor and a per-channel or single-value constant -> Scale (the
 * constant broadcasting along the channels; see channel-constant.ts, which also reads the
 * `broadcast` / `axis` rule before opset 7). Other broadcasts are refused.
 */
import { NetworkError } from '../../../errors.js';
import type { EltwiseOperation } from '../../../ir/network.js';
import { channelValues, legacyChannelValues } from './channel-constant.js';
import type { GraphImport, OnnxNode } from './graph-import.js';
import { onnxDims, type Activation } from './graph-values.js';

type Binary = 'Add' | 'Sub' | 'Mul' | 'Div';

/** Two or more run-time tensors of one shape, element by element. */
function eltwise(node: OnnxNode, g: GraphImport, inputs: Activation[], operation: EltwiseOperation, coeffs: number[] = []): void {
  const [first] = inputs;
  for (const x of inputs) {
    const s = x.shape;
    if (x.rank !== first.rank || s.c !== first.shape.c || s.h !== first.shape.h || s.w !== first.shape.w) {
      throw new NetworkError(`${node.where}: its inputs have shapes ${inputs.map(onnxDims).join(' and ')}: only tensors of one shape are supported (no broadcasting between two run-time tensors)`);
    }
  }
  g.addNodeLayer(node, { type: 'Eltwise', eltwise: { operation, coeffs } }, inputs, first.rank);
}

/** Add / Sub / Mul / Div of two inputs, one of which may be a constant. */
function binary(op: Binary) {
  return (node: OnnxNode, g: GraphImport): void => {
    const a = g.required(node, 0, 'first operand');
    const b = g.required(node, 1, 'second operand');
    if (a.kind !== 'constant' && b.kind !== 'constant') {
      // Before opset 7: eltwise requires equal shapes, with which `broadcast` and `axis` change nothing.
      if (node.opset < 7) node.attrs.ignore('broadcast', 'axis');
      const x = [g.activation(node, 0), g.activation(node, 1)];
      if (op === 'Div') throw new NetworkError(`${node.where}: division of two run-time tensors is not supported`);
      if (op === 'Sub') eltwise(node, g, x, 'sum', [1, -1]);
      else eltwise(node, g, x, op === 'Add' ? 'sum' : 'prod');
      return;
    }
    const constantFirst = a.kind === 'constant';
    const x = g.activation(node, constantFirst ? 1 : 0);
    const constant = g.constant(node, constantFirst ? 0 : 1, 'constant operand');
    if (node.opset < 7 && constantFirst) {
      throw new NetworkError(`${node.where}: its first operand is a constant: before opset 7 only the second operand broadcasts, so the constant would need `
        + `the input's full shape ${onnxDims(x)}, batch included: not supported`);
    }
    const { values } = node.opset < 7
      ? legacyChannelValues(g, node, constant, x, 'constant operand')
      : channelValues(g, node, constant, x, 'constant operand');
    const c = x.shape.c;
    const ones = new Float32Array(c).fill(1);
    // x + k, x - k, k - x: weight +-1 with a bias; x * k: weight k; x / k: weight 1 / k.
    if (op === 'Mul') {
      g.addNodeLayer(node, { type: 'Scale', scale: { biasTerm: false } }, [x], x.rank, { weight: values });
    } else if (op === 'Div') {
      if (constantFirst) throw new NetworkError(`${node.where}: a constant divided by a run-time tensor is not supported`);
      if (values.some((v) => v === 0)) throw new NetworkError(`${node.where}: divides by a constant holding 0`);
      const weight = values.map((v) => 1 / v);
      g.addNodeLayer(node, { type: 'Scale', scale: { biasTerm: false } }, [x], x.rank, { weight });
    } else {
      const negate = op === 'Sub' && !constantFirst;
      const weight = op === 'Sub' && constantFirst ? ones.map(() => -1) : ones;
      const bias = negate ? values.map((v) => -v) : values;
      g.addNodeLayer(node, { type: 'Scale', scale: { biasTerm: true } }, [x], x.rank, { weight, bias });
    }
  };
}

export const importAdd = binary('Add');
export const importSub = binary('Sub');
export const importMul = binary('Mul');
export const importDiv = binary('Div');

/** Sum / Max of any number of run-time tensors of one shape. */
export function importVariadic(operation: 'sum' | 'max') {
  return (node: OnnxNode, g: GraphImport): void => {
    const inputs = (node.proto.input ?? []).map((_, i) => g.activation(node, i));
    if (inputs.length === 1) {
      g.setOutput(node, 0, inputs[0]);
      return;
    }
    eltwise(node, g, inputs, operation);
  };
}
