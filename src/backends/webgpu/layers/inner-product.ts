/**
 * Dense InnerProduct on WebGPU: shaders/inner-product/dense.wgsl. Weights larger than one storage
 * binding (AlexNet's and VGG's fc6 exceed the 128 MiB of many adapters) are split by outputs into
 * chunks that each fit, one dispatch per chunk.
 */
import { denseMacs } from '../../../ir/layer-metrics.js';
import { dynWeights, innerProductGeometry } from '../../../mechanisms/geometry.js';
import type { Layer } from '../../../ir/network.js';
import { NetworkError } from '../../../errors.js';
import type { EncodeContext, FusedRelu } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';

/** Outputs [o0, o0 + 4 * quads) of weights (out, in) as [in][4 * quads]: vec4 loads over 4 outputs. */
function packWeights(weight: Float32Array, inSize: number, outC: number, o0: number, quads: number): Float32Array {
  const packed = new Float32Array(inSize * quads * 4);
  for (let o = o0; o < Math.min(outC, o0 + quads * 4); o++) {
    for (let k = 0; k < inSize; k++) packed[k * quads * 4 + o - o0] = weight[o * inSize + k];
  }
  return packed;
}

function packBias(bias: Float32Array | undefined, outC: number, o0: number, quads: number): Float32Array {
  const packed = new Float32Array(quads * 4);
  if (bias) for (let o = o0; o < Math.min(outC, o0 + quads * 4); o++) packed[o - o0] = bias[o];
  return packed;
}

export async function encodeInnerProduct(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu): Promise<void> {
  const g = innerProductGeometry(layer);
  const quads = Math.ceil(g.outC / 4);
  const quadBytes = g.inSize * 16;
  const perChunk = Math.min(quads, Math.floor(ctx.device.limits.maxStorageBufferBindingSize / quadBytes));
  if (perChunk < 1) throw new NetworkError(`layer '${layer.name}': ${g.inSize} inputs per output exceed what this adapter binds in one buffer`);
  const kernel = await ctx.kernel('inner-product/dense');
  const macs = denseMacs(layer, ctx.batch);
  for (let q0 = 0; q0 < quads; q0 += perChunk) {
    const n = Math.min(perChunk, quads - q0);
    const o0 = q0 * 4;
    const w = ctx.constant(layer, `ip-dense-weights@${o0}`, () => packWeights(dynWeights(layer, g).weight, g.inSize, g.outC, o0, n));
    const b = ctx.constant(layer, `ip-dense-bias@${o0}`, () => packBias(dynWeights(layer, g).bias, g.outC, o0, n));
    const params = ctx.uniform(packUniforms('inner-product/dense', {
      inSize: g.inSize, outC: g.outC, quads: n, relu: relu !== null, slope: relu?.slope ?? 0, outOffset: o0,
    }), layer.name);
    ctx.push({
      op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], w, b, outputs[0]]),
      workgroups: [Math.ceil(n / kernel.workgroupSize), ctx.batch, 1], macs: (macs * Math.min(n * 4, g.outC - o0)) / g.outC,
    });
  }
}
