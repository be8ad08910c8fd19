/** ReLU on WebGPU, in place (shaders/activation/relu.wgsl); an out-of-place ReLU copies first. */
import { reluParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { grid1d, type EncodeContext } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';

export async function encodeRelu(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[]): Promise<void> {
  const total = ctx.batch * shapeSize(layer.inputShapes[0]);
  if (inputs[0] !== outputs[0]) ctx.push({ op: 'copy', from: inputs[0], to: outputs[0], size: total * 4 });
  const kernel = await ctx.kernel('activation/relu');
  const params = ctx.uniform(packUniforms('activation/relu', { total, slope: reluParams(layer).negativeSlope }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}
