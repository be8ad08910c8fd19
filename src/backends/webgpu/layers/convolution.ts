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

/**
 * Invocations a map's positions should at least fill: a software adapter runs 8 invocations per
 * 256-bit vector (lavapipe), and fewer leave lanes idle. SDSS's grid on an 8x8 map (32 positions)
 * with 4 per invocation instead of 8: cifar10-quick 1.02x -> 1.10x dense, conv3's off-grid tiles
 * all interpolated.
 */
const MIN_INVOCATIONS = 8;

/** Positions per invocation for `positions` output positions: `px` (the tuned PX), halved while they would fill fewer than MIN_INVOCATIONS. */
function positionsPerInvocation(positions: number, px: number): number {
  let p = px;
  while (p > 1 && Math.ceil(positions / p) < MIN_INVOCATIONS) p = Math.max(1, Math.floor(p / 2));
  return p;
}

/** Output positions given as a list: `length` u32 entries of `buffer` from word `at`. */
export interface PositionList {
  readonly buffer: GPUBuffer;
  readonly at: number;
  readonly length: number;
}

export async function encodeConvolution(ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu): Promise<void> {
  await encodeDenseConvolution(ctx, layer, inputs[0], outputs[0], relu, null);
}

/**
 * One dispatch of the dense kernel: every output position (`list` null), or only the listed ones
 * (the others are left as they are). Returns its MACs (all executed; the dispatch records them).
 */
export async function encodeDenseConvolution(
  ctx: EncodeContext, layer: Layer, input: GPUBuffer, output: GPUBuffer, relu: FusedRelu, list: PositionList | null,
): Promise<number> {
  const g = convolutionGeometry(layer);
  const quads = Math.ceil(g.m / 4);
  const w = ctx.constant(layer, 'conv-dense-weights', () => packWeights(dynWeights(layer, g).weight, g, quads));
  const b = ctx.constant(layer, 'conv-dense-bias', () => packGroupBias(dynWeights(layer, g).bias, g.group, g.m, quads));
  const positions = list ? list.length : g.positions;
  const tuned = await ctx.kernel('convolution/dense');
  const px = positionsPerInvocation(positions, tuned.positionsPerInvocation);
  const kernel = px === tuned.positionsPerInvocation ? tuned : await ctx.kernel('convolution/dense', { PX: px });
  const params = ctx.uniform(packUniforms('convolution/dense', {
    ...convGeometryUniforms(g), quads, relu: relu !== null, slope: relu?.slope ?? 0, listLen: list?.length ?? 0, listAt: list?.at ?? 0,
  }), layer.name);
  // Every declared binding must be bound: without a list, binding 5 (unread) takes the input,
  // read-only in both places.
  const listBuffer = list?.buffer ?? input;
  const macs = list ? ctx.batch * list.length * g.outC * g.cpg * g.taps : denseMacs(layer, ctx.batch);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel, bindGroup: ctx.bind(kernel, [params, input, w, b, output, listBuffer]),
    workgroups: [Math.ceil(positions / (kernel.positionsPerInvocation * kernel.workgroupSize)), g.group * quads, ctx.batch], macs,
  });
  return macs;
}
