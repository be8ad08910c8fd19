/** Local response normalisation on WebGPU: shaders/normalization/lrn.wgsl. */
import { lrnParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { grid1d, type EncodeContext } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';

export async function encodeLrn(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[]): Promise<void> {
  const p = lrnParams(layer);
  const s = layer.inputShapes[0];
  const total = ctx.batch * shapeSize(s);
  const kernel = await ctx.kernel('normalization/lrn');
  const params = ctx.uniform(packUniforms('normalization/lrn', {
    C: s.c, H: s.h, W: s.w, total, size: p.localSize, within: p.region === 'within-channel', alpha: p.alpha, beta: p.beta, k: p.k,
  }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}
