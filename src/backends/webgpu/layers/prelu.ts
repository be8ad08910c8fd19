/** PReLU (a learned negative slope per channel, or one shared) on WebGPU: shaders/activation/prelu.wgsl. */
import { NetworkError } from '../../../errors.js';
import { checkedWeights } from '../../../ir/layer-params.js';
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { grid1d, type EncodeContext, type FusedRelu } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';
import { preluOps } from './counting.js';

export async function encodePrelu(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu): Promise<void> {
  if (layer.params.type !== 'PReLU') throw new NetworkError(`layer '${layer.name}': a PReLU kernel was given a ${layer.params.type} layer`);
  const shape = layer.inputShapes[0];
  // A shared slope is a table of one entry: the shader's channel index wraps to it.
  const channels = layer.params.prelu.channelShared ? 1 : shape.c;
  const slopes = ctx.constant(layer, 'prelu-slopes', () => checkedWeights(layer, channels, false, 0).weight);
  const total = ctx.batch * shapeSize(shape);
  const kernel = await ctx.kernel('activation/prelu');
  const params = ctx.uniform(packUniforms('activation/prelu', {
    total, hw: shape.h * shape.w, channels, relu: relu !== null, slope: relu?.slope ?? 0,
  }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], slopes, outputs[0]]),
    workgroups: grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension), otherOps: preluOps(layer, ctx.batch),
  });
}
