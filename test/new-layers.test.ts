/**
 * The layers of post-2015 CNNs (issue 18): Scale, Eltwise, PReLU, Clip, Sigmoid and Caffe's
 * BatchNorm (held as a Scale). Each kernel against hand-computed values on tiny inputs (reference,
 * fast and wasm tables); a residual network of all of them from a prototxt, the three backends
 * against each other; parse errors; BatchNorm's blobs turned into a Scale; folding a Scale into
 * the convolution before it; DyVEDeep refusing what would be wrong; the ONNX export run by
 * onnxruntime-node.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { openTfjsWasm } from '../harness/peers/tfjs-wasm.js';
import { CpuBackend, runLayer, type KernelVariant } from '../src/backends/cpu/cpu-backend.js';
import { NetworkError } from '../src/errors.js';
import { caffeType } from '../src/formats/caffe/schema.js';
import { exportOnnx } from '../src/formats/onnx/export-onnx.js';
import { parseNetwork, type ParseNetworkOptions } from '../src/formats/parse-network.js';
import { parseProfile } from '../src/effort/profile.js';
import { foldScales } from '../src/ir/fold-scale.js';
import type { Layer, LayerParams, LayerWeights, Network, Shape } from '../src/ir/network.js';
import { feedsRelu } from '../src/ir/relu-reach.js';
import { planNetwork } from '../src/plan/execution-plan.js';
import { ParallelBackend } from '../src/threads/parallel-backend.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

const VARIANTS: readonly KernelVariant[] = ['reference', 'fast', 'wasm'];

/** A layer of one image's shape `shape` per bottom, for running one kernel alone. */
function layerOf(params: LayerParams, inputs: readonly Shape[], weights?: LayerWeights): Layer {
  return {
    name: params.type.toLowerCase(), params, bottoms: inputs.map((_, i) => `in${i}`), tops: ['out'],
    inputShapes: inputs, outputShapes: [inputs[0]], ...(weights && { weights }),
  };
}

function run(layer: Layer, inputs: number[][], variant: KernelVariant, batch = 1): { y: number[]; ops: number } {
  const r = runLayer(layer, inputs.map((x) => Float32Array.from(x)), batch, { kernels: variant });
  return { y: [...r.outputs[0]], ops: r.counters.otherOps };
}

const f32 = (values: number[]) => [...Float32Array.from(values)];

describe('each new kernel against hand-computed values', () => {
  const shape = { c: 2, h: 1, w: 2 };
  for (const variant of VARIANTS) {
    it(`Scale, ${variant}`, () => {
      const weights = { weight: Float32Array.from([2, -0.5]), bias: Float32Array.from([1, 0.25]) };
      const layer = layerOf({ type: 'Scale', scale: { biasTerm: true } }, [shape], weights);
      // Two images: channel c of each image scaled by weight[c], plus bias[c].
      const r = run(layer, [[1, -3, 4, 8, 0, 1, 2, -2]], variant, 2);
      expect(r.y).toEqual(f32([3, -5, -1.75, -3.75, 1, 3, -0.75, 1.25]));
      expect(r.ops).toBe(16);
      const noBias = layerOf({ type: 'Scale', scale: { biasTerm: false } }, [shape], { weight: Float32Array.from([3, 0.5]) });
      expect(run(noBias, [[1, 2, 3, 4]], variant).y).toEqual([3, 6, 1.5, 2]);
    });

    it(`Eltwise sum (with coeffs), prod and max, ${variant}`, () => {
      const a = [1, -2, 3, 0.5];
      const b = [4, 5, -6, 0.25];
      const c = [-1, 10, 2, 2];
      const sum = layerOf({ type: 'Eltwise', eltwise: { operation: 'sum', coeffs: [] } }, [shape, shape]);
      expect(run(sum, [a, b], variant)).toEqual({ y: [5, 3, -3, 0.75], ops: 4 });
      const weighted = layerOf({ type: 'Eltwise', eltwise: { operation: 'sum', coeffs: [1, -1, 0.5] } }, [shape, shape, shape]);
      // a - b + c / 2: 2 adds and 3 multiplies per value.
      expect(run(weighted, [a, b, c], variant)).toEqual({ y: [-3.5, -2, 10, 1.25], ops: 20 });
      const prod = layerOf({ type: 'Eltwise', eltwise: { operation: 'prod', coeffs: [] } }, [shape, shape, shape]);
      expect(run(prod, [a, b, c], variant)).toEqual({ y: [-4, -100, -36, 0.25], ops: 8 });
      const max = layerOf({ type: 'Eltwise', eltwise: { operation: 'max', coeffs: [] } }, [shape, shape, shape]);
      expect(run(max, [a, b, c], variant)).toEqual({ y: [4, 10, 3, 2], ops: 8 });
    });

    it(`PReLU per channel and shared, ${variant}`, () => {
      const perChannel = layerOf({ type: 'PReLU', prelu: { channelShared: false } }, [shape], { weight: Float32Array.from([0.25, 0.5]) });
      expect(run(perChannel, [[-4, 2, -4, 3]], variant).y).toEqual([-1, 2, -2, 3]);
      const shared = layerOf({ type: 'PReLU', prelu: { channelShared: true } }, [shape], { weight: Float32Array.from([0.125]) });
      expect(run(shared, [[-8, 1, -16, 0]], variant).y).toEqual([-1, 1, -2, 0]);
    });

    it(`Clip (ReLU6), NaN kept, ${variant}`, () => {
      const layer = layerOf({ type: 'Clip', clip: { min: 0, max: 6 } }, [shape]);
      const r = run(layer, [[-1, 3.5, 7, Number.NaN]], variant);
      expect(r.y.slice(0, 3)).toEqual([0, 3.5, 6]);
      expect(r.y[3]).toBeNaN();
      expect(r.ops).toBe(8);
    });

    it(`Sigmoid, ${variant}`, () => {
      const layer = layerOf({ type: 'Sigmoid' }, [shape]);
      const r = run(layer, [[0, 2, -2, 50]], variant);
      expect(r.y).toEqual(f32([0.5, 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(2)), 1]));
      expect(r.ops).toBe(12);
    });
  }
});

