/** Dense Convolution on WebGPU: shaders/convolution/dense.wgsl. */
import { denseMacs } from '../../../ir/layer-metrics.js';
import { convolutionGeometry, dynWeights, type DynGeometry } from '../../../mechanisms/geometry.js';
import type { Layer } from '../../../ir/network.js';
import type { EncodeContext, FusedRelu } from '../encode-context.js';
import { convGeometryUniforms, packUniforms } from '../uniforms.js';

/** Weights as [g][c][tap][o rounded up to 4]: vec4 loads over 4 output channels of a group. */
function packWeights(weight: Float32Array, g: DynGeometry, quads: number): Float32Array {
  const packed = new Float32Array(g.group * g.cpg * g.taps * quads * 4);
  for (let o = 0; o < g.outC; o++) {
    const grp = Math.floor(o / g.m);
    const local = o - grp * g.m;
    for (let c = 0; c < g.cpg; c++) {
      for (let t = 0; t < g.taps; t++) {
        packed[((grp * g.cpg + c) * g.taps + t) * quads * 4 + local] = weight[(o * g.cpg + c) * g.taps + t];
      }
    }
  }
  return packed;
}

/** Bias as [g][o rounded up to 4]. */
function packGroupBias(bias: Float32Array | undefined, group: number, m: number, quads: number): Float32Array {
  const packed = new Float32Array(group * quads * 4);
  if (bias) for (let o = 0; o < group * m; o++) packed[Math.floor(o / m) * quads * 4 + (o % m)] = bias[o];
  return packed;
}

export async function encodeConvolution(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu): Promise<void> {
  const g = convolutionGeometry(layer);
  const quads = Math.ceil(g.m / 4);
  const w = ctx.constant(layer, 'conv-dense-weights', () => packWeights(dynWeights(layer, g).weight, g, quads));
  const b = ctx.constant(layer, 'conv-dense-bias', () => packGroupBias(dynWeights(layer, g).bias, g.group, g.m, quads));
  const kernel = await ctx.kernel('convolution/dense');
  const params = ctx.uniform(packUniforms('convolution/dense', {
    ...convGeometryUniforms(g), quads, relu: relu !== null, slope: relu?.slope ?? 0,
  }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], w, b, outputs[0]]),
    workgroups: [Math.ceil(g.positions / (kernel.positionsPerInvocation * kernel.workgroupSize)), g.group * quads, ctx.batch], macs: denseMacs(layer, ctx.batch),
  });
}
