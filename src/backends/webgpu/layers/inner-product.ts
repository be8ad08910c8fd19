/** Dense InnerProduct on WebGPU: shaders/inner-product/dense.wgsl. */
import { denseMacs } from '../../cpu/dense-macs.js';
import { dynWeights, innerProductGeometry } from '../../../dynamic/geometry.js';
import type { Layer } from '../../../ir/network.js';
import { f32Bits, type EncodeContext } from '../encode-context.js';
import { packGroupBias } from './convolution.js';
import type { FusedRelu } from './layer-encoder.js';

/** Weights (out, in) as [in][out rounded up to 4]: vec4 loads over 4 outputs. */
function packWeights(weight: Float32Array, inSize: number, outC: number, quads: number): Float32Array {
  const packed = new Float32Array(inSize * quads * 4);
  for (let o = 0; o < outC; o++) for (let k = 0; k < inSize; k++) packed[k * quads * 4 + o] = weight[o * inSize + k];
  return packed;
}

export async function encodeInnerProduct(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu): Promise<void> {
  const g = innerProductGeometry(layer);
  const quads = Math.ceil(g.outC / 4);
  const w = ctx.constant(layer, 'ip-dense-weights', () => packWeights(dynWeights(layer, g).weight, g.inSize, g.outC, quads));
  const b = ctx.constant(layer, 'ip-dense-bias', () => packGroupBias(dynWeights(layer, g).bias, 1, g.outC, quads));
  const kernel = await ctx.kernel('inner-product/dense');
  const params = ctx.uniform([g.inSize, g.outC, quads, relu ? 1 : 0, f32Bits(relu?.slope ?? 0), 0, 0, 0], layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], w, b, outputs[0]]),
    workgroups: [Math.ceil(quads / kernel.workgroupSize), ctx.batch, 1], macs: denseMacs(layer, ctx.batch),
  });
}