/** Conv-BatchNorm-Scale-ReLU, a residual Eltwise SUM, PReLU, Clip, Sigmoid, global AVE pooling, InnerProduct. */
const RESIDUAL_PROTOTXT = `name: "residual" input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { use_global_stats: true eps: 0.001 } }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "bn2" type: "BatchNorm" bottom: "conv2" top: "conv2" }
layer { name: "prelu2" type: "PReLU" bottom: "conv2" top: "conv2" }
layer { name: "add" type: "Eltwise" bottom: "conv1" bottom: "conv2" top: "add" eltwise_param { operation: SUM coeff: 1 coeff: 0.5 } }
layer { name: "relu_add" type: "ReLU" bottom: "add" top: "add" }
layer { name: "branch" type: "Convolution" bottom: "add" top: "branch" convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "gate" type: "Sigmoid" bottom: "branch" top: "gate" }
layer { name: "mul" type: "Eltwise" bottom: "add" bottom: "gate" top: "mul" eltwise_param { operation: PROD } }
layer { name: "max" type: "Eltwise" bottom: "mul" bottom: "add" top: "max" eltwise_param { operation: MAX } }
layer { name: "relu6" type: "Clip" bottom: "max" top: "max" clip_param { min: 0 max: 6 } }
layer { name: "gap" type: "Pooling" bottom: "max" top: "gap" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "gap" top: "fc" inner_product_param { num_output: 5 } }
layer { name: "fc_scale" type: "Scale" bottom: "fc" top: "fc_scale" scale_param { bias_term: false } }
`;

function residual(options: ParseNetworkOptions = {}): Network {
  return parseNetwork(RESIDUAL_PROTOTXT, 'residual.prototxt', { kind: 'synthetic', seed: 7 }, options);
}

function inputFor(net: Network, batch: number, seed = 3): Float32Array {
  const { c, h, w } = net.inputShape;
  let s = seed;
  return Float32Array.from({ length: batch * c * h * w }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 4 - 2;
  });
}

beforeAll(async () => {
  // The wasm backend instantiates its kernels on its first run.
  const net = residual();
  await new CpuBackend({ kernels: 'wasm' }).run(net, inputFor(net, 1), 1);
});

