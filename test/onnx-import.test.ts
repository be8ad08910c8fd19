/**
 * ONNX import (src/formats/onnx/import/): the Caffe networks written by `dyve export` come back as
 * the same layers with the same weights (bit-identical outputs, dense and under the calibrated
 * effort profile, on the reference and WebAssembly kernels; identical top-1 and MACs through the
 * CLI); graphs of every supported operator, as PyTorch-style exporters write them, match
 * onnxruntime-node; and everything unsupported or malformed fails with a sentence naming the node.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { loadProfile } from '../src/effort/load-profile.js';
import { DyveError, ModelFormatError, NetworkError } from '../src/errors.js';
import { loadNetwork } from '../src/formats/load-network.js';
import { exportOnnx } from '../src/formats/onnx/export-onnx.js';
import { GraphBuilder, type AttributeValue } from '../src/formats/onnx/graph-builder.js';
import { parseOnnxNetwork } from '../src/formats/onnx/import/import-onnx.js';
import { loadOnnxNetwork } from '../src/formats/onnx/import/load-onnx.js';
import { decodeTensor, decodeTensorBytes } from '../src/formats/onnx/import/onnx-tensor.js';
import { onnx, type ITensorProto } from '../src/formats/onnx/onnx-proto.js';
import { layerMacs } from '../src/ir/layer-metrics.js';
import type { Layer, Network } from '../src/ir/network.js';
import { dyve } from './helpers/cli.js';
import { DATA, tempFile } from './helpers/files.js';
import { loadRealModels, type RealModels } from './helpers/models.js';
import { exportVariantsPrototxt } from './helpers/variants.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

let real: RealModels;

beforeAll(async () => {
  real = await loadRealModels();
});

const totalMacs = (net: Network): number => net.layers.reduce((s, l) => s + layerMacs(l), 0);

/** A digest of float32 values' bytes: large weight arrays compare fast, and bit for bit. */
const bits = (a: Float32Array | undefined): string | undefined => a && `${a.length} values, sha256 ${createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex')}`;

/** A layer as compared across the two paths: everything but the blob names. */
function comparable(l: Layer) {
  return { name: l.name, params: l.params, inputShapes: l.inputShapes, outputShapes: l.outputShapes, weight: bits(l.weights?.weight), bias: bits(l.weights?.bias) };
}

