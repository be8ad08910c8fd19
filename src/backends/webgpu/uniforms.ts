/**
 * The uniform block of every WebGPU kernel, declared once: per kernel (named after its file under
 * shaders/), the fields of the WGSL `struct` bound as `var<uniform>`, in order. Encoders pack a
 * block by field name with {@link packUniforms}; test/webgpu-uniforms.test.ts parses each .wgsl
 * file and checks its struct against this table, field by field.
 *
 * Every field is 4 bytes (u32 or f32), so field i is word i of the buffer. Fields whose name
 * starts with `_` are the struct's explicit padding: listed so the order matches the WGSL, always
 * written as 0, never passed by encoders.
 */
import type { DynGeometry } from '../../mechanisms/geometry.js';
import { f32Bits, type UniformWords } from './encode-context.js';
import type { KernelName } from './pipelines.js';

/** The scalar types a uniform field may have. */
export type UniformType = 'u32' | 'f32';

/** One 4-byte field of a uniform struct. */
export interface UniformField {
  readonly name: string;
  readonly type: UniformType;
}

/** The fields of a uniform struct, in declaration order. */
export type UniformLayout = readonly UniformField[];

const u32 = <N extends string>(name: N) => ({ name, type: 'u32' }) as const;
const f32 = <N extends string>(name: N) => ({ name, type: 'f32' }) as const;

/** The fields shared by the dense and the dynamic convolution: geometry of one group. */
const CONV_GEOMETRY = [
  u32('inC'), u32('inH'), u32('inW'), u32('outC'), u32('outH'), u32('outW'), u32('kH'), u32('kW'),
  u32('sH'), u32('sW'), u32('pH'), u32('pW'), u32('dH'), u32('dW'), u32('cpg'), u32('m'),
] as const;

/** The {@link CONV_GEOMETRY} fields of both convolution kernels, from a layer's geometry. */
export function convGeometryUniforms(g: DynGeometry): UniformValues<typeof CONV_GEOMETRY> {
  return {
    inC: g.inC, inH: g.inH, inW: g.inW, outC: g.outC, outH: g.outH, outW: g.outW, kH: g.kernelH, kW: g.kernelW,
    sH: g.strideH, sW: g.strideW, pH: g.padH, pW: g.padW, dH: g.dilationH, dW: g.dilationW, cpg: g.cpg, m: g.m,
  };
}