describe('a residual network of the new layers', () => {
  it('parses: BatchNorm becomes a Scale; unfolded, every layer stays', () => {
    const net = residual({ foldScales: false });
    expect(net.layers.map((l) => l.params.type)).toEqual([
      'Convolution', 'Scale', 'Scale', 'ReLU', 'Convolution', 'Scale', 'PReLU', 'Eltwise', 'ReLU', 'Convolution',
      'Sigmoid', 'Eltwise', 'Eltwise', 'Clip', 'Pooling', 'InnerProduct', 'Scale',
    ]);
    const bn = net.layers[1];
    expect(bn.name).toBe('bn1');
    // Synthetic weights of a normalization: positive factors.
    expect([...bn.weights!.weight].every((v) => v > 0)).toBe(true);
    expect(net.layers[6].weights!.weight).toHaveLength(4);
  });

  it('folds every Scale that follows a convolution or inner product alone, within float32 rounding', () => {
    const unfolded = residual({ foldScales: false });
    const net = residual();
    expect(net.layers.map((l) => l.name)).toEqual([
      'conv1', 'relu1', 'conv2', 'prelu2', 'add', 'relu_add', 'branch', 'gate', 'mul', 'max', 'relu6', 'gap', 'fc',
    ]);
    const conv1 = net.layers[0];
    expect(conv1.params.type === 'Convolution' && conv1.params.conv.biasTerm).toBe(true);
    expect(conv1.tops).toEqual(['conv1@scale1']);
    expect(net.blobShapes.has('conv1')).toBe(false);
    expect(net.outputName).toBe('fc_scale');
    const batch = 2;
    const input = inputFor(net, batch);
    const backend = new CpuBackend({ kernels: 'reference' });
    const a = backend.runSync(unfolded, input, batch).output;
    const b = backend.runSync(net, input, batch).output;
    expect(relativeError(b, a)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    // MACs are conv and fc only: folding changes none.
    const macs = (n: Network) => planNetwork(n).steps.reduce((s, p) => s + p.macsPerImage, 0);
    expect(macs(net)).toBe(macs(unfolded));
  });

  it('does not fold a Scale whose input is read elsewhere or is not a convolution output', () => {
    const text = `name: "n" input: "data" input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "s" type: "Scale" bottom: "conv" top: "s" }
layer { name: "add" type: "Eltwise" bottom: "conv" bottom: "s" top: "add" }
layer { name: "s2" type: "Scale" bottom: "add" top: "s2" }
`;
    const net = parseNetwork(text, 'n.prototxt', { kind: 'synthetic' });
    expect(net.layers.map((l) => l.name)).toEqual(['conv', 's', 'add', 's2']);
    expect(foldScales(net)).toBe(net);
  });

  for (const folded of [false, true]) {
    it(`reference, fast and wasm backends agree (${folded ? 'folded' : 'unfolded'}), layer by layer`, async () => {
      const net = residual({ foldScales: folded });
      const batch = 3;
      const input = inputFor(net, batch);
      const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, { keepBlobs: true });
      for (const variant of ['fast', 'wasm'] as const) {
        const other = await new CpuBackend({ kernels: variant }).run(net, input, batch, { keepBlobs: true });
        expect(relativeError(other.output, ref.output), variant).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
        for (const [blob, values] of ref.blobs!) {
          expect(relativeError(other.blobs!.get(blob)!, values), `${variant} ${blob}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
        }
        expect(other.counters.map((c) => c.macsExecuted)).toEqual(ref.counters.map((c) => c.macsExecuted));
      }
    });
  }
});

describe('parse errors name the layer and the problem', () => {
  const net = (layers: string) => () => parseNetwork(
    `name: "e" input: "data" input_shape { dim: 1 dim: 2 dim: 4 dim: 4 }\n` +
    `layer { name: "a" type: "Convolution" bottom: "data" top: "a" convolution_param { num_output: 2 kernel_size: 1 } }\n` +
    `layer { name: "b" type: "Pooling" bottom: "data" top: "b" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }\n${layers}`,
    'e.prototxt', { kind: 'none' });
  const cases: [string, string, RegExp][] = [
    ['two-bottom Scale', 'layer { name: "s" type: "Scale" bottom: "a" bottom: "data" top: "s" }', /layer 's'.*two-bottom Scale .*not supported/],
    ['Scale of three bottoms', 'layer { name: "s" type: "Scale" bottom: "a" bottom: "a" bottom: "a" top: "s" }', /takes 1 to 2 bottom\(s\), found 3/],
    ['Scale on another axis', 'layer { name: "s" type: "Scale" bottom: "a" top: "s" scale_param { axis: 2 } }', /layer 's'.*axis 1, num_axes 1.*found axis 2/],
    ['Scale over two axes', 'layer { name: "s" type: "Scale" bottom: "a" top: "s" scale_param { num_axes: 2 } }', /num_axes 2/],
    ['Eltwise of different shapes', 'layer { name: "e" type: "Eltwise" bottom: "a" bottom: "b" top: "e" }', /layer 'e'.*one shape, found 2x4x4, 2x2x2/],
    ['coeff with PROD', 'layer { name: "e" type: "Eltwise" bottom: "a" bottom: "a" top: "e" eltwise_param { operation: PROD coeff: 1 coeff: 2 } }', /coeff applies to operation SUM only/],
    ['coeff count', 'layer { name: "e" type: "Eltwise" bottom: "a" bottom: "a" top: "e" eltwise_param { coeff: 1 } }', /1 coeff value\(s\) for 2 bottoms/],
    ['Eltwise of one bottom', 'layer { name: "e" type: "Eltwise" bottom: "a" top: "e" }', /takes 2 or more bottom/],
    ['Clip without max', 'layer { name: "c" type: "Clip" bottom: "a" top: "c" clip_param { min: 0 } }', /clip_param.min and clip_param.max are required/],
    ['Clip min above max', 'layer { name: "c" type: "Clip" bottom: "a" top: "c" clip_param { min: 6 max: 0 } }', /min \(6\) must not exceed clip_param.max \(0\)/],
    ['BatchNorm with batch statistics', 'layer { name: "bn" type: "BatchNorm" bottom: "a" top: "a" batch_norm_param { use_global_stats: false } }', /layer 'bn'.*use_global_stats: false/],
  ];
  for (const [what, layer, message] of cases) {
    it(what, () => {
      expect(net(layer)).toThrow(NetworkError);
      expect(net(layer)).toThrow(message);
    });
  }
});

describe('legacy V1 layers', () => {
  it('ELTWISE (with eltwise_param) and SIGMOID parse as Eltwise and Sigmoid', () => {
    const net = parseNetwork(`name: "v1" input: "data" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3
layers { name: "s" type: SIGMOID bottom: "data" top: "s" }
layers { name: "e" type: ELTWISE bottom: "data" bottom: "s" top: "e" eltwise_param { operation: MAX } }
`, 'v1.prototxt', { kind: 'none' });
    expect(net.layers.map((l) => l.params)).toEqual([
      { type: 'Sigmoid' }, { type: 'Eltwise', eltwise: { operation: 'max', coeffs: [] } },
    ]);
  });
});

describe('Caffe BatchNorm blobs become a Scale', () => {
  const prototxt = `name: "bn" input: "data" input_shape { dim: 1 dim: 3 dim: 2 dim: 2 }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 3 kernel_size: 1 bias_term: false } }
layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { eps: 0.01 } }
`;
  const blob = (values: number[], dims = [values.length]) => ({ shape: { dim: dims }, data: values });
  function caffemodel(bnBlobs: object[]): Uint8Array {
    const type = caffeType('NetParameter');
    return type.encode(type.fromObject({
      name: 'bn',
      layer: [
        { name: 'conv', type: 'Convolution', blobs: [blob([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3, 1, 1])] },
        { name: 'bn', type: 'BatchNorm', blobs: bnBlobs },
      ],
    })).finish();
  }
  const load = (bytes: Uint8Array, options: ParseNetworkOptions = { foldScales: false }) =>
    parseNetwork(prototxt, 'bn.prototxt', { kind: 'bytes', bytes, name: 'bn.caffemodel' }, options);

  it('weight = 1 / sqrt(var / f + eps), bias = -mean / f * weight', () => {
    const net = load(caffemodel([blob([2, 4, -6]), blob([6, 2, 0.2]), blob([2])]));
    const bn = net.layers[1];
    expect(bn.params).toEqual({ type: 'Scale', scale: { biasTerm: true } });
    const w = [1 / Math.sqrt(3.01), 1 / Math.sqrt(1.01), 1 / Math.sqrt(0.11)];
    expect([...bn.weights!.weight]).toEqual(f32(w));
    expect([...bn.weights!.bias!]).toEqual(f32([-1 * w[0], -2 * w[1], 3 * w[2]]));
    // And it computes (x - mean / f) / sqrt(var / f + eps).
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const out = new CpuBackend({ kernels: 'reference' }).runSync(net, x, 1).output;
    const expected = [...x].map((v, i) => (v - [1, 2, -3][i >> 2]) * w[i >> 2]);
    expect(relativeError(out, Float32Array.from(expected))).toBeLessThan(1e-6);
    // Folded into the convolution: the same values.
    const folded = load(caffemodel([blob([2, 4, -6]), blob([6, 2, 0.2]), blob([2])]), {});
    expect(folded.layers).toHaveLength(1);
    expect(relativeError(new CpuBackend({ kernels: 'reference' }).runSync(folded, x, 1).output, out)).toBeLessThan(1e-6);
  });

  it('a moving-average factor of 0 reads as 0, as in Caffe', () => {
    const net = load(caffemodel([blob([5, 5, 5]), blob([9, 9, 9]), blob([0])]));
    expect([...net.layers[1].weights!.weight]).toEqual(f32([10, 10, 10]));
    expect([...net.layers[1].weights!.bias!]).toEqual([0, 0, 0]);
  });

  it('a variance below -eps, a missing blob and a wrong shape are errors naming the layer', () => {
    expect(() => load(caffemodel([blob([0, 0, 0]), blob([1, -1, 1]), blob([1])]))).toThrow(/BatchNorm layer 'bn': channel 1 has variance -1/);
    expect(() => load(caffemodel([blob([0, 0, 0]), blob([1, 1, 1])]))).toThrow(/layer 'bn' has 2 blob\(s\) but the prototxt implies 3 \(mean \+ variance \+ moving-average factor\)/);
    expect(() => load(caffemodel([blob([0, 0]), blob([1, 1, 1]), blob([1])]))).toThrow(/layer 'bn' blob 0 \(mean\) has shape 2 but the prototxt implies 3/);
  });
});

describe('DyVEDeep and the plan around the new layers', () => {
  it('a convolution reaching a ReLU through a Scale or Eltwise is not "followed by a ReLU" until folded', () => {
    const unfolded = residual({ foldScales: false });
    const conv1 = unfolded.layers.find((l) => l.name === 'conv1')!;
    const conv2 = unfolded.layers.find((l) => l.name === 'conv2')!;
    expect(feedsRelu(unfolded, conv1)).toBe(false);
    expect(feedsRelu(unfolded, conv2)).toBe(false);
    const spet = (layer: string) => JSON.stringify({ layers: { [layer]: { spet: { mode: 'exact', fraction: 0.5 } } } });
    expect(() => parseProfile(spet('conv1'), unfolded)).toThrow(/SPET needs a ReLU after the layer/);
    // A Scale followed by a ReLU is no convolution: the ReLU may run in its store (WebGPU), but
    // nothing is marked rectified (no dynamic kernel runs there).
    const steps = planNetwork(unfolded).steps;
    const step = steps.find((s) => s.layer.name === 'scale1')!;
    expect(step.fusedRelu).toBe(step.index + 1);
    expect(steps[step.fusedRelu!].layer.params.type).toBe('ReLU');
    expect(step.rectified).toBe(false);

    const folded = residual();
    const foldedConv1 = folded.layers.find((l) => l.name === 'conv1')!;
    expect(feedsRelu(folded, foldedConv1)).toBe(true);
    expect(planNetwork(folded).steps[0].fusedRelu).toBe(1);
    // conv2 still reaches a PReLU, then a sum: SPET stays refused.
    expect(() => parseProfile(spet('conv2'), folded)).toThrow(/SPET needs a ReLU after the layer/);
    expect(parseProfile(spet('conv1'), folded).layers.conv1.spet).toBeDefined();
  });

  it('the folded network runs under DyVEDeep (SPET and SDSS on conv1) alike on the reference, fast and wasm kernels', async () => {
    const net = residual();
    const profile = parseProfile(JSON.stringify({
      layers: { conv1: { spet: { mode: 'exact', fraction: 0.5 }, sdss: { stride: 2, delta: 0.05 } } },
    }), net);
    const batch = 2;
    const input = inputFor(net, batch);
    const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, { effort: profile });
    expect(ref.counters[0].macsExecuted).toBeLessThan(ref.counters[0].macsDense);
    for (const variant of ['fast', 'wasm'] as const) {
      const other = await new CpuBackend({ kernels: variant }).run(net, input, batch, { effort: profile });
      expect(relativeError(other.output, ref.output), variant).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    }
  });

  // The workers run the built library (dist/): `npm test` builds first.
  it('two worker threads run the new layers as one thread does', async () => {
    const net = residual();
    const parallel = await ParallelBackend.create({ threads: 2 });
    try {
      for (const batch of [1, 3]) {
        const input = inputFor(net, batch);
        const one = await new CpuBackend().run(net, input, batch);
        const two = await parallel.run(net, input, batch);
        expect(relativeError(two.output, one.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
      }
    } finally {
      await parallel.close();
    }
  });

  it('a Clip with min >= 0 (ReLU6) decides the sign as a ReLU does; a Clip below 0 does not', () => {
    const text = (min: number) => `name: "c" input: "data" input_shape { dim: 1 dim: 2 dim: 4 dim: 4 }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 3 kernel_size: 3 pad: 1 } }
layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" }
layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "relu6" type: "Clip" bottom: "pool" top: "pool" clip_param { min: ${min} max: 6 } }
layer { name: "fc" type: "InnerProduct" bottom: "pool" top: "fc" inner_product_param { num_output: 2 } }
`;
    const relu6 = parseNetwork(text(0), 'c.prototxt', { kind: 'synthetic' });
    expect(feedsRelu(relu6, relu6.layers[0])).toBe(true);
    const below = parseNetwork(text(-1), 'c.prototxt', { kind: 'synthetic' });
    expect(feedsRelu(below, below.layers[0])).toBe(false);
    // SPET on the ReLU6 network matches between the reference and fast dynamic kernels.
    const profile = parseProfile(JSON.stringify({ layers: { conv: { spet: { mode: 'exact', fraction: 0.3 } } } }), relu6);
    const input = inputFor(relu6, 2);
    const ref = new CpuBackend({ kernels: 'reference' }).runSync(relu6, input, 2, { effort: profile });
    const fast = new CpuBackend({ kernels: 'fast' }).runSync(relu6, input, 2, { effort: profile });
    expect(relativeError(fast.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  });

  it('effort knobs on a new layer are refused', () => {
    const net = residual({ foldScales: false });
    expect(() => parseProfile(JSON.stringify({ layers: { scale1: { spet: { mode: 'exact', fraction: 0.5 } } } }), net))
      .toThrow(/SPET applies to Convolution and InnerProduct layers, not Scale/);
  });
});

describe('ONNX export of the new layers', () => {
  for (const folded of [false, true]) {
    it(`onnxruntime-node reproduces the reference (${folded ? 'folded' : 'unfolded'})`, async () => {
      const net = residual({ foldScales: folded });
      const batch = 2;
      const input = inputFor(net, batch);
      const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch).output;
      const session = await ort.InferenceSession.create(exportOnnx(net), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      try {
        const { c, h, w } = net.inputShape;
        const result = await session.run({ [net.inputName]: new ort.Tensor('float32', input, [batch, c, h, w]) });
        const out = result[net.outputName];
        // The network ends in an InnerProduct then a Scale: rank 2, N x classes.
        expect(out.dims).toEqual([batch, 5]);
        expect(relativeError(out.data as Float32Array, ref)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
      } finally {
        await session.release();
      }
    });
  }

  it('a shared PReLU slope and a rank-4 Scale without bias export too', async () => {
    const text = `name: "p" input: "data" input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }
layer { name: "p" type: "PReLU" bottom: "data" top: "p" prelu_param { channel_shared: true } }
layer { name: "s" type: "Scale" bottom: "p" top: "s" }
layer { name: "e" type: "Eltwise" bottom: "s" bottom: "p" bottom: "data" top: "e" eltwise_param { operation: MAX } }
layer { name: "m" type: "Eltwise" bottom: "e" bottom: "p" top: "m" eltwise_param { operation: PROD } }
`;
    const net = parseNetwork(text, 'p.prototxt', { kind: 'synthetic', seed: 2 });
    const input = inputFor(net, 1, 11);
    const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, 1).output;
    const session = await ort.InferenceSession.create(exportOnnx(net), { executionProviders: ['cpu'] });
    try {
      const out = (await session.run({ data: new ort.Tensor('float32', input, [1, 3, 4, 4]) })).m;
      expect(out.dims).toEqual([1, 3, 4, 4]);
      expect(relativeError(out.data as Float32Array, ref)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    } finally {
      await session.release();
    }
  });
});

describe('the TF.js peer builds the new layers', () => {
  for (const folded of [false, true]) {
    it(`and reproduces the reference (${folded ? 'folded' : 'unfolded'})`, async () => {
      const net = residual({ foldScales: folded });
      const batch = 2;
      const input = inputFor(net, batch);
      const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch).output;
      const runner = await openTfjsWasm(net, 1);
      try {
        expect(relativeError(await runner.run(input, batch), ref)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
      } finally {
        await runner.close();
      }
    });
  }
});
