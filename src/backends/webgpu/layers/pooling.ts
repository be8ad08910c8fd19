/** Pooling on WebGPU (Caffe's rounding and divisors): shaders/pooling/pooling.wgsl. */
import { poolKernel } from '../../../ir/layers/pooling.js';
import { poolParams } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import { grid1d, type EncodeContext } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';

export async function encodePooling(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[]): Promise<void> {
  const p = poolParams(layer);
  const input = layer.inputShapes[0];
  const out = layer.outputShapes[0];
  const [kH, kW] = poolKernel(p, input);
  const total = ctx.batch * input.c * out.h * out.w;
  const kernel = await ctx.kernel('pooling/pooling');
  const params = ctx.uniform(packUniforms('pooling/pooling', {
    inH: input.h, inW: input.w, outH: out.h, outW: out.w, kH, kW, sH: p.strideH, sW: p.strideW, pH: p.padH, pW: p.padW,
    average: p.method === 'ave', total,
  }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}
