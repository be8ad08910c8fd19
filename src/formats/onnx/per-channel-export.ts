/**
 * ONNX translations of the per-value layers of newer networks: Scale (Mul, then Add for its bias),
 * Eltwise (a chain of Add / Mul / Max, a sum's coeffs as Mul by scalars), PReLU, Clip (opset 11+
 * takes min and max as inputs) and Sigmoid.
 *
 * A per-channel constant is [C, 1, 1] on an N x C x H x W tensor and [C] on an N x C one (after an
 * InnerProduct or Flatten): ONNX broadcasting aligns trailing dimensions, so [C, 1, 1] against
 * N x C would make a rank-3 tensor.
 */
import type { GraphBuilder } from './graph-builder.js';
import { requireWeights, type ExportContext } from './layer-export.js';
import { clipParams, eltwiseParams } from '../../ir/layer-params.js';
import { toRank4, type TensorRef } from './tensor-ref.js';

/** Dims of a per-channel initializer of `values.length` channels for a tensor of `rank`. */
function channelDims(values: Float32Array, rank: 2 | 4): number[] {
  return rank === 4 ? [values.length, 1, 1] : [values.length];
}

/** Scale: Mul by the factors, then Add the bias when it has one. */
export function exportScale(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const w = requireWeights(layer);
  const x = ctx.inputs[0];
  const factors = g.floats(`${layer.name}/weight`, channelDims(w.weight, x.rank), w.weight);
  if (!w.bias) return [{ name: g.node('Mul', [x.name, factors], [ctx.top(0)], layer.name), rank: x.rank }];
  const scaled = g.node('Mul', [x.name, factors], [g.tensor(`${layer.name}/scaled`)], `${layer.name}/mul`);
  const bias = g.floats(`${layer.name}/bias`, channelDims(w.bias, x.rank), w.bias);
  return [{ name: g.node('Add', [scaled, bias], [ctx.top(0)], layer.name), rank: x.rank }];
}

/** A scalar float32 initializer. */
function scalar(g: GraphBuilder, base: string, value: number): string {
  return g.floats(base, [], new Float32Array([value]));
}

/**
 * Eltwise: bottoms combined pairwise, left to right (Caffe's order), the last node writing the top;
 * a sum's coeffs multiply each bottom first. Bottoms of mixed rank go to rank 4.
 */
export function exportEltwise(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const { operation, coeffs } = eltwiseParams(layer);
  const rank4 = ctx.inputs.some((x) => x.rank === 4);
  const rank = rank4 ? 4 : 2;
  const op = operation === 'sum' ? 'Add' : operation === 'prod' ? 'Mul' : 'Max';
  const terms = ctx.inputs.map((x, i) => {
    const t = rank4 ? toRank4(g, x, layer.name).name : x.name;
    if (coeffs.length === 0 || coeffs[i] === 1) return t;
    return g.node('Mul', [t, scalar(g, `${layer.name}/coeff${i}`, coeffs[i])], [g.tensor(`${layer.name}/term${i}`)], `${layer.name}/coeff${i}`);
  });
  let acc = terms[0];
  for (let i = 1; i < terms.length; i++) {
    const last = i === terms.length - 1;
    acc = g.node(op, [acc, terms[i]], [last ? ctx.top(0) : g.tensor(`${layer.name}/partial${i}`)], last ? layer.name : `${layer.name}/${i}`);
  }
  return [{ name: acc, rank }];
}

/** PReLU: ONNX PRelu with the slopes per channel ([C, 1, 1] or [C]) or one shared ([1]). */
export function exportPrelu(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const w = requireWeights(layer);
  const x = ctx.inputs[0];
  const dims = w.weight.length === 1 ? [1] : channelDims(w.weight, x.rank);
  const slope = g.floats(`${layer.name}/slope`, dims, w.weight);
  return [{ name: g.node('PRelu', [x.name, slope], [ctx.top(0)], layer.name), rank: x.rank }];
}

/** Clip: from opset 11, min and max are scalar inputs rather than attributes. */
export function exportClip(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const { min, max } = clipParams(layer);
  const x = ctx.inputs[0];
  const inputs = [x.name, scalar(g, `${layer.name}/min`, min), scalar(g, `${layer.name}/max`, max)];
  return [{ name: g.node('Clip', inputs, [ctx.top(0)], layer.name), rank: x.rank }];
}

/** Sigmoid: ONNX's own operator. */
export function exportSigmoid(ctx: ExportContext): TensorRef[] {
  const x = ctx.inputs[0];
  return [{ name: ctx.g.node('Sigmoid', [x.name], [ctx.top(0)], ctx.layer.name), rank: x.rank }];
}