describe('dyve export, then import: the Caffe network comes back', () => {
  for (const model of ['cifar', 'squeezenet'] as const) {
    it(`${model}: the same layers (Dropout aside: the identity, no ONNX node), weights and MACs`, () => {
      const caffe = real[model];
      const net = parseOnnxNetwork(exportOnnx(caffe), `${model}.onnx`);
      expect(net.layers.map(comparable)).toEqual(caffe.layers.filter((l) => l.params.type !== 'Dropout').map(comparable));
      expect(net.inputShape).toEqual(caffe.inputShape);
      expect(totalMacs(net)).toBe(totalMacs(caffe));
      // Exported again, the import writes the same file.
      expect(Buffer.from(exportOnnx(net)).equals(Buffer.from(exportOnnx(caffe)))).toBe(true);
    });
  }

  it('cifar10-quick, 16 CIFAR-10 test images: bit-identical outputs, dense and with the calibrated profile, reference and wasm kernels', async () => {
    const net = parseOnnxNetwork(exportOnnx(real.cifar), 'cifar.onnx');
    const { input } = await real.cifarTest.batch(0, 16);
    const profile = await loadProfile('models/cifar10-quick/effort.json', real.cifar);
    for (const kernels of ['reference', 'wasm'] as const) {
      for (const effort of [undefined, profile]) {
        const a = await new CpuBackend({ kernels }).run(real.cifar, input, 16, { effort });
        const b = await new CpuBackend({ kernels }).run(net, input, 16, { effort: effort && await loadProfile('models/cifar10-quick/effort.json', net) });
        expect(b.output, `${kernels} ${effort ? 'calibrated' : 'dense'}`).toEqual(a.output);
        expect(b.counters).toEqual(a.counters);
      }
    }
  });

  it('squeezenet-dc, 2 ImageNet samples: bit-identical outputs, dense and with the calibrated per-neuron profile (wasm), dense (reference, 1 sample)', async () => {
    const net = parseOnnxNetwork(exportOnnx(real.squeezenet), 'squeezenet.onnx');
    const { input } = await real.imagenet.batch(0, 2);
    const one = input.subarray(0, input.length / 2);
    const ref = await new CpuBackend({ kernels: 'reference' }).run(real.squeezenet, one, 1);
    expect((await new CpuBackend({ kernels: 'reference' }).run(net, one, 1)).output).toEqual(ref.output);
    // Its tile-mode effort.json is empty (no tile setting paid for itself): the per-neuron profile is the dynamic one.
    for (const profile of [undefined, 'models/squeezenet-dc/effort-neuron.json']) {
      const a = await new CpuBackend({ kernels: 'wasm' }).run(real.squeezenet, input, 2, { effort: profile ? await loadProfile(profile, real.squeezenet) : undefined });
      const b = await new CpuBackend({ kernels: 'wasm' }).run(net, input, 2, { effort: profile ? await loadProfile(profile, net) : undefined });
      expect(b.output, profile ?? 'dense').toEqual(a.output);
      expect(b.counters.filter((c) => c.type !== 'Dropout')).toEqual(a.counters.filter((c) => c.type !== 'Dropout'));
    }
  });

  it('a network of layer variants (dilation, groups, leaky ReLU, LRN, padded and overhanging AVE, clipped MAX, global pools, spatial softmax, split, flatten, dropout, mixed-rank concat): bit-identical', async () => {
    const prototxt = exportVariantsPrototxt('ACROSS_CHANNELS');
    const caffe = await loadNetwork(tempFile('variants.prototxt', prototxt), { kind: 'synthetic', seed: 5 });
    const net = parseOnnxNetwork(exportOnnx(caffe), 'variants.onnx');
    // No Split, Flatten or Dropout layer: a blob may have several readers, fc reads the unflattened
    // blob (InnerProduct weights are in C, H, W order), Dropout is the identity.
    const routing = new Set(['Split', 'Flatten', 'Dropout']);
    const computing = (l: Layer) => ({ name: l.name, params: l.params, outputShapes: l.outputShapes, weight: bits(l.weights?.weight), bias: bits(l.weights?.bias) });
    expect(net.layers.map(computing)).toEqual(caffe.layers.filter((l) => !routing.has(l.params.type)).map(computing));
    const input = new Float32Array(3 * 4 * 15 * 13).map((_, i) => Math.cos(i * 0.71) * 3);
    for (const kernels of ['reference', 'fast'] as const) {
      const a = (await new CpuBackend({ kernels }).run(caffe, input, 3)).output;
      expect((await new CpuBackend({ kernels }).run(net, input, 3)).output, kernels).toEqual(a);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Graphs written here, as exporters write them, against onnxruntime-node.

interface GraphSpec {
  readonly opset?: number;
  readonly input?: { readonly name: string; readonly dims: readonly (number | string)[] };
  readonly output: string;
  readonly outputDims?: readonly (number | string)[];
  readonly irVersion?: number;
}

/** A deterministic float32 array (no randomness: the same model every run). */
function values(n: number, seed: number, scale = 1): Float32Array {
  return new Float32Array(n).map((_, i) => Math.sin(i * 0.37 + seed * 1.3) * scale);
}

/** Encodes the graph `g` built as a ModelProto. */
function encodeModel(g: GraphBuilder, spec: GraphSpec): Uint8Array {
  const input = spec.input ?? { name: 'x', dims: ['N', 3, 9, 9] };
  const info = (name: string, dims: readonly (number | string)[]) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test', node: g.nodes, initializer: g.initializers,
      input: [info(input.name, input.dims)], output: [{ ...info(spec.output, spec.outputDims ?? []), type: { tensorType: { elemType: 1 } } }],
    },
  })).finish();
}

/** A node with a name and attributes, its output named as the node. */
function op(g: GraphBuilder, type: string, inputs: string[], name: string, attributes: Record<string, AttributeValue> = {}): string {
  return g.node(type, inputs, [g.tensor(name)], name, attributes);
}

async function onnxruntime(model: Uint8Array, inputName: string, input: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const result = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) });
    return result[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Runs the model on onnxruntime and on our reference and fast kernels: relative error <= 1e-4. */
async function expectMatchesOnnxruntime(model: Uint8Array, batch = 2): Promise<Network> {
  return expectMatchesOnnxruntimeOf(model, model, batch);
}

/**
 * Imports `model` and runs it on our reference and fast kernels; runs `reference` (the same
 * network, as a later opset writes it) on onnxruntime: relative error <= 1e-4. onnxruntime runs no
 * opset before 7, so an old-opset reading is checked against the opset-7 model that means the same.
 */
async function expectMatchesOnnxruntimeOf(model: Uint8Array, reference: Uint8Array, batch = 2): Promise<Network> {
  const net = parseOnnxNetwork(model, 'test.onnx');
  const { c, h, w } = net.inputShape;
  const input = values(batch * c * h * w, 42, 2);
  // The input's ONNX dims as the model declares them, with the batch.
  const declared = onnx.ModelProto.decode(reference).graph!.input![0].type!.tensorType!.shape!.dim!;
  const expected = await onnxruntime(reference, net.inputName, input, [batch, ...declared.slice(1).map((d) => Number(d.dimValue))]);
  for (const kernels of ['reference', 'fast'] as const) {
    const { output } = await new CpuBackend({ kernels }).run(net, input, batch);
    const err = relativeError(output, expected);
    expect(err, `${kernels}: relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  }
  return net;
}

describe('ONNX graphs of every supported operator match onnxruntime-node', () => {
  it('opset 13: Conv (SAME_UPPER, depthwise, strided 1x1), BatchNormalization, residual Add, PRelu, Clip (ReLU6), MaxPool ceil_mode, AveragePool count_include_pad, LRN, Concat, LeakyRelu, Sigmoid, per-channel Mul, scalar Add, GlobalAveragePool, Flatten, Gemm (alpha, beta, transB 0), MatMul, Softmax', async () => {
    const g = new GraphBuilder();
    const c1 = op(g, 'Conv', ['x', g.floats('w1', [8, 3, 3, 3], values(216, 1, 0.4)), g.floats('b1', [8], values(8, 2, 0.1))], 'c1', { auto_pad: { string: 'SAME_UPPER' } });
    const bn = op(g, 'BatchNormalization', [c1, g.floats('gamma', [8], values(8, 3).map((v) => 1 + 0.5 * v)), g.floats('beta', [8], values(8, 4, 0.2)),
      g.floats('mean', [8], values(8, 5, 0.3)), g.floats('var', [8], values(8, 6).map((v) => 1.2 + v))], 'bn', { epsilon: { float: 1e-3 } });
    const r = op(g, 'Relu', [bn], 'relu');
    const dw = op(g, 'Conv', [r, g.floats('wdw', [8, 1, 3, 3], values(72, 7, 0.5))], 'dw', { group: { int: 8 }, pads: { ints: [1, 1, 1, 1] }, strides: { ints: [2, 2] } });
    const c2 = op(g, 'Conv', [r, g.floats('w2', [8, 8, 1, 1], values(64, 8, 0.5)), g.floats('b2', [8], values(8, 9, 0.1))], 'c2', { strides: { ints: [2, 2] } });
    const add = op(g, 'Add', [dw, c2], 'add');
    const pr = op(g, 'PRelu', [add, g.floats('slope', [8, 1, 1], values(8, 10, 0.3))], 'prelu');
    const clip = op(g, 'Clip', [pr, g.floats('zero', [], new Float32Array([0])), g.floats('six', [], new Float32Array([1.5]))], 'relu6');
    const mp = op(g, 'MaxPool', [clip], 'mp', { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { int: 1 } });
    const ap = op(g, 'AveragePool', [clip], 'ap', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { int: 1 } });
    const cat = op(g, 'Concat', [mp, ap], 'cat', { axis: { int: 1 } });
    const lrn = op(g, 'LRN', [cat], 'lrn', { size: { int: 3 }, alpha: { float: 0.3 }, beta: { float: 0.7 }, bias: { float: 1.5 } });
    const lk = op(g, 'LeakyRelu', [lrn], 'leaky', { alpha: { float: 0.2 } });
    const sg = op(g, 'Sigmoid', [lk], 'sigmoid');
    const mul = op(g, 'Mul', [sg, g.floats('k', [1, 16, 1, 1], values(16, 11, 2))], 'mulc');
    const addc = op(g, 'Add', [g.floats('s', [1], new Float32Array([0.25])), mul], 'addc');
    const gap = op(g, 'GlobalAveragePool', [addc], 'gap');
    const fl = op(g, 'Flatten', [gap], 'flat');
    const gm = op(g, 'Gemm', [fl, g.floats('B', [16, 10], values(160, 12, 0.5)), g.floats('C', [10], values(10, 13, 0.2))], 'gemm', { alpha: { float: 0.5 }, beta: { float: 2 } });
    const mm = op(g, 'MatMul', [gm, g.floats('M', [10, 6], values(60, 14, 0.5))], 'matmul');
    g.node('Softmax', [mm], ['prob'], 'prob', { axis: { int: -1 } });
    const net = await expectMatchesOnnxruntime(encodeModel(g, { output: 'prob' }));
    // The batch normalization folded into c1 (nothing else reads c1): the ReLU follows the convolution.
    expect(net.layers.map((l) => l.params.type)).toEqual([
      'Convolution', 'ReLU', 'Convolution', 'Convolution', 'Eltwise', 'PReLU', 'Clip', 'Pooling', 'Pooling', 'Concat', 'LRN', 'ReLU', 'Sigmoid',
      'Scale', 'Scale', 'Pooling', 'InnerProduct', 'InnerProduct', 'Softmax']);
    expect(net.layers.map((l) => l.name).slice(0, 3)).toEqual(['c1', 'relu', 'dw']);
  });

  it('opset 9: Clip and Dropout attributes, SAME_LOWER and asymmetric MaxPool pads that change nothing, zero Pad + AveragePool (count_include_pad 0), Sub, Div, Max, Sum, GlobalMaxPool, Reshape [0, -1], Identity, Squeeze / Unsqueeze, Softmax over N x C', async () => {
    const g = new GraphBuilder();
    const c1 = op(g, 'Conv', ['x', g.floats('w1', [6, 3, 3, 3], values(162, 1, 0.4))], 'c1', { pads: { ints: [1, 1, 1, 1] } });
    const cl = op(g, 'Clip', [c1], 'clip', { min: { float: -0.5 }, max: { float: 0.75 } });
    const dr = g.node('Dropout', [cl], [g.tensor('drop'), g.tensor('mask')], 'drop', { ratio: { float: 0.3 } });
    const sm = op(g, 'MaxPool', [dr], 'same', { kernel_shape: { ints: [3, 3] }, auto_pad: { string: 'SAME_LOWER' } });
    // 9 + 1 - 2 = 8 / 2 -> 5 windows: the IR's ceil rounding with pad 0 gives the same 5.
    const asym = op(g, 'MaxPool', [sm], 'asym', { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, pads: { ints: [0, 0, 1, 1] } });
    const padded = op(g, 'Pad', [dr], 'pad', { pads: { ints: [0, 0, 1, 1, 0, 0, 1, 1] } });
    const ap = op(g, 'AveragePool', [padded], 'ap', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } });
    const sub = op(g, 'Sub', [ap, g.floats('m', [6, 1, 1], values(6, 2, 0.3))], 'sub');
    const div = op(g, 'Div', [sub, g.floats('d', [1], new Float32Array([4]))], 'div');
    const mx = op(g, 'Max', [div, asym], 'max');
    const sum = op(g, 'Sum', [mx, asym, div], 'sum');
    const d2 = op(g, 'Sub', [sum, asym], 'diff');
    const gmp = op(g, 'GlobalMaxPool', [d2], 'gmp');
    const sq = op(g, 'Squeeze', [gmp], 'squeeze', { axes: { ints: [2, 3] } });
    const us = op(g, 'Unsqueeze', [sq], 'unsqueeze', { axes: { ints: [2, 3] } });
    const rs = op(g, 'Reshape', [us, g.int64s('shape', [0, -1])], 'reshape');
    const id = op(g, 'Identity', [rs], 'identity');
    const gm = op(g, 'Gemm', [id, g.floats('B', [4, 6], values(24, 3, 0.5)), g.floats('C', [4], values(4, 4, 0.1))], 'gemm', { transB: { int: 1 } });
    g.node('Softmax', [gm], ['prob'], 'prob', { axis: { int: 1 } });
    const net = await expectMatchesOnnxruntime(encodeModel(g, { output: 'prob', opset: 9 }));
    expect(net.layers.find((l) => l.name === 'ap')?.params).toMatchObject({ pool: { padH: 1, padW: 1 } });
  });

  it('a residual block as PyTorch writes it (Conv-BN-ReLU, Add, ReLU, GlobalAveragePool, Flatten, Gemm), opset 11 Clip with an absent min, rank-2 input', async () => {
    const g = new GraphBuilder();
    const conv = (x: string, name: string, seed: number) => op(g, 'Conv', [x, g.floats(`${name}.weight`, [4, 4, 3, 3], values(144, seed, 0.3))], name, { pads: { ints: [1, 1, 1, 1] }, kernel_shape: { ints: [3, 3] } });
    const bn = (x: string, name: string, seed: number) => op(g, 'BatchNormalization', [x, g.floats(`${name}.g`, [4], values(4, seed).map((v) => 1 + v / 2)),
      g.floats(`${name}.b`, [4], values(4, seed + 1, 0.1)), g.floats(`${name}.m`, [4], values(4, seed + 2, 0.2)), g.floats(`${name}.v`, [4], values(4, seed + 3).map((v) => 1 + v / 2))], name);
    const a = op(g, 'Relu', [bn(conv('x', 'conv1', 1), 'bn1', 2)], 'relu1');
    const b = bn(conv(a, 'conv2', 3), 'bn2', 4);
    const res = op(g, 'Add', [b, 'x'], 'residual');
    const out = op(g, 'Relu', [res], 'relu2');
    const gap = op(g, 'GlobalAveragePool', [out], 'pool');
    const fl = op(g, 'Flatten', [gap], 'flatten');
    const fc = op(g, 'Gemm', [fl, g.floats('fc.weight', [3, 4], values(12, 9, 0.5)), g.floats('fc.bias', [3], values(3, 10))], 'fc', { transB: { int: 1 } });
    g.node('Clip', [fc, '', g.floats('max', [], new Float32Array([0.3]))], ['y'], 'clip');
    const net = await expectMatchesOnnxruntime(encodeModel(g, { output: 'y', opset: 11, input: { name: 'x', dims: ['N', 4, 6, 6] } }));
    expect(net.layers.map((l) => l.name)).toEqual(['conv1', 'relu1', 'conv2', 'residual', 'relu2', 'pool', 'fc', 'clip']);

    const h = new GraphBuilder();
    const fc2 = op(h, 'Gemm', ['v', h.floats('w', [5, 7], values(35, 1)), h.floats('b', [5], values(5, 2))], 'fc', { transB: { int: 1 } });
    op(h, 'Softmax', [fc2], 'prob');
    await expectMatchesOnnxruntime(encodeModel(h, { output: 'prob', opset: 7, input: { name: 'v', dims: ['batch', 7] } }));
  });
});

describe('opsets 1 to 6: each operator read as its version then defines it', () => {
  /**
   * One network written as opset `opset` writes it: Conv, BatchNormalization (is_test), Add of a
   * per-channel constant (broadcast, axis 1), PRelu with C slopes, Mul by a scalar, Dropout
   * (is_test), MaxPool, Flatten, Gemm (broadcast), Softmax; opset 1 adds consumed_inputs. At opset
   * 7 the same network needs [C, 1, 1] constants and none of those attributes.
   */
  function legacyNetwork(opset: 1 | 6 | 7): Uint8Array {
    const g = new GraphBuilder();
    const legacy = opset < 7;
    const consumed = (n: number): Record<string, AttributeValue> => (opset < 6 ? { consumed_inputs: { ints: Array<number>(n).fill(0) } } : {});
    const channelDims = legacy ? [6] : [6, 1, 1];
    const c1 = op(g, 'Conv', ['x', g.floats('w1', [6, 3, 3, 3], values(162, 1, 0.4)), g.floats('b1', [6], values(6, 2, 0.1))], 'c1', { pads: { ints: [1, 1, 1, 1] } });
    const relu = op(g, 'Relu', [c1], 'relu', consumed(1));
    const bn = op(g, 'BatchNormalization', [relu, g.floats('gamma', [6], values(6, 3).map((v) => 1 + 0.5 * v)), g.floats('beta', [6], values(6, 4, 0.2)),
      g.floats('mean', [6], values(6, 5, 0.3)), g.floats('var', [6], values(6, 6).map((v) => 1.2 + v))], 'bn',
    { epsilon: { float: 1e-3 }, ...(legacy ? { is_test: { int: 1 }, momentum: { float: 0.9 }, spatial: { int: 1 } } : {}), ...consumed(5) });
    const add = op(g, 'Add', [bn, g.floats('k', channelDims, values(6, 7, 0.5))], 'add', { ...(legacy ? { broadcast: { int: 1 }, axis: { int: 1 } } : {}), ...consumed(1) });
    const pr = op(g, 'PRelu', [add, g.floats('slope', channelDims, values(6, 8, 0.3))], 'prelu', consumed(1));
    const mul = op(g, 'Mul', [pr, g.floats('s', legacy ? [] : [1], new Float32Array([1.5]))], 'mul', { ...(legacy ? { broadcast: { int: 1 } } : {}), ...consumed(1) });
    const drop = op(g, 'Dropout', [mul], 'drop', { ratio: { float: 0.5 }, ...(legacy ? { is_test: { int: 1 } } : {}), ...consumed(1) });
    const mp = op(g, 'MaxPool', [drop], 'mp', { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
    const fl = op(g, 'Flatten', [mp], 'flat', { axis: { int: 1 } });
    const gm = op(g, 'Gemm', [fl, g.floats('B', [5, 96], values(480, 9, 0.2)), g.floats('C', [5], values(5, 10, 0.1))], 'fc',
      { transB: { int: 1 }, ...(legacy ? { broadcast: { int: 1 } } : {}) });
    g.node('Softmax', [gm], ['prob'], 'prob', { axis: { int: 1 } });
    return encodeModel(g, { output: 'prob', opset, input: { name: 'x', dims: ['N', 3, 8, 8] } });
  }

  it('opset 6 and opset 1 (consumed_inputs) read as the opset-7 network means: onnxruntime on that one agrees', async () => {
    for (const opset of [6, 1] as const) {
      const net = await expectMatchesOnnxruntimeOf(legacyNetwork(opset), legacyNetwork(7));
      expect(net.layers.find((l) => l.name === 'prelu')?.params, `opset ${opset}`).toEqual({ type: 'PReLU', prelu: { channelShared: false } });
      expect(net.layers.find((l) => l.name === 'add')?.params, `opset ${opset}`).toEqual({ type: 'Scale', scale: { biasTerm: true } });
    }
  });

  it('what an old version means and the IR cannot compute, or an attribute of another version, is refused naming the node and the attribute', () => {
    const at6 = (edit: (g: GraphBuilder) => string, opset = 6) => parseOnnxNetwork(small(edit, { opset }), 'm.onnx');
    const bn = (g: GraphBuilder, attributes: Record<string, AttributeValue>) => op(g, 'BatchNormalization', ['x', ...['g', 'b', 'm', 'v'].map((n) => g.floats(n, [3], new Float32Array([1, 1, 1])))], 'bn', attributes);
    expect(() => at6((g) => bn(g, {}))).toThrow("m.onnx: node 'bn' (BatchNormalization): is_test 0 (the default before opset 7) is training mode: not supported (inference only, is_test 1)");
    expect(() => at6((g) => bn(g, { is_test: { int: 1 }, spatial: { int: 0 } }))).toThrow("m.onnx: node 'bn' (BatchNormalization): spatial 0 (statistics per position) is not supported");
    expect(() => at6((g) => bn(g, { is_test: { int: 1 }, consumed_inputs: { ints: [0, 0, 0, 1, 1] } }))).toThrow("m.onnx: node 'bn' (BatchNormalization): attribute 'consumed_inputs' is not supported");
    expect(() => at6((g) => op(g, 'Dropout', ['x'], 'drop'))).toThrow("m.onnx: node 'drop' (Dropout): is_test 0 (the default before opset 7) is training mode: not supported (inference only, is_test 1)");
    expect(() => at6((g) => op(g, 'Add', ['x', g.floats('k', [3], new Float32Array([1, 2, 3]))], 'add', { axis: { int: 1 } })))
      .toThrow("m.onnx: node 'add' (Add): broadcast 0 (opset 6): its constant operand initializer 'k' of dims [3] would need the input's full shape [N, 3, 9, 9], batch included: not supported (only broadcast 1 with a per-channel or single-value constant)");
    // Suffix matching puts [9] on the width; [3, 1, 1] is no contiguous run of [N, 3, 9, 9] (no dim of 1 expands).
    expect(() => at6((g) => op(g, 'Add', ['x', g.floats('k', [9], values(9, 1))], 'add', { broadcast: { int: 1 } })))
      .toThrow("m.onnx: node 'add' (Add): its constant operand initializer 'k' of dims [9] broadcast from axis 3 (suffix matching: no axis given) against its input [N, 3, 9, 9] (opset 6) is not per channel: only [3] with axis 1, or a single value, is supported");
    expect(() => at6((g) => op(g, 'Mul', ['x', g.floats('k', [3, 1, 1], values(3, 1))], 'mul', { broadcast: { int: 1 }, axis: { int: 1 } }))).toThrow(/node 'mul' \(Mul\): .* \[3, 1, 1\] broadcast from axis 1 against its input \[N, 3, 9, 9\] \(opset 6\) is not per channel/);
    expect(() => at6((g) => op(g, 'Sub', [g.floats('k', [3], values(3, 1)), 'x'], 'sub', { broadcast: { int: 1 }, axis: { int: 1 } })))
      .toThrow("m.onnx: node 'sub' (Sub): its first operand is a constant: before opset 7 only the second operand broadcasts, so the constant would need the input's full shape [N, 3, 9, 9], batch included: not supported");
    expect(() => at6((g) => op(g, 'PRelu', ['x', g.floats('slope', [3, 1, 1], values(3, 1))], 'prelu')))
      .toThrow("m.onnx: node 'prelu' (PRelu): its slope has dims [3, 1, 1]; before opset 7 a slope is one value or one per channel ([3] for its input [N, 3, 9, 9])");
    const gemm = (attributes: Record<string, AttributeValue>, cDims = [4]) => (g: GraphBuilder) => op(g, 'Gemm', [op(g, 'Flatten', ['x'], 'flat'), g.floats('B', [243, 4], values(972, 1)), g.floats('C', cDims, values(cDims.reduce((a, b) => a * b, 1), 2))], 'fc', attributes);
    expect(() => at6(gemm({}))).toThrow("m.onnx: node 'fc' (Gemm): broadcast 0 (opset 6): C of dims [4] would need the full M x N shape, a row per image: not supported (only broadcast 1 with C of [4] or one value)");
    expect(() => at6(gemm({ broadcast: { int: 1 } }, [2, 4]))).toThrow("m.onnx: node 'fc' (Gemm): C of dims [2, 4] with broadcast 1 (opset 6) is not a bias per output: only [4] or one value is supported");
    expect(() => at6(gemm({ broadcast: { int: 1 } }), 7)).toThrow("m.onnx: node 'fc' (Gemm): attribute 'broadcast' is not supported");
    expect(() => at6((g) => op(g, 'Reshape', ['x'], 'reshape', { shape: { ints: [0, -1] } }), 4))
      .toThrow("m.onnx: node 'reshape' (Reshape): Reshape as opset 4 defines it is not supported (dyvedeep reads Reshape from opset 5 on): convert the model first (in Python: onnx.version_converter.convert_version(model, 13))");
    expect(() => at6((g) => op(g, 'Pad', ['x'], 'pad', { paddings: { ints: [0, 0, 1, 1, 0, 0, 1, 1] } }), 1)).toThrow(/node 'pad' \(Pad\): Pad as opset 1 defines it is not supported \(dyvedeep reads Pad from opset 2 on\)/);
  });
});

describe('rank-3 inputs (N x C x L): read as C x 1 x L, 1-D windows as 1 x k', () => {
  it('Conv1d (padded, strided, dilated, grouped), BatchNorm1d, PRelu, MaxPool1d, AveragePool1d (count_include_pad), LeakyRelu, residual Add, Softmax over C: onnxruntime agrees, the output keeps rank 3', async () => {
    const g = new GraphBuilder();
    const c1 = op(g, 'Conv', ['x', g.floats('w1', [6, 4, 3], values(72, 1, 0.4)), g.floats('b1', [6], values(6, 2, 0.1))], 'c1', { pads: { ints: [2, 2] }, dilations: { ints: [2] } });
    const c2 = op(g, 'Conv', [c1, g.floats('w2', [6, 3, 3], values(54, 3, 0.4))], 'c2', { group: { int: 2 }, strides: { ints: [2] }, pads: { ints: [1, 1] }, kernel_shape: { ints: [3] } });
    const bn = op(g, 'BatchNormalization', [c2, g.floats('gamma', [6], values(6, 4).map((v) => 1 + 0.5 * v)), g.floats('beta', [6], values(6, 5, 0.2)),
      g.floats('mean', [6], values(6, 6, 0.3)), g.floats('var', [6], values(6, 7).map((v) => 1.2 + v))], 'bn');
    const pr = op(g, 'PRelu', [bn, g.floats('slope', [6, 1], values(6, 8, 0.3))], 'prelu');
    const mp = op(g, 'MaxPool', [pr], 'mp', { kernel_shape: { ints: [2] }, strides: { ints: [1] } });
    const ap = op(g, 'AveragePool', [pr], 'ap', { kernel_shape: { ints: [3] }, pads: { ints: [1, 1] }, strides: { ints: [1] }, count_include_pad: { int: 1 } });
    const apc = op(g, 'MaxPool', [ap], 'ap_crop', { kernel_shape: { ints: [2] } });
    const lk = op(g, 'LeakyRelu', [mp], 'leaky', { alpha: { float: 0.2 } });
    const add = op(g, 'Add', [lk, apc], 'add');
    g.node('Softmax', [add], ['prob'], 'prob', { axis: { int: 1 } });
    const net = await expectMatchesOnnxruntime(encodeModel(g, { output: 'prob', input: { name: 'x', dims: ['N', 4, 11] } }));
    expect(net.inputShape).toEqual({ c: 4, h: 1, w: 11 });
    expect(net.layers.find((l) => l.name === 'c1')?.params).toEqual({ type: 'Convolution', conv: {
      numOutput: 6, kernelH: 1, kernelW: 3, strideH: 1, strideW: 1, padH: 0, padW: 2, dilationH: 1, dilationW: 2, group: 1, biasTerm: true } });
    expect(net.blobShapes.get(net.outputName)).toEqual({ c: 6, h: 1, w: 5 });
  });

  it('GlobalAveragePool, Flatten, Gemm after a rank-3 input (opset 6 PRelu with C slopes): onnxruntime agrees', async () => {
    const build = (opset: 6 | 7) => {
      const g = new GraphBuilder();
      const pr = op(g, 'PRelu', ['x', g.floats('slope', opset < 7 ? [3] : [3, 1], values(3, 1, 0.3))], 'prelu');
      const fl = op(g, 'Flatten', [pr], 'flat');
      const fc = op(g, 'Gemm', [fl, g.floats('B', [4, 15], values(60, 2, 0.3)), g.floats('C', [4], values(4, 3, 0.1))], 'fc', { transB: { int: 1 }, ...(opset < 7 ? { broadcast: { int: 1 } } : {}) });
      return encodeModel(g, { output: fc, opset, input: { name: 'x', dims: ['N', 3, 5] } });
    };
    await expectMatchesOnnxruntimeOf(build(6), build(7));
    const g = new GraphBuilder();
    const gap = op(g, 'GlobalAveragePool', ['x'], 'gap');
    const net = await expectMatchesOnnxruntime(encodeModel(g, { output: gap, input: { name: 'x', dims: ['N', 3, 7] } }));
    expect(net.blobShapes.get(net.outputName)).toEqual({ c: 3, h: 1, w: 1 });
  });

  it('a 2-D window attribute or weights over a rank-3 input, or a slope along L: NetworkError naming the node', () => {
    const rank3 = (edit: (g: GraphBuilder) => string) => small(edit, { input: { name: 'x', dims: ['N', 3, 9] } });
    expect(() => parseOnnxNetwork(rank3((g) => op(g, 'MaxPool', ['x'], 'mp', { kernel_shape: { ints: [2, 2] } })), 'm.onnx')).toThrow("m.onnx: node 'mp' (MaxPool): kernel_shape has 2 values; its 1-D window takes 1");
    expect(() => parseOnnxNetwork(rank3((g) => op(g, 'Conv', ['x', g.floats('w', [2, 3, 1, 3], values(18, 1))], 'conv')), 'm.onnx'))
      .toThrow("m.onnx: node 'conv' (Conv): weights of dims [2, 3, 1, 3]; a 1-D convolution has 3 (M, C/group, k)");
    expect(() => parseOnnxNetwork(rank3((g) => op(g, 'Conv', ['x', g.floats('w', [2, 3, 3], values(18, 1))], 'conv', { pads: { ints: [1, 1, 1, 1] } })), 'm.onnx'))
      .toThrow("m.onnx: node 'conv' (Conv): pads has 4 values; its 1-D window takes 2 (begin, end)");
    expect(() => parseOnnxNetwork(rank3((g) => op(g, 'PRelu', ['x', g.floats('slope', [3], values(3, 1))], 'prelu')), 'm.onnx'))
      .toThrow("m.onnx: node 'prelu' (PRelu): its slope initializer 'slope' has dims [3], which does not broadcast against its input [N, 3, 9] along the channels only: only per-channel ([3, 1] or [1, 3, 1]) or single-value constants are supported");
  });
});

describe('tensors', () => {
  it('float_data, raw_data, double_data, int64_data, int32 and float16 fields decode alike; .pb files decode', () => {
    const T = onnx.TensorProto.DataType;
    const raw = new Uint8Array(new Float32Array([1.5, -2, 3]).buffer);
    const cases: ITensorProto[] = [
      { dims: [3], dataType: T.FLOAT, floatData: [1.5, -2, 3] },
      { dims: [3], dataType: T.FLOAT, rawData: raw },
      { dims: [1, 3], dataType: T.DOUBLE, doubleData: [1.5, -2, 3] },
      // float16 bits of 1.5, -2, 3
      { dims: [3], dataType: T.FLOAT16, int32Data: [0x3e00, 0xc000, 0x4200] },
    ];
    for (const t of cases) expect(Array.from(decodeTensor(t).data)).toEqual([1.5, -2, 3]);
    expect(Array.from(decodeTensor({ dims: [2], dataType: T.INT64, int64Data: [7, -1] }).data)).toEqual([7, -1]);
    const bytes = onnx.TensorProto.encode({ dims: [1, 3], dataType: T.FLOAT, rawData: raw }).finish();
    expect(decodeTensorBytes(bytes, 'input_0.pb')).toEqual({ dims: [1, 3], data: new Float32Array([1.5, -2, 3]) });
    expect(() => decodeTensor({ dims: [4], dataType: T.FLOAT, rawData: raw }, 'w')).toThrow(/w: raw_data has 12 bytes, but dims \[4\] of FLOAT need 16/);
    expect(() => decodeTensor({ dims: [2], dataType: T.FLOAT, floatData: [1] }, 'w')).toThrow(ModelFormatError);
    expect(() => decodeTensor({ dims: [1], dataType: T.STRING }, 'w')).toThrow(/data type STRING is not supported/);
    expect(() => decodeTensor({ dims: [2 ** 20, 2 ** 20], dataType: T.FLOAT }, 'w')).toThrow(/more than the 2\^30 values/);
  });
});

// ---------------------------------------------------------------------------------------------
// Errors: a sentence naming the node (or the file), never a crash or a wrong answer.

/** A small valid graph: Conv -> Relu; `edit` may change the builder before encoding. */
function small(edit: (g: GraphBuilder) => string = (g) => op(g, 'Relu', [op(g, 'Conv', ['x', g.floats('w', [4, 3, 3, 3], values(108, 1))], 'conv', { pads: { ints: [1, 1, 1, 1] } })], 'relu'), spec: Partial<GraphSpec> = {}): Uint8Array {
  const g = new GraphBuilder();
  const output = edit(g);
  return encodeModel(g, { output, ...spec });
}

describe('clear errors', () => {
  it('an unsupported operator names the node (or its index and type when unnamed)', () => {
    const named = small((g) => op(g, 'Tanh', [op(g, 'Relu', ['x'], 'relu')], 'act'));
    expect(() => parseOnnxNetwork(named, 'm.onnx')).toThrow(NetworkError);
    expect(() => parseOnnxNetwork(named, 'm.onnx')).toThrow(/^m\.onnx: node 'act' \(Tanh\): operator 'Tanh' is not supported \(supported: Conv, /);
    const unnamed = small((g) => g.node('Tanh', ['x'], ['y'], ''));
    expect(() => parseOnnxNetwork(unnamed, 'm.onnx')).toThrow(/^m\.onnx: node #0 \(Tanh\): operator 'Tanh' is not supported/);
  });

  it('an unsupported attribute or value names the node and the attribute', () => {
    const attr = small((g) => op(g, 'Relu', ['x'], 'relu', { bogus: { int: 1 } }));
    expect(() => parseOnnxNetwork(attr, 'm.onnx')).toThrow("m.onnx: node 'relu' (Relu): attribute 'bogus' is not supported");
    const softmax = small((g) => op(g, 'Softmax', ['x'], 'sm', { axis: { int: 3 } }));
    expect(() => parseOnnxNetwork(softmax, 'm.onnx')).toThrow(/node 'sm' \(Softmax\): softmax along axis 3 .* is not supported/);
    const reshape = small((g) => op(g, 'Reshape', ['x', g.int64s('shape', [0, 9, 27])], 'rs'));
    expect(() => parseOnnxNetwork(reshape, 'm.onnx')).toThrow(/node 'rs' \(Reshape\): reshape of \[N, 3, 9, 9\] to \[0, 9, 27\] is not supported/);
    const add = small((g) => op(g, 'Add', ['x', g.floats('row', [9], values(9, 1))], 'add'));
    expect(() => parseOnnxNetwork(add, 'm.onnx')).toThrow(/node 'add' \(Add\): its constant operand .* has dims \[9\], which does not broadcast .* along the channels only/);
  });

  it('asymmetric Conv pads (explicit or from auto_pad) that change the output: NetworkError naming the node and the axis', () => {
    const w = (g: GraphBuilder) => g.floats('w', [2, 3, 3, 3], values(54, 1));
    const explicit = small((g) => op(g, 'Conv', ['x', w(g)], 'c', { pads: { ints: [0, 1, 2, 1] } }));
    expect(() => parseOnnxNetwork(explicit, 'm.onnx')).toThrow("m.onnx: node 'c' (Conv): asymmetric padding along the height (0 before, 2 after) is not supported: the IR pads both sides of an axis equally");
    const same = small((g) => op(g, 'Conv', ['x', w(g)], 'c', { auto_pad: { string: 'SAME_UPPER' }, strides: { ints: [2, 2] } }), { input: { name: 'x', dims: ['N', 3, 8, 8] } });
    expect(() => parseOnnxNetwork(same, 'm.onnx')).toThrow(/node 'c' \(Conv\): asymmetric padding along the height \(0 before, 1 after, from auto_pad\) is not supported/);
  });

  it('AveragePool with count_include_pad 0 and pads: NetworkError naming the node', () => {
    const model = small((g) => op(g, 'AveragePool', ['x'], 'avg', { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }));
    expect(() => parseOnnxNetwork(model, 'm.onnx')).toThrow(/^m\.onnx: node 'avg' \(AveragePool\): its window 0 along the height averages over 2 positions where the IR's would divide by 3 \(count_include_pad 0 leaves the padding out/);
  });

  it('a truncated file, a missing initializer, opset 0, two inputs, rank 5: ModelFormatError / NetworkError in a sentence', () => {
    const good = small();
    expect(() => parseOnnxNetwork(good.subarray(0, Math.floor(good.length / 2)), 'cut.onnx')).toThrow(ModelFormatError);
    expect(() => parseOnnxNetwork(good.subarray(0, Math.floor(good.length / 2)), 'cut.onnx')).toThrow(/^cut\.onnx: truncated or corrupt ONNX model: protobuf decoding failed/);
    expect(() => parseOnnxNetwork(new TextEncoder().encode('name: "net"\nlayer {}'), 'net.onnx')).toThrow(/^net\.onnx: (truncated or corrupt|no graph)/);
    const missing = small((g) => op(g, 'Conv', ['x', 'conv1.weight'], 'conv'));
    expect(() => parseOnnxNetwork(missing, 'm.onnx')).toThrow("m.onnx: node 'conv' (Conv): input 'conv1.weight' is not the graph input, an initializer, nor produced by an earlier node");
    expect(() => parseOnnxNetwork(small(undefined, { opset: 0 }), 'old.onnx')).toThrow(/^old\.onnx: opset 0 of the default ONNX domain does not exist/);
    const rank5 = small((g) => op(g, 'Relu', ['x'], 'relu'), { input: { name: 'x', dims: ['N', 3, 9, 9, 9] } });
    expect(() => parseOnnxNetwork(rank5, 'm.onnx')).toThrow("m.onnx: input 'x' has rank 5; only N x C x H x W (rank 4), N x C x L (rank 3) or N x C (rank 2) inputs are supported");
    const model = onnx.ModelProto.decode(small());
    model.graph!.input!.push({ ...model.graph!.input![0], name: 'x2' });
    expect(() => parseOnnxNetwork(onnx.ModelProto.encode(model).finish(), 'm.onnx')).toThrow("m.onnx: the graph has 2 run-time inputs ('x', 'x2'); dyvedeep runs networks with one input");
  });

  it('a NaN weight: ModelFormatError naming the initializer', () => {
    const model = small((g) => op(g, 'Conv', ['x', g.floats('w', [1, 3, 1, 1], new Float32Array([1, Number.NaN, 2]))], 'conv'));
    expect(() => parseOnnxNetwork(model, 'm.onnx')).toThrow("m.onnx: initializer 'w': value [1] is NaN: the file is corrupt (a weight must be a finite number)");
  });

  it('external data: read beside the model; a location outside its folder (.., absolute, a symbolic link) is refused', async () => {
    const external = (location: string, offset = 0): Uint8Array => {
      const model = onnx.ModelProto.decode(small());
      const w = model.graph!.initializer![0];
      w.rawData = new Uint8Array();
      w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      w.externalData = [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(108 * 4) }];
      return onnx.ModelProto.encode(model).finish();
    };
    const dir = dirname(tempFile('placeholder', ''));
    const weights = new Uint8Array(16 + 108 * 4);
    weights.set(new Uint8Array(values(108, 1).buffer), 16);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'weights.bin'), weights);
    writeFileSync(join(dir, 'model.onnx'), external('sub/weights.bin', 16));
    const net = await loadOnnxNetwork(join(dir, 'model.onnx'));
    expect(net.layers[0].weights?.weight).toEqual(parseOnnxNetwork(small(), 'm.onnx').layers[0].weights?.weight);

    const inner = join(dir, 'sub', 'model.onnx');
    for (const location of ['../sub/../weights.bin', join(dir, 'sub', 'weights.bin'), 'link.bin']) {
      writeFileSync(inner, external(location));
      if (location === 'link.bin') symlinkSync(join(dir, 'outside.bin'), join(dir, 'sub', 'link.bin'));
      writeFileSync(join(dir, 'outside.bin'), weights.subarray(16));
      await expect(loadOnnxNetwork(inner), location).rejects.toThrow(`external data location '${location}' is outside the model's folder`);
    }
    expect(() => parseOnnxNetwork(external('sub/weights.bin'), 'bytes.onnx')).toThrow(/its data is in the external file 'sub\/weights\.bin', which cannot be read here/);
    writeFileSync(inner, external('weights.bin', 100));
    await expect(loadOnnxNetwork(inner)).rejects.toThrow(/external_data asks for bytes 100 to 532 of 'weights\.bin', which has only 448 bytes/);
  });

  it('loadNetwork: an .onnx model with a weights file is refused; with synthetic weights it runs', async () => {
    const path = tempFile('m.onnx', small());
    await expect(loadNetwork(path, { kind: 'file', path: 'w.caffemodel' })).rejects.toThrow(DyveError);
    await expect(loadNetwork(path, { kind: 'file', path: 'w.caffemodel' })).rejects.toThrow(/is an ONNX model, which carries its weights/);
    const synthetic = await loadNetwork(path, { kind: 'synthetic', seed: 3 });
    expect(synthetic.synthetic).toBe(true);
    expect((await loadNetwork(path, { kind: 'none' })).layers[0].weights?.weight).toEqual(parseOnnxNetwork(readFileSync(path), path).layers[0].weights?.weight);
  });
});

