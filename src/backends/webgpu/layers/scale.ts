/** Scale (per-channel y = x * w[c] + b[c]) on WebGPU, with a fused ReLU: shaders/elementwise/scale.wgsl. */
import { NetworkError } from '../../../errors.js';
import { checkedWeights } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { grid1d, type EncodeContext, type FusedRelu } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';
import { scaleOps } from './counting.js';

export async function encodeScale(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu): Promise<void> {
  if (layer.params.type !== 'Scale') throw new NetworkError(`layer '${layer.name}': a Scale kernel was given a ${layer.params.type} layer`);
  const { biasTerm } = layer.params.scale;
  const shape = layer.inputShapes[0];
  const weights = checkedWeights(layer, shape.c, biasTerm, shape.c);
  const w = ctx.constant(layer, 'scale-weight', () => weights.weight);
  // Without a bias term the kernel adds a table of zeros: one shader, no branch per value.
  const b = ctx.constant(layer, 'scale-bias', () => weights.bias ?? new Float32Array(shape.c));
  const total = ctx.batch * shapeSize(shape);
  const kernel = await ctx.kernel('elementwise/scale');
  const params = ctx.uniform(packUniforms('elementwise/scale', {
    total, hw: shape.h * shape.w, channels: shape.c, relu: relu !== null, slope: relu?.slope ?? 0,
  }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], w, b, outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension), otherOps: scaleOps(layer, ctx.batch),
  });
}
