/**
 * The TensorFlow.js peer (harness/peers/tfjs-wasm.ts) computes what our CPU reference computes,
 * on the real models and on synthetic networks of every layer variant the IR has, single- and
 * multi-threaded. Its tolerance is looser than PARITY_RELATIVE_TOLERANCE: XNNPACK sums in float32
 * in its own order (the reference sums in float64).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTfjsWasm, type TfjsWasmRunner } from '../harness/peers/tfjs-wasm.js';
import { averageCorrection } from '../harness/peers/tfjs-pooling.js';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { DyveError } from '../src/errors.js';
import { argmax } from '../src/evaluation/top-k.js';
import { loadNetwork } from '../src/formats/load-network.js';
import type { Layer, Network } from '../src/ir/network.js';
import { packageFile } from '../src/package-root.js';
import { tempFile } from './helpers/files.js';
import { loadRealModels, type RealModels } from './helpers/models.js';
import { VARIANTS_PROTOTXT } from './helpers/variants.js';
import { relativeError } from './tolerances.js';

/** Largest accepted relative error of the peer against the reference (max |a - ref| / max |ref|). */
const PEER_RELATIVE_TOLERANCE = 1e-3;

const reference = new CpuBackend({ kernels: 'reference' });

function top1s(scores: Float32Array, batch: number): number[] {
  const classes = scores.length / batch;
  return Array.from({ length: batch }, (_, i) => argmax(scores, i * classes, classes));
}

/** The peer's output on `input` equals the reference's, and so does every image's top-1. */
async function expectSameOutputs(runner: TfjsWasmRunner, net: Network, input: Float32Array, batch: number): Promise<void> {
  const ref = (await reference.run(net, input, batch)).output;
  const out = await runner.run(input, batch);
  expect(relativeError(out, ref), runner.name).toBeLessThanOrEqual(PEER_RELATIVE_TOLERANCE);
  expect(top1s(out, batch)).toEqual(top1s(ref, batch));
}

/** Each layer's first top, from a reference run: what the network truncated after it outputs. */
function referenceBlobs(net: Network, input: Float32Array, batch: number): Map<Layer, Float32Array> {
  const blobs = new Map<Layer, Float32Array>();
  reference.runSync(net, input, batch, { onLayer: (layer, _inputs, outputs) => blobs.set(layer, outputs[0].slice()) });
  return blobs;
}

/**
 * Every layer of `net`, checked on its own: the network cut after layer i (so its first top is the
 * output; a ReLU right after it is then not fused) must reproduce the reference's blob.
 */
async function expectEveryLayer(net: Network, input: Float32Array, batch: number, threads = 1): Promise<void> {
  const blobs = referenceBlobs(net, input, batch);
  for (let i = 0; i < net.layers.length; i++) {
    const layer = net.layers[i];
    const cut: Network = { ...net, layers: net.layers.slice(0, i + 1), outputName: layer.tops[0] };
    const runner = await openTfjsWasm(cut, threads);
    try {
      const err = relativeError(await runner.run(input, batch), blobs.get(layer) as Float32Array);
      expect(err, `${layer.name} (${layer.params.type}): relative error ${err}`).toBeLessThanOrEqual(PEER_RELATIVE_TOLERANCE);
    } finally {
      await runner.close();
    }
  }
}


/**
 * What TF.js has no direct op for, or does differently: depthwise groups with a channel multiplier
 * and unequal pads, stride with dilation (dense and depthwise), no bias, ACROSS_CHANNELS LRN, MAX pads with the ceil
 * extension beyond the pad, AVE ceil extension without pads, a pool whose last rows are in no
 * window (5 wide, kernel 2, stride 3, pad 1), global MAX, Softmax over a spatial map, a
 * non-in-place fused ReLU read twice, InnerProduct straight off a spatial map, a 3-way Concat.
 */
const TRAPS = `name: "traps" input: "data" input_dim: 1 input_dim: 3 input_dim: 17 input_dim: 14
layer { name: "dw" type: "Convolution" bottom: "data" top: "dw" convolution_param { num_output: 6 kernel_size: 3 pad_h: 1 pad_w: 2 group: 3 } }
layer { name: "dw_relu" type: "ReLU" bottom: "dw" top: "dw" }
layer { name: "sd" type: "Convolution" bottom: "dw" top: "sd" convolution_param { num_output: 8 kernel_size: 3 stride: 2 dilation: 2 pad: 2 bias_term: false } }
layer { name: "lrn" type: "LRN" bottom: "sd" top: "lrn" lrn_param { local_size: 5 alpha: 0.5 beta: 0.75 k: 2 } }
layer { name: "dw2" type: "Convolution" bottom: "lrn" top: "dw2" convolution_param { num_output: 8 kernel_size: 3 pad: 1 stride: 2 dilation: 2 group: 8 } }
layer { name: "maxp" type: "Pooling" bottom: "lrn" top: "maxp" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "avep" type: "Pooling" bottom: "lrn" top: "avep" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
layer { name: "soft" type: "Softmax" bottom: "avep" top: "soft" }
layer { name: "gmax" type: "Pooling" bottom: "maxp" top: "gmax" pooling_param { pool: MAX global_pooling: true } }
layer { name: "cropp" type: "Pooling" bottom: "maxp" top: "cropp" pooling_param { pool: AVE kernel_size: 2 stride: 3 pad: 1 } }
layer { name: "flat" type: "Flatten" bottom: "cropp" top: "flat" }
layer { name: "ip" type: "InnerProduct" bottom: "soft" top: "ip" inner_product_param { num_output: 5 } }
layer { name: "ip_relu" type: "ReLU" bottom: "ip" top: "ipr" }
layer { name: "cat" type: "Concat" bottom: "ipr" bottom: "gmax" bottom: "flat" bottom: "ipr" top: "cat" }
`;

