/** Clip and Sigmoid on WebGPU: shaders/activation/pointwise.wgsl, one pipeline specialisation each. */
import { NetworkError } from '../../../errors.js';
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { grid1d, type EncodeContext, type FusedRelu } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';
import { pointwiseOps } from './counting.js';

/** The shader's KIND per layer type. */
const KIND = { Clip: 0, Sigmoid: 1 } as const;

export async function encodePointwise(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu): Promise<void> {
  const p = layer.params;
  if (p.type !== 'Clip' && p.type !== 'Sigmoid') throw new NetworkError(`layer '${layer.name}': a Clip / Sigmoid kernel was given a ${p.type} layer`);
  // The plan fuses ReLUs into weighted layers only; a fused ReLU here would be dropped silently.
  if (relu !== null) throw new NetworkError(`layer '${layer.name}': the WebGPU ${p.type} kernel cannot apply a fused ReLU`);
  const total = ctx.batch * shapeSize(layer.inputShapes[0]);
  const kernel = await ctx.kernel('activation/pointwise', { KIND: KIND[p.type] });
  const params = ctx.uniform(packUniforms('activation/pointwise', {
    total, lo: p.type === 'Clip' ? p.clip.min : 0, hi: p.type === 'Clip' ? p.clip.max : 0,
  }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension), otherOps: pointwiseOps(layer, ctx.batch),
  });
}
