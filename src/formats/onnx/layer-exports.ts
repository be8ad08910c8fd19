/**
 * One ONNX translation per IR layer type (opset 13). The record type makes the compiler check
 * that every LayerType has one; pooling and LRN, the two with Caffe-specific arithmetic, have
 * their own files, and so do the per-value layers of newer networks (per-channel-export.ts).
 */
import type { LayerType } from '../../ir/network.js';
import { exportError, requireWeights, type ExportContext, type LayerExport } from './layer-export.js';
import { exportLrn } from './lrn-export.js';
import { convParams, reluParams } from '../../ir/layer-params.js';
import { exportClip, exportEltwise, exportPrelu, exportScale, exportSigmoid } from './per-channel-export.js';
import { exportPooling } from './pooling-export.js';
import { toRank2, toRank4, type TensorRef } from './tensor-ref.js';

/** Convolution: weights (out, in / group, kh, kw) are ONNX Conv's layout; symmetric pads. */
function exportConvolution(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const p = convParams(layer);
  const w = requireWeights(layer);
  const x = toRank4(g, ctx.inputs[0], layer.name);
  const inputs = [x.name, g.floats(`${layer.name}/weight`, [p.numOutput, layer.inputShapes[0].c / p.group, p.kernelH, p.kernelW], w.weight)];
  if (w.bias) inputs.push(g.floats(`${layer.name}/bias`, [p.numOutput], w.bias));
  return [{
    name: g.node('Conv', inputs, [ctx.top(0)], layer.name, {
      kernel_shape: { ints: [p.kernelH, p.kernelW] },
      strides: { ints: [p.strideH, p.strideW] },
      pads: { ints: [p.padH, p.padW, p.padH, p.padW] },
      dilations: { ints: [p.dilationH, p.dilationW] },
      group: { int: p.group },
    }),
    rank: 4,
  }];
}

/** InnerProduct: Flatten (C, H, W order, as Caffe's weights) then Gemm with the (out, in) weights transposed. */
function exportInnerProduct(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const w = requireWeights(layer);
  const out = layer.outputShapes[0].c;
  const x = toRank2(g, ctx.inputs[0], layer.name);
  const inputs = [x.name, g.floats(`${layer.name}/weight`, [out, w.weight.length / out], w.weight)];
  if (w.bias) inputs.push(g.floats(`${layer.name}/bias`, [out], w.bias));
  return [{ name: g.node('Gemm', inputs, [ctx.top(0)], layer.name, { transB: { int: 1 } }), rank: 2 }];
}

/** ReLU, or LeakyRelu with Caffe's negative_slope (Caffe: max(0, x) + slope * min(0, x)). */
function exportRelu(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const slope = reluParams(layer).negativeSlope;
  const x = ctx.inputs[0];
  const name = slope === 0
    ? g.node('Relu', [x.name], [ctx.top(0)], layer.name)
    : g.node('LeakyRelu', [x.name], [ctx.top(0)], layer.name, { alpha: { float: slope } });
  return [{ name, rank: x.rank }];
}

/**
 * Softmax over channels at every position. Opset 13's `axis` normalises along that one axis;
 * before opset 13 Softmax flattened everything from `axis` on, which would mix spatial
 * positions of an N x C x H x W input.
 */
function exportSoftmax(ctx: ExportContext): TensorRef[] {
  const x = ctx.inputs[0];
  return [{ name: ctx.g.node('Softmax', [x.name], [ctx.top(0)], ctx.layer.name, { axis: { int: 1 } }), rank: x.rank }];
}

/** Concat along channels; inputs of mixed rank (an InnerProduct beside a pooled map) go to rank 4. */
function exportConcat(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const rank4 = ctx.inputs.some((x) => x.rank === 4);
  const inputs = ctx.inputs.map((x) => (rank4 ? toRank4(g, x, layer.name) : x).name);
  return [{ name: g.node('Concat', inputs, [ctx.top(0)], layer.name, { axis: { int: 1 } }), rank: rank4 ? 4 : 2 }];
}

/** Flatten to N x (C*H*W); already flat tensors pass through. */
function exportFlatten(ctx: ExportContext): TensorRef[] {
  const x = ctx.inputs[0];
  if (x.rank === 2) return [x];
  return [{ name: ctx.g.node('Flatten', [x.name], [ctx.top(0)], ctx.layer.name, { axis: { int: 1 } }), rank: 2 }];
}

/** Every IR layer type's translation. */
export const LAYER_EXPORTS: Readonly<Record<LayerType, LayerExport>> = {
  Convolution: exportConvolution,
  Pooling: exportPooling,
  LRN: exportLrn,
  InnerProduct: exportInnerProduct,
  ReLU: exportRelu,
  // The identity at inference: its top is its bottom's tensor, no node.
  Dropout: (ctx) => [ctx.inputs[0]],
  Softmax: exportSoftmax,
  Concat: exportConcat,
  // Every top is the one input tensor: ONNX tensors can have any number of readers.
  Split: (ctx) => ctx.layer.tops.map(() => ctx.inputs[0]),
  Flatten: exportFlatten,
  Scale: exportScale,
  Eltwise: exportEltwise,
  PReLU: exportPrelu,
  Clip: exportClip,
  Sigmoid: exportSigmoid,
};

/** The translation of `type`; a NetworkError naming the layer when there is none. */
export function layerExportFor(ctx: Pick<ExportContext, 'layer'>): LayerExport {
  const f = (LAYER_EXPORTS as Partial<Record<string, LayerExport>>)[ctx.layer.params.type];
  if (!f) throw exportError(ctx.layer, `no ONNX translation for layer type ${ctx.layer.params.type}`);
  return f;
}
