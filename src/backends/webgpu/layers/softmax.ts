/** Softmax over channels on WebGPU: shaders/softmax/softmax.wgsl. */
import type { Layer } from '../../../ir/network.js';
import { grid1d, type EncodeContext } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';

export async function encodeSoftmax(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[]): Promise<void> {
  const s = layer.inputShapes[0];
  const total = ctx.batch * s.h * s.w;
  const kernel = await ctx.kernel('softmax/softmax');
  const params = ctx.uniform(packUniforms('softmax/softmax', { C: s.c, hw: s.h * s.w, total }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}
