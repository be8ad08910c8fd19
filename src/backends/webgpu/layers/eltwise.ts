/**
 * Eltwise (sum with coefficients, product, maximum of two or more bottoms) on WebGPU:
 * shaders/elementwise/eltwise.wgsl, one dispatch per bottom after the first, each folding the next
 * bottom into the output; a fused ReLU (residual Add-ReLU) runs in the last one.
 */
import { NetworkError } from '../../../errors.js';
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { grid1d, type EncodeContext, type FusedRelu } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';
import { eltwiseStepOps } from './counting.js';

/** The shader's OP per operation. */
const OP = { sum: 0, prod: 1, max: 2 } as const;

export async function encodeEltwise(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu): Promise<void> {
  if (layer.params.type !== 'Eltwise') throw new NetworkError(`layer '${layer.name}': an Eltwise kernel was given a ${layer.params.type} layer`);
  const { operation, coeffs } = layer.params.eltwise;
  if (inputs.length < 2) throw new NetworkError(`layer '${layer.name}': Eltwise needs at least 2 bottoms, got ${inputs.length}`);
  if (coeffs.length > 0 && coeffs.length !== inputs.length) {
    throw new NetworkError(`layer '${layer.name}': Eltwise has ${coeffs.length} coefficients for ${inputs.length} bottoms`);
  }
  const total = ctx.batch * shapeSize(layer.outputShapes[0]);
  const coeff = (i: number) => (operation === 'sum' ? coeffs[i] ?? 1 : 1);
  const kernel = await ctx.kernel('elementwise/eltwise', { OP: OP[operation] });
  const workgroups = grid1d(total, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  for (let j = 1; j < inputs.length; j++) {
    const last = j === inputs.length - 1;
    const params = ctx.uniform(packUniforms('elementwise/eltwise', {
      total, first: j === 1, ca: coeff(0), cb: coeff(j), relu: last && relu !== null, slope: last ? relu?.slope ?? 0 : 0,
    }), `${layer.name}[${j}]`);
    ctx.push({
      op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, inputs[0], inputs[j], outputs[0]]),
      workgroups, otherOps: eltwiseStepOps(layer, ctx.batch, j),
    });
  }
}
