/**
 * The WebGPU kernels of the layers of post-2015 CNNs (Scale, Eltwise, PReLU, Clip, Sigmoid)
 * against the CPU reference: each layer alone on odd shapes (batch 1 and 3, sizes that are no
 * multiple of a workgroup), their counters, and small residual networks run whole, with the ReLU
 * after a Scale, a PReLU or an Eltwise sum fused into its store, as the execution plan asks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.js';
import { parseTuning, PipelineCache } from '../src/backends/webgpu/pipelines.js';
import { ConstantCache, Plan } from '../src/backends/webgpu/scheduler.js';
import type { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { loadNetwork } from '../src/formats/load-network.js';
import type { Layer, LayerParams, Network, Shape } from '../src/ir/network.js';
import { shapeSize } from '../src/ir/network.js';
import { compilePlan, networkGraph } from '../src/plan/execution-plan.js';
import { tempFile } from './helpers/files.js';
import { openTestGpu } from './helpers/gpu.js';
import { layer, randomArray } from './helpers/synthetic-layers.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

let gpu: WebGpuBackend;

beforeAll(async () => {
  gpu = await openTestGpu();
});

afterAll(() => gpu?.destroy());

/** A layer of `params` with `bottoms` inputs of one shape and one output of that shape. */
function sameShapeLayer(name: string, params: LayerParams, shape: Shape, bottoms = 1, extra: Partial<Layer> = {}): Layer {
  return layer(name, params, Array.from({ length: bottoms }, () => shape), [shape], extra);
}

/** Seeded inputs of `l` for `batch` images, values in [-scale, scale). */
function inputsOf(l: Layer, batch: number, seed: number, scale = 3): Float32Array[] {
  return l.inputShapes.map((s, i) => randomArray(batch * shapeSize(s), seed + 17 * i, scale));
}

