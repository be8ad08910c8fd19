/** Pooling on WebGPU (Caffe's rounding and divisors): shaders/pooling/pooling.wgsl. */
import { poolKernel } from '../../../ir/layers/pooling.js';
import { poolParams } from '../../cpu/kernel-types.js';
import type { Layer } from '../../../ir/network.js';
import { grid1d, type EncodeContext } from '../encode-context.js';

export async function encodePooling(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[]): Promise<void> {
  const p = poolParams(layer);
  const input = layer.inputShapes[0];
  const out = layer.outputShapes[0];
  const [kH, kW] = poolKernel(p, input);
  const total = ctx.batch * input.c * out.h * out.w;
  const kernel = await ctx.kernel('pooling/pooling');
  const params = ctx.uniform([
    input.h, input.w, out.h, out.w, kH, kW, p.strideH, p.strideW, p.padH, p.padW, p.method === 'ave' ? 1 : 0, total,
  ], layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension),
  });
}
