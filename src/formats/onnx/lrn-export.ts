/**
 * Caffe LRN as ONNX.
 *
 * ACROSS_CHANNELS is ONNX `LRN` itself: both compute x / (k + alpha / n * sum of x^2 over the n
 * channels centred at c, clipped to the existing ones)^beta; ONNX's `bias` is Caffe's `k`, and
 * both divide alpha by `size` (some frameworks do not). Caffe requires an odd size, so ONNX's
 * floor/ceil split of the window is symmetric.
 *
 * WITHIN_CHANNEL has no ONNX operator; Caffe itself builds it from other layers and the export
 * mirrors that: x^2, zero padding of (n-1)/2, an n x n average pool (divisor always n*n: every
 * window lies inside the padded map), then y = x * (1 + alpha * avg)^-beta. Caffe ignores `k` in
 * this mode (its power layer shifts by 1), and so does the IR.
 */
import { lrnParams } from '../../ir/layer-params.js';
import type { ExportContext } from './layer-export.js';
import { toRank4, type TensorRef } from './tensor-ref.js';

/** A float32 scalar initializer. */
function scalar(ctx: ExportContext, what: string, value: number): string {
  return ctx.g.floats(`${ctx.layer.name}/${what}`, [], new Float32Array([value]));
}

/** Exports an LRN layer (see the file comment). */
export function exportLrn(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const p = lrnParams(layer);
  const x = toRank4(g, ctx.inputs[0], layer.name);
  if (p.region === 'across-channels') {
    return [{
      name: g.node('LRN', [x.name], [ctx.top(0)], layer.name, {
        size: { int: p.localSize }, alpha: { float: p.alpha }, beta: { float: p.beta }, bias: { float: p.k },
      }),
      rank: 4,
    }];
  }
  const step = (op: string, inputs: string[], what: string, attrs = {}) =>
    g.node(op, inputs, [g.tensor(`${layer.name}/${what}`)], `${layer.name}/${what}`, attrs);
  const squared = step('Mul', [x.name, x.name], 'square');
  const half = (p.localSize - 1) / 2;
  const padded = half === 0 ? squared
    : step('Pad', [squared, g.int64s(`pads_${half}_${half}`, [0, 0, half, half, 0, 0, half, half])], 'padded', { mode: { string: 'constant' } });
  const size = { ints: [p.localSize, p.localSize] };
  const average = step('AveragePool', [padded], 'average', { kernel_shape: size, strides: { ints: [1, 1] } });
  const scaled = step('Mul', [average, scalar(ctx, 'alpha', p.alpha)], 'scaled');
  const base = step('Add', [scaled, scalar(ctx, 'one', 1)], 'base');
  const factor = step('Pow', [base, scalar(ctx, 'minus_beta', -p.beta)], 'factor');
  return [{ name: g.node('Mul', [x.name, factor], [ctx.top(0)], layer.name), rank: 4 }];
}
