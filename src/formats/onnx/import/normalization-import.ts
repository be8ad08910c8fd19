/** BatchNormalization (inference) -> Scale, and LRN. */
import { NetworkError } from '../../../errors.js';
import type { GraphImport, OnnxNode } from './graph-import.js';

/**
 * BatchNormalization at inference: y = (x - mean) / sqrt(var + epsilon) * scale + B, per channel,
 * is the affine map y = x * w + b with w = scale / sqrt(var + epsilon) and b = B - mean * w: a
 * Scale layer (computed in float64, stored as float32). Training mode and its extra outputs
 * (running statistics) are refused; so is `spatial` 0 (opsets 1 to 8), statistics per position.
 */
export function importBatchNormalization(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  if (node.attrs.int('training_mode', 0) !== 0) throw new NetworkError(`${node.where}: training_mode 1 is not supported (inference only)`);
  if (node.attrs.int('spatial', 1) !== 1) throw new NetworkError(`${node.where}: spatial 0 (statistics per position) is not supported`);
  // Before opset 7 `is_test` defaults to 0: training, the batch's own statistics.
  const isTest = node.attrs.int('is_test', node.opset < 7 ? 0 : 1);
  if (isTest !== 1) {
    throw new NetworkError(`${node.where}: is_test ${isTest}${node.attrs.has('is_test') ? '' : ` (the default before opset 7)`} is training mode: not supported (inference only, is_test 1)`);
  }
  node.attrs.ignore('momentum');
  const epsilon = node.attrs.float('epsilon', 1e-5);
  const c = x.shape.c;
  const [scale, bias, mean, variance] = ['scale', 'B', 'mean', 'var'].map((role, i) => {
    const t = g.floats(g.constant(node, i + 1, role));
    if (t.data.length !== c || t.dims.length !== 1) throw new NetworkError(`${node.where}: its ${role} has dims [${t.dims.join(', ')}]; expected [${c}] (one per channel)`);
    return t.data;
  });
  const weight = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    if (!(variance[i] + epsilon > 0)) throw new NetworkError(`${node.where}: var[${i}] + epsilon = ${variance[i] + epsilon} is not positive`);
    const w = scale[i] / Math.sqrt(variance[i] + epsilon);
    weight[i] = w;
    shift[i] = bias[i] - mean[i] * w;
  }
  g.addNodeLayer(node, { type: 'Scale', scale: { biasTerm: true } }, [x], x.rank, { weight, bias: shift });
}

/**
 * LRN across channels: ONNX's and Caffe's formulas agree (alpha divided by size, bias = Caffe's
 * k) when the size is odd, which Caffe requires; an even size centres the window differently.
 */
export function importLrn(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  const size = node.attrs.int('size');
  if (size < 1 || size % 2 !== 1) throw new NetworkError(`${node.where}: size ${size} is not supported (odd sizes only)`);
  g.addNodeLayer(node, {
    type: 'LRN',
    lrn: { localSize: size, alpha: node.attrs.float('alpha', 1e-4), beta: node.attrs.float('beta', 0.75), k: node.attrs.float('bias', 1), region: 'across-channels' },
  }, [x], x.rank);
}