function synthetic(name: string, prototxt: string, seed: number): Promise<Network> {
  return loadNetwork(tempFile(`${name}.prototxt`, prototxt), { kind: 'synthetic', seed });
}

function signal(length: number, scale: number): Float32Array {
  return new Float32Array(length).map((_, i) => Math.cos(i * 0.71) * scale + Math.sin(i * 0.13));
}

let models: RealModels;

beforeAll(async () => {
  models = await loadRealModels();
});

describe('the TensorFlow.js wasm peer reproduces the CPU reference', () => {
  let runner: TfjsWasmRunner | undefined;
  afterAll(async () => runner?.close());

  it('cifar10-quick, 32 CIFAR-10 test images: at batch 32 and batch 1', async () => {
    runner = await openTfjsWasm(models.cifar, 1);
    expect(runner.name).toMatch(/^tfjs-wasm 4\.\d+\.\d+ \(XNNPACK, SIMD, 1 thread\)$/);
    const { input } = await models.cifarTest.batch(0, 32);
    await expectSameOutputs(runner, models.cifar, input, 32);
    const block = input.length / 32;
    for (const i of [0, 17, 31]) await expectSameOutputs(runner, models.cifar, input.slice(i * block, (i + 1) * block), 1);
    await runner.close();
    runner = undefined;
  });

  it('squeezenet-dc, 2 ImageNet samples in one batch', async () => {
    runner = await openTfjsWasm(models.squeezenet, 1);
    const { input } = await models.imagenet.batch(0, 2);
    await expectSameOutputs(runner, models.squeezenet, input, 2);
    await runner.close();
    runner = undefined;
  });

  it('every layer of the variants network (synthetic weights), and the whole network', async () => {
    const net = await synthetic('variants', VARIANTS_PROTOTXT, 5);
    const input = signal(3 * 4 * 15 * 13, 3);
    await expectEveryLayer(net, input, 3);
    runner = await openTfjsWasm(net, 1);
    await expectSameOutputs(runner, net, input, 3);
    await runner.close();
    runner = undefined;
  });

  it('every layer of a network of the Caffe-vs-TF.js traps (synthetic weights)', async () => {
    const net = await synthetic('traps', TRAPS, 11);
    const cropp = net.layers.find((l) => l.name === 'cropp') as Layer;
    // The case the test is for: Caffe's 2 windows leave the last input row out.
    expect([cropp.inputShapes[0].h, cropp.outputShapes[0].h]).toEqual([5, 2]);
    await expectEveryLayer(net, signal(2 * 3 * 17 * 14, 2), 2);
  });

  it('alexnet (synthetic weights: groups of 48 channels, LRN, 3 fully connected layers)', async () => {
    const net = await loadNetwork(packageFile('models/alexnet/deploy.prototxt'), { kind: 'synthetic', seed: 3 });
    runner = await openTfjsWasm(net, 1);
    await expectSameOutputs(runner, net, signal(3 * 227 * 227, 50), 1);
    await runner.close();
    runner = undefined;
  });
});

describe('Caffe AVE divisors against XNNPACK\'s', () => {
  it('are 1 without pads, and padding / input counts at the borders with them', () => {
    const noPad = { method: 'ave', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 0, padW: 0, global: false, ceilMode: true } as const;
    expect(averageCorrection(noPad, { h: 16, w: 16 }, { h: 8, w: 8 })).toBeUndefined();
    // 5 wide, kernel 3, stride 2, pad 1 -> 3 windows: [-1, 2) [1, 4) [3, 6); Caffe clips to [-1, 6).
    const padded = { ...noPad, padH: 0, padW: 1 };
    expect(Array.from(averageCorrection(padded, { h: 3, w: 5 }, { h: 1, w: 3 }) ?? [])).toEqual([2 / 3, 1, 2 / 3].map(Math.fround));
  });
});

describe('threads', () => {
  it('2 threads: the same outputs on cifar10-quick; another thread count is refused while it is open', async () => {
    const runner = await openTfjsWasm(models.cifar, 2);
    try {
      expect(runner.name).toContain('2 threads');
      const { input } = await models.cifarTest.batch(0, 32);
      await expectSameOutputs(runner, models.cifar, input, 32);
      await expect(openTfjsWasm(models.cifar, 1)).rejects.toThrow(/already runs on 2 thread/);
      // The same count shares the backend.
      const second = await openTfjsWasm(models.squeezenet, 2);
      await expectSameOutputs(second, models.squeezenet, (await models.imagenet.batch(1, 1)).input, 1);
      await second.close();
    } finally {
      await runner.close();
    }
    // Closed: the backend restarts single-threaded.
    const single = await openTfjsWasm(models.cifar, 1);
    expect(single.name).toContain('1 thread)');
    await single.close();
  });

  it('refuses thread counts outside 1 to 8 with a DyveError', async () => {
    await expect(openTfjsWasm(models.cifar, 0)).rejects.toThrow(DyveError);
    await expect(openTfjsWasm(models.cifar, 9)).rejects.toThrow(/from 1 to 8/);
  });
});