// ---------------------------------------------------------------------------------------------
// The command line: `dyve export`, then every command on the .onnx file.

/** Lines of a --predictions file. */
const predictions = (path: string): string[] => readFileSync(path, 'utf8').trim().split('\n');

interface BenchJson { top1: number; macs?: number; [k: string]: unknown }

/**
 * `dyve bench` of zoo model `zoo` and of its export `onnxPath` (fed with the zoo's preprocessing,
 * `data`), dense and with `profile`: the same prediction for every image, the same top-1 and counts.
 */
async function expectSameBench(zoo: string, onnxPath: string, data: readonly string[], common: readonly string[], profile: string): Promise<void> {
  for (const effort of [[], ['--effort', profile]]) {
    const [pa, pb, ja, jb] = ['a.txt', 'b.txt', 'a.json', 'b.json'].map((f) => tempFile(f, ''));
    const a = await dyve('bench', '--model', zoo, ...common, ...effort, '--predictions', pa, '--json', ja);
    const b = await dyve('bench', '--model', onnxPath, ...data, ...common, ...effort, '--predictions', pb, '--json', jb);
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    expect(predictions(pb)).toEqual(predictions(pa));
    const [ra, rb] = [ja, jb].map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchJson);
    expect(pick(rb)).toEqual(pick(ra));
  }
}

