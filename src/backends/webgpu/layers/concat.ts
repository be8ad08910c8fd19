/** Channel Concat on WebGPU: one copy dispatch per input (shaders/routing/concat.wgsl). */
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { grid1d, type EncodeContext } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';

export async function encodeConcat(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[]): Promise<void> {
  const out = layer.outputShapes[0];
  const kernel = await ctx.kernel('routing/concat');
  let offset = 0;
  layer.inputShapes.forEach((s, i) => {
    const total = ctx.batch * shapeSize(s);
    const params = ctx.uniform(packUniforms('routing/concat', { inC: s.c, outC: out.c, offset, hw: s.h * s.w, total }), `${layer.name}[${i}]`);
    ctx.push({
      op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[i], outputs[0]]),
      workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension),
    });
    offset += s.c;
  });
}