/** Runs `l` alone on the GPU and on the CPU reference; checks outputs and counters. */
async function expectParity(l: Layer, inputs: Float32Array[], batch: number, what: string) {
  const ref = runLayer(l, inputs, batch, { kernels: 'reference' });
  const g = await gpu.runLayer(l, inputs, batch);
  const err = relativeError(g.outputs[0], ref.outputs[0]);
  expect(err, `${what}: relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  // PReLU: the reference counts a multiply per negative value only; the branch-free fast kernel,
  // like the shader, one per value.
  const counted = l.params.type === 'PReLU' ? runLayer(l, inputs, batch, { kernels: 'fast' }).counters : ref.counters;
  expect(g.counters.otherOps, `${what}: otherOps`).toBe(counted.otherOps);
  expect(g.counters.macsExecuted, `${what}: MACs`).toBe(ref.counters.macsExecuted);
  return g;
}

const SHAPES: readonly Shape[] = [{ c: 5, h: 7, w: 3 }, { c: 3, h: 31, w: 17 }, { c: 1, h: 1, w: 1 }];
const BATCHES = [1, 3] as const;

describe('each new layer alone on WebGPU equals the CPU reference', () => {
  it('Scale, with and without a bias term', async () => {
    let seed = 1;
    for (const shape of SHAPES) {
      for (const biasTerm of [true, false]) {
        const weights = { weight: randomArray(shape.c, seed++, 2), ...(biasTerm && { bias: randomArray(shape.c, seed++, 1) }) };
        const l = sameShapeLayer('scale', { type: 'Scale', scale: { biasTerm } }, shape, 1, { weights });
        for (const batch of BATCHES) {
          const g = await expectParity(l, inputsOf(l, batch, seed++), batch, `Scale ${JSON.stringify(shape)} bias ${biasTerm} batch ${batch}`);
          expect(g.dispatches.map((d) => d.kernel)).toEqual(['elementwise/scale']);
        }
      }
    }
  });

  it('Eltwise sum (with and without coefficients), product and maximum of 2 to 4 bottoms', async () => {
    const cases: [string, LayerParams, number][] = [
      ['sum of 2', { type: 'Eltwise', eltwise: { operation: 'sum', coeffs: [] } }, 2],
      ['sum of 3, no coeffs', { type: 'Eltwise', eltwise: { operation: 'sum', coeffs: [] } }, 3],
      ['sum of 2, coeff 1 -1 (a difference)', { type: 'Eltwise', eltwise: { operation: 'sum', coeffs: [1, -1] } }, 2],
      ['sum of 3, coeffs 0.5 -1 2', { type: 'Eltwise', eltwise: { operation: 'sum', coeffs: [0.5, -1, 2] } }, 3],
      ['product of 2', { type: 'Eltwise', eltwise: { operation: 'prod', coeffs: [] } }, 2],
      ['product of 3', { type: 'Eltwise', eltwise: { operation: 'prod', coeffs: [] } }, 3],
      ['maximum of 2', { type: 'Eltwise', eltwise: { operation: 'max', coeffs: [] } }, 2],
      ['maximum of 4', { type: 'Eltwise', eltwise: { operation: 'max', coeffs: [] } }, 4],
    ];
    let seed = 100;
    for (const [name, params, bottoms] of cases) {
      for (const shape of SHAPES) {
        const l = sameShapeLayer('eltwise', params, shape, bottoms);
        for (const batch of BATCHES) {
          const g = await expectParity(l, inputsOf(l, batch, seed++), batch, `Eltwise ${name} ${JSON.stringify(shape)} batch ${batch}`);
          // One dispatch per bottom after the first.
          expect(g.dispatches.map((d) => d.kernel)).toEqual(Array(bottoms - 1).fill('elementwise/eltwise'));
        }
      }
    }
  });

  it('Eltwise of equal inputs', async () => {
    const shape = { c: 3, h: 5, w: 5 };
    for (const operation of ['sum', 'prod', 'max'] as const) {
      const l = sameShapeLayer('self', { type: 'Eltwise', eltwise: { operation, coeffs: [] } }, shape, 2);
      const x = randomArray(2 * shapeSize(shape), 9, 2);
      await expectParity(l, [x, x], 2, `Eltwise ${operation} x, x`);
    }
  });

  it('PReLU, per channel and channel-shared', async () => {
    let seed = 200;
    for (const shape of SHAPES) {
      for (const channelShared of [false, true]) {
        const weights = { weight: randomArray(channelShared ? 1 : shape.c, seed++, 0.5) };
        const l = sameShapeLayer('prelu', { type: 'PReLU', prelu: { channelShared } }, shape, 1, { weights });
        for (const batch of BATCHES) {
          await expectParity(l, inputsOf(l, batch, seed++), batch, `PReLU ${JSON.stringify(shape)} shared ${channelShared} batch ${batch}`);
        }
      }
    }
  });

  it('Clip (ReLU6, a narrow band, an open upper bound)', async () => {
    let seed = 300;
    for (const [min, max] of [[0, 6], [-0.5, 0.25], [-1, Infinity]] as const) {
      for (const shape of SHAPES) {
        const l = sameShapeLayer('clip', { type: 'Clip', clip: { min, max } }, shape);
        for (const batch of BATCHES) {
          await expectParity(l, inputsOf(l, batch, seed++, 10), batch, `Clip [${min}, ${max}] ${JSON.stringify(shape)} batch ${batch}`);
        }
      }
    }
  });

  it('Sigmoid, over small and saturating inputs', async () => {
    let seed = 400;
    for (const range of [3, 100]) {
      for (const shape of SHAPES) {
        const l = sameShapeLayer('sigmoid', { type: 'Sigmoid' }, shape);
        for (const batch of BATCHES) {
          const inputs = inputsOf(l, batch, seed++, range);
          const g = await expectParity(l, inputs, batch, `Sigmoid ±${range} ${JSON.stringify(shape)} batch ${batch}`);
          expect(g.outputs[0].every((v) => v >= 0 && v <= 1)).toBe(true);
        }
      }
    }
  });

  it('hand-computed values: a per-channel Scale, a weighted sum, a shared PReLU, ReLU6, Sigmoid', async () => {
    const shape = { c: 2, h: 1, w: 2 };
    const x = Float32Array.from([-2, 3, 0.5, -8]);
    const scale = sameShapeLayer('s', { type: 'Scale', scale: { biasTerm: true } }, shape, 1, { weights: { weight: Float32Array.from([2, -1]), bias: Float32Array.from([1, 0.5]) } });
    expect([...(await gpu.runLayer(scale, [x], 1)).outputs[0]]).toEqual([-3, 7, 0, 8.5]);
    const sum = sameShapeLayer('e', { type: 'Eltwise', eltwise: { operation: 'sum', coeffs: [2, -1] } }, shape, 2);
    expect([...(await gpu.runLayer(sum, [x, Float32Array.from([1, 1, 1, 1])], 1)).outputs[0]]).toEqual([-5, 5, 0, -17]);
    const prelu = sameShapeLayer('p', { type: 'PReLU', prelu: { channelShared: true } }, shape, 1, { weights: { weight: Float32Array.from([0.25]) } });
    expect([...(await gpu.runLayer(prelu, [x], 1)).outputs[0]]).toEqual([-0.5, 3, 0.5, -2]);
    const relu6 = sameShapeLayer('c', { type: 'Clip', clip: { min: 0, max: 6 } }, shape);
    expect([...(await gpu.runLayer(relu6, [Float32Array.from([-1, 7, 2.5, 6])], 1)).outputs[0]]).toEqual([0, 6, 2.5, 6]);
    const sigmoid = sameShapeLayer('g', { type: 'Sigmoid' }, shape);
    const y = (await gpu.runLayer(sigmoid, [Float32Array.from([0, 200, -200, Math.log(3)])], 1)).outputs[0];
    expect(y[0]).toBe(0.5);
    expect(y[1]).toBe(1);
    expect(y[2]).toBe(0);
    expect(y[3]).toBeCloseTo(0.75, 6);
  });
});

/**
 * Conv-Scale-ReLU, a second Conv-Scale, the residual Eltwise sum, ReLU, global AVE pooling,
 * InnerProduct (the loader folds each Scale into its convolution, as it does for users).
 */
const RESIDUAL_PROTOTXT = `name: "residual" input: "data" input_dim: 1 input_dim: 3 input_dim: 9 input_dim: 11
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 5 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "bn1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2" convolution_param { num_output: 5 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "bn2" type: "Scale" bottom: "conv2" top: "conv2" scale_param { bias_term: true } }
layer { name: "add" type: "Eltwise" bottom: "conv2" bottom: "conv1" top: "add" eltwise_param { operation: SUM } }
layer { name: "relu2" type: "ReLU" bottom: "add" top: "add" }
layer { name: "gap" type: "Pooling" bottom: "add" top: "gap" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "gap" top: "fc" inner_product_param { num_output: 4 } }
`;

/**
 * The other new layers in one graph: PReLU (then a leaky ReLU), Clip, Sigmoid, a weighted 3-way
 * sum, a blob added to itself (one buffer in both bindings), product, maximum, and a Scale that
 * no convolution precedes (so the loader cannot fold it) followed by a ReLU.
 */
const VARIANTS_PROTOTXT = `name: "new-variants" input: "data" input_dim: 1 input_dim: 4 input_dim: 7 input_dim: 5
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 6 kernel_size: 3 pad: 1 } }
layer { name: "prelu" type: "PReLU" bottom: "conv" top: "p" }
layer { name: "leaky" type: "ReLU" bottom: "p" top: "p" relu_param { negative_slope: 0.5 } }
layer { name: "shared" type: "PReLU" bottom: "conv" top: "q" prelu_param { channel_shared: true } }
layer { name: "relu6" type: "Clip" bottom: "conv" top: "r6" clip_param { min: 0 max: 6 } }
layer { name: "gate" type: "Sigmoid" bottom: "conv" top: "g" }
layer { name: "mix" type: "Eltwise" bottom: "p" bottom: "q" bottom: "r6" top: "mix" eltwise_param { operation: SUM coeff: 0.5 coeff: -1 coeff: 2 } }
layer { name: "twice" type: "Eltwise" bottom: "g" bottom: "g" top: "gg" eltwise_param { operation: SUM } }
layer { name: "gated" type: "Eltwise" bottom: "mix" bottom: "gg" top: "gated" eltwise_param { operation: PROD } }
layer { name: "most" type: "Eltwise" bottom: "gated" bottom: "q" bottom: "conv" top: "most" eltwise_param { operation: MAX } }
layer { name: "scale" type: "Scale" bottom: "most" top: "scaled" scale_param { bias_term: true } }
layer { name: "scale_relu" type: "ReLU" bottom: "scaled" top: "scaled" }
layer { name: "gap" type: "Pooling" bottom: "scaled" top: "gap" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "gap" top: "fc" inner_product_param { num_output: 3 } }
`;

const NEW_TYPES = new Set(['Scale', 'Eltwise', 'PReLU', 'Clip', 'Sigmoid']);

async function synthetic(name: string, prototxt: string, seed: number): Promise<Network> {
  return loadNetwork(tempFile(`${name}.prototxt`, prototxt), { kind: 'synthetic', seed });
}

describe('networks of the new layers run whole on WebGPU as on the CPU reference', () => {
  for (const [name, prototxt, types] of [
    ['residual', RESIDUAL_PROTOTXT, ['Eltwise']],
    ['new-variants', VARIANTS_PROTOTXT, ['Clip', 'Eltwise', 'PReLU', 'Scale', 'Sigmoid']],
  ] as const) {
    for (const batch of BATCHES) {
      it(`${name}, batch ${batch}: outputs, MACs and the new layers' counters`, async () => {
        const net = await synthetic(name, prototxt, 11);
        expect([...new Set(net.layers.map((l) => l.params.type).filter((t) => NEW_TYPES.has(t)))].sort()).toEqual(types);
        const input = randomArray(batch * shapeSize(net.inputShape), 5, 2);
        const ref = await new CpuBackend({ kernels: 'reference' }).run(net, input, batch);
        const fast = await new CpuBackend({ kernels: 'fast' }).run(net, input, batch);
        const r = await gpu.run(net, input, batch);
        expect(relativeError(r.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
        expect(r.counters.map((c) => c.macsExecuted)).toEqual(ref.counters.map((c) => c.macsExecuted));
        r.counters.forEach((c, i) => {
          if (!NEW_TYPES.has(c.type)) return;
          const expected = (c.type === 'PReLU' ? fast : ref).counters[i];
          expect(c.name).toBe(expected.name);
          expect(c.otherOps, `${c.name} otherOps`).toBe(expected.otherOps);
        });
      });
    }
  }

  /**
   * Runs `net` with its execution plan, after checking that the plan fuses the ReLU after each
   * layer named in `fuse` into it: the encoders of the new layers must then apply it in their store.
   */
  async function runFused(net: Network, input: Float32Array, batch: number, fuse: readonly string[]) {
    const compiled = compilePlan(networkGraph(net), {}, () => false);
    for (const s of compiled.steps.filter((step) => fuse.includes(step.layer.name))) {
      expect(s.fusedRelu, `the plan fuses the ReLU after ${s.layer.name}`).toBe(s.index + 1);
      expect(compiled.steps[s.index + 1].layer.params.type, `a ReLU follows ${s.layer.name}`).toBe('ReLU');
    }
    const constants = new ConstantCache(gpu.device);
    const built = await Plan.build(gpu.device, new PipelineCache(gpu.device), constants, compiled, batch);
    try {
      return await built.run(new Map([[net.inputName, input]]), new Promise(() => undefined));
    } finally {
      built.destroy();
      constants.destroy();
    }
  }

  it('a ReLU fused into a Scale, an Eltwise sum or a PReLU runs in its store, with no dispatch of its own', async () => {
    const batch = 3;
    for (const [name, prototxt, fuse, relus] of [
      ['residual', RESIDUAL_PROTOTXT, ['add'], ['relu2']],
      ['new-variants', VARIANTS_PROTOTXT, ['prelu', 'scale'], ['leaky', 'scale_relu']],
    ] as const) {
      const net = await synthetic(name, prototxt, 13);
      const input = randomArray(batch * shapeSize(net.inputShape), 8, 2);
      const ref = await new CpuBackend({ kernels: 'reference' }).run(net, input, batch);
      const r = await runFused(net, input, batch, fuse);
      expect(relativeError(r.outputs.get(net.outputName)!, ref.output), name).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
      const layers = r.dispatches.map((d) => d.layer);
      for (const relu of relus) expect(layers, name).not.toContain(relu);
      for (const layer of fuse) expect(layers.filter((l) => l === layer), layer).toHaveLength(1);
    }
  });
});

describe('pipeline specialisation', () => {
  it('takes only the constants a kernel declares, and --tune cannot set them', async () => {
    const pipelines = new PipelineCache(gpu.device);
    const [clip, sigmoid, again] = await Promise.all([
      pipelines.kernel('activation/pointwise', { KIND: 0 }), pipelines.kernel('activation/pointwise', { KIND: 1 }), pipelines.kernel('activation/pointwise', { KIND: 1 }),
    ]);
    expect(clip.pipeline).not.toBe(sigmoid.pipeline);
    expect(again).toBe(sigmoid); // one pipeline per specialisation
    expect(() => pipelines.kernel('activation/relu', { KIND: 1 })).toThrow(/activation\/relu has no specialisation constant 'KIND'/);
    expect(() => parseTuning('elementwise/eltwise:OP=2')).toThrow(/has no constant 'OP'/);
  });
});
