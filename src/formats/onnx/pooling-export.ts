/**
 * Caffe Pooling as ONNX pools, reproducing Caffe's output size and AVE divisor exactly.
 *
 * Two Caffe rules have no direct ONNX attribute:
 * - Output size: Caffe rounds up, then drops a last window that would start in the bottom/right
 *   padding. ONNX's `ceil_mode = 1` rounds up too, but whether a runtime also drops that window
 *   depends on the runtime and its version (onnxruntime 1.30 does not: a 2x2 stride-2 MAX pool
 *   with pad 1 over 15 rows gives 9 rows there, 8 in Caffe). So the export rounds down
 *   (`ceil_mode = 0`) and adds the extra bottom/right padding that makes floor rounding give the
 *   IR's output size: no runtime-dependent rounding remains.
 * - AVE divisor: Caffe divides by the window clipped to the PADDED input (the zero padding counts
 *   at the borders, the overhang beyond the padding does not). Runtimes differ on what
 *   `count_include_pad = 1` counts in a window that overhangs the padding (the whole kernel, or
 *   up to the padding as Caffe: onnxruntime 1.30 happens to clip), and `0` counts no padding. So the Caffe padding becomes an explicit
 *   zero `Pad` node and the pool runs with `count_include_pad = 0`, its only padding being the
 *   overhang: the divisor is then exactly the window clipped to the padded input.
 * MAX ignores padding in both Caffe and ONNX (Caffe clips the window to the input).
 * Global pooling maps to GlobalMaxPool / GlobalAveragePool (no padding, the whole map).
 */
import { poolParams } from '../../ir/layer-params.js';
import { exportError, type ExportContext } from './layer-export.js';
import { toRank4, type TensorRef } from './tensor-ref.js';

/**
 * The bottom/right padding that makes ONNX's floor rounding give `out` windows, with `pad` before
 * the input. The IR's output size guarantees the last window starts before the end of input + pad
 * when pad > 0; with pad 0 and stride > kernel, Caffe's rounding can add a window lying wholly
 * outside the input, which no ONNX pool computes (Caffe itself outputs -FLT_MAX or 0/0 there).
 */
function endPad(ctx: ExportContext, axis: string, input: number, kernel: number, stride: number, pad: number, out: number): number {
  const lastStart = (out - 1) * stride;
  if (lastStart >= input + pad) {
    throw exportError(ctx.layer, `its last pooling window along ${axis} (Caffe rounds the output size up) starts at ${lastStart - pad}, `
      + `outside its input of ${input}: ONNX has no such window (use a stride no larger than the kernel, or pad)`);
  }
  const end = Math.max(0, lastStart + kernel - input - pad);
  if (Math.floor((input + pad + end - kernel) / stride) + 1 !== out) {
    throw exportError(ctx.layer, `internal: padding ${pad}+${end} does not give ${out} outputs along ${axis}`);
  }
  return end;
}

/** Exports a Pooling layer (see the file comment). */
export function exportPooling(ctx: ExportContext): TensorRef[] {
  const { g, layer } = ctx;
  const p = poolParams(layer);
  const x = toRank4(g, ctx.inputs[0], layer.name);
  if (p.global) {
    return [{ name: g.node(p.method === 'max' ? 'GlobalMaxPool' : 'GlobalAveragePool', [x.name], [ctx.top(0)], layer.name), rank: 4 }];
  }
  const input = layer.inputShapes[0];
  const output = layer.outputShapes[0];
  const kernel = { ints: [p.kernelH, p.kernelW] };
  const strides = { ints: [p.strideH, p.strideW] };
  if (p.method === 'max') {
    const endH = endPad(ctx, 'the height', input.h, p.kernelH, p.strideH, p.padH, output.h);
    const endW = endPad(ctx, 'the width', input.w, p.kernelW, p.strideW, p.padW, output.w);
    return [{
      name: g.node('MaxPool', [x.name], [ctx.top(0)], layer.name, { kernel_shape: kernel, strides, pads: { ints: [p.padH, p.padW, endH, endW] } }),
      rank: 4,
    }];
  }
  // AVE: Caffe's padding as real zeros, then a pool whose only padding is the ceil overhang.
  let padded = x.name;
  if (p.padH > 0 || p.padW > 0) {
    const pads = g.int64s(`pads_${p.padH}_${p.padW}`, [0, 0, p.padH, p.padW, 0, 0, p.padH, p.padW]);
    padded = g.node('Pad', [x.name, pads], [g.tensor(`${layer.name}/padded`)], `${layer.name}/pad`, { mode: { string: 'constant' } });
  }
  const endH = endPad(ctx, 'the height', input.h + p.padH, p.kernelH, p.strideH, p.padH, output.h);
  const endW = endPad(ctx, 'the width', input.w + p.padW, p.kernelW, p.strideW, p.padW, output.w);
  return [{
    name: g.node('AveragePool', [padded], [ctx.top(0)], layer.name, {
      kernel_shape: kernel, strides, pads: { ints: [0, 0, endH, endW] }, count_include_pad: { int: 0 },
    }),
    rank: 4,
  }];
}
