/** Local response normalisation on WebGPU: shaders/normalization/lrn.wgsl. */
import { lrnParams } from '../../cpu/kernel-types.js';
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { f32Bits, grid1d, type EncodeContext } from '../encode-context.js';

export async function encodeLrn(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[]): Promise<void> {
  const p = lrnParams(layer);
  const s = layer.inputShapes[0];
  const total = ctx.batch * shapeSize(s);
  const kernel = await ctx.kernel('normalization/lrn');
  const params = ctx.uniform([
    s.c, s.h, s.w, total, p.localSize, p.region === 'within-channel' ? 1 : 0, f32Bits(p.alpha), f32Bits(p.beta), f32Bits(p.k), 0, 0, 0,
  ], layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}
