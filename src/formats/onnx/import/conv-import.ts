/** Conv -> Convolution (2-D, or 1-D as 1 x k), and the zero Pad that may precede a Conv or an AveragePool. */
import { NetworkError } from '../../../errors.js';
import type { ConvolutionParams } from '../../../ir/network.js';
import type { GraphImport, OnnxNode } from './graph-import.js';
import { onnxDims, type Activation } from './graph-values.js';
import { convolutionPads, type WindowAxes } from './window-geometry.js';

/** Input `i` of a node that folds a preceding zero Pad into its own padding: the unpadded tensor and the pad. */
export function paddedInput(g: GraphImport, node: OnnxNode, i: number): { source: Activation; extra: [number, number] } {
  const v = g.required(node, i, 'input');
  if (v.kind === 'pad') return { source: v.source, extra: [v.padH, v.padW] };
  return { source: g.activation(node, i), extra: [0, 0] };
}

/**
 * The number of spatial axes of a window over `x`: 2 for N x C x H x W, 1 for N x C x L (read as
 * a 1 x L image: a window of k is 1 x k, with no padding, stride or dilation along the height).
 */
export function windowAxes(node: OnnxNode, x: Activation): WindowAxes {
  if (x.rank === 4) return 2;
  if (x.rank === 3) return 1;
  throw new NetworkError(`${node.where}: its input ${onnxDims(x)} has rank ${x.rank}; only 2-D (N x C x H x W) and 1-D (N x C x L) inputs are supported`);
}

/**
 * A window attribute (strides, dilations, kernel_shape) as [height, width]: two values for a 2-D
 * window, one (the width; the height is 1) for a 1-D one. `fallback` is in [height, width] form.
 */
export function windowAttribute(node: OnnxNode, name: string, axes: WindowAxes, fallback?: readonly [number, number]): [number, number] {
  const v = node.attrs.ints(name, fallback && (axes === 2 ? fallback : [fallback[1]]));
  if (v.length !== axes) throw new NetworkError(`${node.where}: ${name} has ${v.length} values; its ${axes}-D window takes ${axes}`);
  if (v.some((x) => !(Number.isSafeInteger(x) && x >= 1))) throw new NetworkError(`${node.where}: ${name} [${v.join(', ')}] must be whole numbers >= 1`);
  return axes === 2 ? [v[0], v[1]] : [1, v[0]];
}

/**
 * Conv (2-D or 1-D, grouped or depthwise, dilated): weights (M, C/group, kH, kW), or (M, C/group, k)
 * as (M, C/group, 1, k), are the IR's layout.
 */
export function importConv(node: OnnxNode, g: GraphImport): void {
  const { source: x, extra } = paddedInput(g, node, 0);
  const axes = windowAxes(node, x);
  const w = g.floats(g.constant(node, 1, 'weights'));
  const b = g.input(node, 2) && g.floats(g.constant(node, 2, 'bias'));
  if (w.dims.length !== axes + 2) {
    throw new NetworkError(`${node.where}: weights of dims [${w.dims.join(', ')}]; a ${axes}-D convolution has ${axes + 2} (M, C/group, ${axes === 2 ? 'kH, kW' : 'k'})`);
  }
  const [m, perGroup] = w.dims;
  const [kh, kw] = axes === 2 ? [w.dims[2], w.dims[3]] : [1, w.dims[2]];
  const group = node.attrs.int('group', 1);
  if (!(group >= 1 && x.shape.c % group === 0 && m % group === 0)) {
    throw new NetworkError(`${node.where}: group ${group} does not divide its ${x.shape.c} input channels and ${m} output channels`);
  }
  if (perGroup !== x.shape.c / group) {
    throw new NetworkError(`${node.where}: weights [${w.dims.join(', ')}] take ${perGroup} channels per group, but its input has ${x.shape.c} channels in ${group} group(s)`);
  }
  const kernel = windowAttribute(node, 'kernel_shape', axes, [kh, kw]);
  if (kernel[0] !== kh || kernel[1] !== kw) throw new NetworkError(`${node.where}: kernel_shape [${node.attrs.ints('kernel_shape').join(', ')}] differs from its weights' [${w.dims.slice(2).join(', ')}]`);
  const strides = windowAttribute(node, 'strides', axes, [1, 1]);
  const dilations = windowAttribute(node, 'dilations', axes, [1, 1]);
  const [padH, padW] = convolutionPads(node, axes, [x.shape.h, x.shape.w], kernel, strides, dilations, extra);
  if (b && !(b.dims.length === 1 && b.dims[0] === m)) throw new NetworkError(`${node.where}: bias of dims [${b.dims.join(', ')}]; expected [${m}]`);
  const conv: ConvolutionParams = {
    numOutput: m, kernelH: kh, kernelW: kw, strideH: strides[0], strideW: strides[1], padH, padW,
    dilationH: dilations[0], dilationW: dilations[1], group, biasTerm: b !== undefined,
  };
  g.addNodeLayer(node, { type: 'Convolution', conv }, [x], x.rank, { weight: w.data, bias: b?.data });
}

/**
 * Pad with zeros along H and W, equal on both sides: left pending for the Conv or AveragePool that
 * reads it (see graph-values.ts). Other modes, values or axes are refused.
 */
export function importPad(node: OnnxNode, g: GraphImport): void {
  const x = g.activation(node, 0);
  const mode = node.attrs.string('mode', 'constant');
  if (mode !== 'constant') throw new NetworkError(`${node.where}: mode '${mode}' is not supported (only constant zero padding before a Conv or an AveragePool)`);
  let pads: number[];
  let value = 0;
  if (node.opset < 11) {
    pads = node.attrs.ints('pads');
    value = node.attrs.float('value', 0);
  } else {
    pads = g.integers(g.constant(node, 1, 'pads')).values;
    const v = g.input(node, 2) && g.floats(g.constant(node, 2, 'constant_value'), false).data;
    if (v && v.length > 0) value = v[0];
    if (g.input(node, 3)) throw new NetworkError(`${node.where}: the axes input is not supported`);
  }
  if (value !== 0) throw new NetworkError(`${node.where}: padding with ${value} is not supported (only zeros)`);
  if (x.rank !== 4 || pads.length !== 8) throw new NetworkError(`${node.where}: only padding of a rank-4 tensor (8 pads) is supported, found rank ${x.rank} and ${pads.length} pads`);
  const [nb, cb, hb, wb, ne, ce, he, we] = pads;
  if (nb !== 0 || cb !== 0 || ne !== 0 || ce !== 0) throw new NetworkError(`${node.where}: pads [${pads.join(', ')}] pad the batch or channels: only H and W padding is supported`);
  if (hb !== he || wb !== we || hb < 0 || wb < 0) throw new NetworkError(`${node.where}: pads [${pads.join(', ')}] differ before and after (or crop): only equal zero padding on both sides is supported`);
  if (hb === 0 && wb === 0) g.setOutput(node, 0, x);
  else g.setOutput(node, 0, { kind: 'pad', source: x, padH: hb, padW: wb, where: node.where });
}