describe('dyve export, then dyve bench / info / export on the .onnx', () => {
  it('cifar10-quick, 300 test images: identical predictions, top-1 and MACs to the Caffe path, dense and with the calibrated profile', async () => {
    const onnxPath = join(dirname(tempFile('x', '')), 'cifar10-quick.onnx');
    const exported = await dyve('export', '--model', 'cifar10-quick', '--onnx', onnxPath);
    expect(exported.code, exported.err).toBe(0);
    const common = ['--limit', '300', '--backend', 'wasm', '--threads', '1', '--batch', '50', '--quiet'];
    const data = ['--dataset', 'cifar10', '--mean', join(DATA, 'cifar10/mean.binaryproto'), '--channels', 'rgb'];
    await expectSameBench('cifar10-quick', onnxPath, data, common, 'models/cifar10-quick/effort.json');
    const info = await dyve('info', '--model', onnxPath);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/total .* 12,354,176/);
    const again = join(dirname(onnxPath), 'again.onnx');
    const reexport = await dyve('export', '--model', onnxPath, '--onnx', again);
    expect(reexport.code, reexport.err).toBe(0);
    expect(parseOnnxNetwork(readFileSync(again), again).layers.map(comparable)).toEqual(parseOnnxNetwork(readFileSync(onnxPath), onnxPath).layers.map(comparable));
    const refused = await dyve('bench', '--model', onnxPath, '--weights', 'x.caffemodel', ...data);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/is an ONNX model, which carries its weights: drop --weights x\.caffemodel/);
    expect((await dyve('info', '--model', 'missing.onnx')).err).toBe('dyve info: ONNX model not found: missing.onnx');
  });

  it('squeezenet-dc, 16 ImageNet samples: identical predictions, top-1 and MACs, dense and with the calibrated per-neuron profile', async () => {
    const onnxPath = join(dirname(tempFile('x', '')), 'squeezenet-dc.onnx');
    expect((await dyve('export', '--model', 'squeezenet-dc', '--onnx', onnxPath)).code).toBe(0);
    const common = ['--limit', '16', '--backend', 'wasm', '--threads', '1', '--batch', '8', '--quiet'];
    const data = ['--dataset', 'imagenet-sample', '--resize', '256x256', '--crop', '227', '--mean', '104,117,123', '--channels', 'bgr'];
    await expectSameBench('squeezenet-dc', onnxPath, data, common, 'models/squeezenet-dc/effort-neuron.json');
  });
});

/**
 * The figures of a bench JSON that must agree between the two paths: all but timings and names of
 * files, and the Dropout layers' rows (the identity, written to ONNX as no node: zero counts).
 */
function pick(r: BenchJson): unknown {
  return JSON.stringify(r, (k, v) => {
    if (/time|seconds|ms|perSecond|label|model|weights|wall|images_per|machine|date|path|file/i.test(k)) return undefined;
    return k === 'layers' && Array.isArray(v) ? v.filter((l: { type?: string }) => l.type !== 'Dropout') : v;
  });
}