/** Per kernel, its uniform struct (the comments in the .wgsl files say what each field means). */
export const UNIFORM_LAYOUTS = {
  'activation/relu': [u32('total'), f32('slope'), u32('_p0'), u32('_p1')],
  'activation/pointwise': [u32('total'), f32('lo'), f32('hi'), u32('_p0')],
  'activation/prelu': [u32('total'), u32('hw'), u32('channels'), u32('relu'), f32('slope'), u32('_p0'), u32('_p1'), u32('_p2')],
  'elementwise/scale': [u32('total'), u32('hw'), u32('channels'), u32('relu'), f32('slope'), u32('_p0'), u32('_p1'), u32('_p2')],
  'elementwise/eltwise': [u32('total'), u32('first'), f32('ca'), f32('cb'), u32('relu'), f32('slope'), u32('_p0'), u32('_p1')],
  'convolution/dense': [...CONV_GEOMETRY, u32('quads'), u32('relu'), f32('slope'), u32('listLen'), u32('listAt'), u32('_p0'), u32('_p1'), u32('_p2')],
  'inner-product/dense': [u32('inSize'), u32('outC'), u32('quads'), u32('relu'), f32('slope'), u32('outOffset'), u32('_p0'), u32('_p1')],
  'normalization/lrn': [
    u32('C'), u32('H'), u32('W'), u32('total'), u32('size'), u32('within'), f32('alpha'), f32('beta'), f32('k'),
    u32('_p0'), u32('_p1'), u32('_p2'),
  ],
  'pooling/pooling': [
    u32('inH'), u32('inW'), u32('outH'), u32('outW'), u32('kH'), u32('kW'), u32('sH'), u32('sW'), u32('pH'), u32('pW'),
    u32('average'), u32('total'),
  ],
  'routing/concat': [u32('inC'), u32('outC'), u32('offset'), u32('hw'), u32('total'), u32('_p0'), u32('_p1'), u32('_p2')],
  'softmax/softmax': [u32('C'), u32('hw'), u32('total'), u32('_p0')],
  'dynamic/convolution': [
    ...CONV_GEOMETRY,
    u32('nSig'), u32('phase'), f32('threshold'), u32('relu'), u32('rectify'), u32('sfma'), u32('biasAt'), u32('orderAt'),
    u32('posAt'), u32('posStride'), u32('countAt'), u32('countStride'), u32('keepAt'), u32('kAt'), u32('boundAt'), u32('slot'),
    u32('survAt'), u32('survStride'), u32('survCountAt'), u32('survMaxAt'), u32('trace'), u32('residual'),
  ],
  'dynamic/map-statistics': [u32('planeSize'), u32('maps'), f32('epsilon'), u32('sfma'), u32('keepAt'), u32('meanAt'), u32('rangeAt'), u32('slot')],
  'dynamic/sfma-kernel-sums': [
    u32('inC'), u32('outC'), u32('cpg'), u32('m'), u32('taps'), u32('total'), u32('keepAt'), u32('meanAt'), u32('kAt'),
    u32('_p0'), u32('_p1'), u32('_p2'),
  ],
  'dynamic/spet-bound': [
    u32('inC'), u32('outC'), u32('cpg'), u32('m'), u32('nSig'), u32('total'), u32('orderAt'), u32('posAt'), u32('negAt'),
    u32('keepAt'), u32('rangeAt'), u32('boundAt'),
  ],
  'dynamic/sdss-decide': [
    u32('hw'), u32('nonGrid'), u32('total'), f32('delta'), u32('neighbourAt'), u32('listAt'), u32('countAt'), u32('maxAt'),
    u32('slot'), u32('trace'), u32('_p1'), u32('_p2'),
  ],
  'dynamic/sdss-indirect-args': [u32('tile'), u32('outC'), u32('images'), u32('maxAt'), u32('argsAt'), u32('_p0'), u32('_p1'), u32('_p2')],
  'dynamic/tile-convolution': [
    ...CONV_GEOMETRY,
    u32('phase'), u32('nSig'), u32('exact'), u32('residual'), u32('relu'), u32('rectify'), u32('sfma'), f32('delta'),
    u32('biasAt'), u32('thrAt'), u32('orderAt'), u32('listAt'), u32('listLen'), u32('nTiles'), u32('neighbourAt'), u32('cb'),
    u32('fromList'), u32('inAt'), u32('inCountAt'), u32('outAt'), u32('outCountAt'), u32('argsAt'), u32('argsY'), u32('keepAt'),
    u32('kAt'), u32('boundAt'), u32('slot'), u32('trace'), u32('outC4'), u32('four'), u32('then'), u32('decideSlot'),
  ],
} as const satisfies Partial<Record<KernelName, UniformLayout>>;

/** A kernel that takes a uniform block. */
export type UniformKernel = keyof typeof UNIFORM_LAYOUTS;

/**
 * The values an encoder passes for `L`: every field but the `_` padding, by name. A u32 flag may
 * be given as a boolean (1 or 0).
 */
export type UniformValues<L extends UniformLayout> = {
  readonly [F in Exclude<L[number], { readonly name: `_${string}` }> as F['name']]: F['type'] extends 'f32' ? number : number | boolean;
};

/**
 * The words of `kernel`'s uniform block: `values` in the struct's order, f32 fields as their bit
 * patterns, padding fields 0, and zeros after the struct up to a multiple of 16 bytes. Throws when
 * a field is missing or a u32 value is not an integer in [0, 2^32).
 */
export function packUniforms<K extends UniformKernel>(kernel: K, values: UniformValues<(typeof UNIFORM_LAYOUTS)[K]>): UniformWords {
  const layout: UniformLayout = UNIFORM_LAYOUTS[kernel];
  const given = values as Readonly<Record<string, number | boolean | undefined>>;
  const words = new Array<number>(Math.ceil(layout.length / 4) * 4).fill(0);
  layout.forEach((field, i) => {
    if (field.name.startsWith('_')) return;
    const v = given[field.name];
    if (v === undefined) throw new Error(`dyvedeep: uniform ${kernel}.${field.name} is missing`);
    if (field.type === 'f32') {
      words[i] = f32Bits(Number(v));
      return;
    }
    const n = typeof v === 'boolean' ? Number(v) : v;
    // A Uint32Array would silently wrap or zero a bad value; the shader would read garbage.
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`dyvedeep: uniform ${kernel}.${field.name} = ${n} is not a u32`);
    words[i] = n;
  });
  return words;
}
