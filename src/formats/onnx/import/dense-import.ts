/**
 * Gemm and MatMul by a constant -> InnerProduct. The IR's weights are (out, in) over the input's
 * C x H x W values in that order, so a Flatten before them needs no layer of its own: the
 * InnerProduct reads the unflattened blob (see graph-values.ts).
 */
import { NetworkError } from '../../../errors.js';
import type { GraphImport, OnnxNode } from './graph-import.js';
import { onnxDims, type Activation } from './graph-values.js';

/** The matrix operand A (rank 2, or a pending flatten of a rank-4 tensor, read unflattened). */
function matrixInput(node: OnnxNode, g: GraphImport): Activation {
  const v = g.required(node, 0, 'input');
  if (v.kind === 'flatten') return v.source;
  const x = g.activation(node, 0);
  if (x.rank !== 2) {
    throw new NetworkError(`${node.where}: its input ${onnxDims(x)} has rank ${x.rank}: only a matrix (N x K, e.g. after Flatten) is supported`);
  }
  return x;
}

/** (rows x cols) row-major -> its transpose, scaled. */
function transposed(values: Float32Array, rows: number, cols: number, alpha: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = alpha === 1 ? values[r * cols + c] : alpha * values[r * cols + c];
  return out;
}

/**
 * Gemm: Y = alpha * A * B' + beta * C with A the input (transA 0), B a constant (K x N, or N x K
 * with transB 1), C an optional constant of N values (or one). alpha and beta are folded into the
 * weights and bias. Before opset 7, C broadcasts only with `broadcast` 1 (see legacyBias).
 */
export function importGemm(node: OnnxNode, g: GraphImport): void {
  const x = matrixInput(node, g);
  const k = x.shape.c * x.shape.h * x.shape.w;
  if (node.attrs.int('transA', 0) !== 0) throw new NetworkError(`${node.where}: transA 1 is not supported (the input must be the left operand as is)`);
  const transB = node.attrs.int('transB', 0) !== 0;
  const alpha = node.attrs.float('alpha', 1);
  const beta = node.attrs.float('beta', 1);
  const b = g.floats(g.constant(node, 1, 'weights (B)'));
  if (b.dims.length !== 2) throw new NetworkError(`${node.where}: B has dims [${b.dims.join(', ')}]; a matrix is needed`);
  const [rows, cols] = b.dims;
  const [inner, n] = transB ? [cols, rows] : [rows, cols];
  if (inner !== k) throw new NetworkError(`${node.where}: B [${b.dims.join(', ')}]${transB ? ' (transposed)' : ''} takes ${inner} inputs, but its input has ${k} values per image`);
  const weight = transB ? (alpha === 1 ? b.data : b.data.map((v) => alpha * v)) : transposed(b.data, rows, cols, alpha);
  let bias: Float32Array | undefined;
  if (g.input(node, 2)) {
    const c = g.floats(g.constant(node, 2, 'bias (C)'));
    if (node.opset < 7) legacyBias(node, c.dims, n);
    const perOutput = c.dims.length === 0 || c.dims.every((d, i) => d === 1 || (i === c.dims.length - 1 && d === n));
    if (!perOutput || c.dims.length > 2) {
      throw new NetworkError(`${node.where}: C has dims [${c.dims.join(', ')}]: only a bias per output ([${n}] or [1, ${n}]) or a single value is supported`);
    }
    bias = c.data.length === 1 ? new Float32Array(n).fill(beta * c.data[0]) : (beta === 1 ? c.data : c.data.map((v) => beta * v));
  } else if (node.opset < 7) {
    node.attrs.ignore('broadcast'); // nothing to broadcast
  }
  g.addNodeLayer(node, { type: 'InnerProduct', ip: { numOutput: n, biasTerm: bias !== undefined } }, [x], 2, { weight, bias });
}

/**
 * Gemm's C before opset 7: it broadcasts only with `broadcast` 1, by the old rule (one element, or
 * dims equal to the last of M x N's): [N] or one value is a bias per output. `broadcast` 0 wants C
 * of the full M x N, a row per image of the batch: refused.
 */
function legacyBias(node: OnnxNode, dims: readonly number[], n: number): void {
  const broadcast = node.attrs.int('broadcast', 0);
  const size = dims.reduce((p, d) => p * d, 1);
  if (broadcast !== 1) {
    throw new NetworkError(`${node.where}: broadcast ${broadcast} (opset ${node.opset}): C of dims [${dims.join(', ')}] would need the full M x N shape, a row per image: `
      + `not supported (only broadcast 1 with C of [${n}] or one value)`);
  }
  if (!(size === 1 && dims.length <= 2) && !(dims.length === 1 && dims[0] === n)) {
    throw new NetworkError(`${node.where}: C of dims [${dims.join(', ')}] with broadcast 1 (opset ${node.opset}) is not a bias per output: only [${n}] or one value is supported`);
  }
}

/** MatMul of the input (N x K) by a constant K x N matrix: an InnerProduct without bias. */
export function importMatMul(node: OnnxNode, g: GraphImport): void {
  const x = matrixInput(node, g);
  const k = x.shape.c * x.shape.h * x.shape.w;
  const b = g.floats(g.constant(node, 1, 'second operand'));
  if (b.dims.length !== 2 || b.dims[0] !== k) {
    throw new NetworkError(`${node.where}: its second operand has dims [${b.dims.join(', ')}]; a ${k} x N matrix is needed for its input of ${k} values per image`);
  }
  const n = b.dims[1];
  g.addNodeLayer(node, { type: 'InnerProduct', ip: { numOutput: n, biasTerm: false } }, [x], 2, { weight: transposed(b.data, k, n, 1) });
}
