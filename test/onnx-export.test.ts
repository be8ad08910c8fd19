/**
 * ONNX export (src/formats/onnx/): onnxruntime-node, CPU execution provider, runs the exported
 * graphs and must reproduce the CPU reference backend (PARITY_RELATIVE_TOLERANCE, same top-1) on
 * the real models and on a network of every layer variant; unsupported constructs fail with a
 * NetworkError naming the layer. Then the peer runners (harness/peers/onnxruntime.ts), native and
 * WebAssembly, with 1 and 2 threads, take the same top-1 decisions as our CPU path.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as ort from 'onnxruntime-node';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { NetworkError } from '../src/errors.js';
import { argmax } from '../src/evaluation/top-k.js';
import { loadNetwork } from '../src/formats/load-network.js';
import { exportOnnx, ONNX_OPSET } from '../src/formats/onnx/export-onnx.js';
import { onnx } from '../src/formats/onnx/onnx-proto.js';
import type { Network } from '../src/ir/network.js';
import { exportCommand } from '../harness/commands/export.js';
import { openOnnxRuntime, type OnnxRuntimeKind } from '../harness/peers/onnxruntime.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA, tempFile } from './helpers/files.js';
import { loadRealModels, type RealModels } from './helpers/models.js';
import { exportVariantsPrototxt } from './helpers/variants.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

let real: RealModels;

beforeAll(async () => {
  real = await loadRealModels();
});

/** Runs an exported model once on onnxruntime-node's CPU provider. */
async function runOnnx(model: Uint8Array, net: Network, input: Float32Array, batch: number): Promise<{ output: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const { c, h, w } = net.inputShape;
    const result = await session.run({ [net.inputName]: new ort.Tensor('float32', input, [batch, c, h, w]) });
    const out = result[net.outputName];
    return { output: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

function top1(output: Float32Array, batch: number): number[] {
  const classes = output.length / batch;
  return Array.from({ length: batch }, (_, i) => argmax(output, i * classes, classes));
}

/** The model's graph as a plain object (int64 fields as numbers). */
function decoded(model: Uint8Array) {
  return onnx.ModelProto.toObject(onnx.ModelProto.decode(model), { longs: Number, enums: String, defaults: false }) as {
    opsetImport: { version: number }[];
    graph: {
      node: { opType: string; name: string; attribute?: { name: string; i?: number; ints?: number[] }[] }[];
      input: { name: string; type: { tensorType: { shape: { dim: { dimParam?: string; dimValue?: number }[] } } } }[];
      output: { name: string; type: { tensorType: { shape: { dim: { dimParam?: string; dimValue?: number }[] } } } }[];
    };
  };
}

const dimsOf = (v: { type: { tensorType: { shape: { dim: { dimParam?: string; dimValue?: number }[] } } } }) =>
  v.type.tensorType.shape.dim.map((d) => d.dimParam ?? d.dimValue);

describe('exportOnnx: onnxruntime-node reproduces the CPU reference', () => {
  it('cifar10-quick, 16 CIFAR-10 test images: relative error <= 1e-4, same top-1; N x C x H x W in, N x 10 out', async () => {
    const model = exportOnnx(real.cifar);
    const graph = decoded(model);
    expect(graph.opsetImport[0].version).toBe(ONNX_OPSET);
    expect(graph.graph.input.map((i) => [i.name, dimsOf(i)])).toEqual([['data', ['N', 3, 32, 32]]]);
    expect(graph.graph.output.map((o) => [o.name, dimsOf(o)])).toEqual([['prob', ['N', 10]]]);
    expect(dimsOf(decoded(exportOnnx(real.cifar, { batch: 16 })).graph.input[0])).toEqual([16, 3, 32, 32]);

    const { input } = await real.cifarTest.batch(0, 16);
    const ref = (await new CpuBackend({ kernels: 'reference' }).run(real.cifar, input, 16)).output;
    const { output, dims } = await runOnnx(model, real.cifar, input, 16);
    expect(dims).toEqual([16, 10]);
    const err = relativeError(output, ref);
    expect(err, `relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    expect(top1(output, 16)).toEqual(top1(ref, 16));
  });

  it('squeezenet-dc, 4 ImageNet samples: relative error <= 1e-4, same top-1', async () => {
    const model = exportOnnx(real.squeezenet);
    const { input } = await real.imagenet.batch(0, 4);
    const ref = (await new CpuBackend({ kernels: 'reference' }).run(real.squeezenet, input, 4)).output;
    const { output, dims } = await runOnnx(model, real.squeezenet, input, 4);
    expect(dims).toEqual([4, 1000, 1, 1]);
    const err = relativeError(output, ref);
    expect(err, `relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    expect(top1(output, 4)).toEqual(top1(ref, 4));
  });

  it('a network of every layer variant matches, batch 3 (dilation, groups, leaky ReLU, both LRNs, padded and overhanging AVE, clipped MAX, global pools, spatial softmax, split, flatten, dropout, mixed-rank concat)', async () => {
    // Shapes: c1 6x15x13. ave (k3 s2 p1): 8x7. ave_ceil (k3 s3 p1): 6x5, its last row of windows
    // overhangs the padded map (Caffe divides by 2 there, not 3). maxp (k2 s2 p1): Caffe's ceil
    // gives 9x8, clipped to 8x7 because the last windows would start in the padding.
    // sm4: Softmax over channels at each of 8x7 positions (opset 13 per-axis semantics).
    const prototxt = exportVariantsPrototxt('WITHIN_CHANNEL');
    const net = await loadNetwork(tempFile('variants.prototxt', prototxt), { kind: 'synthetic', seed: 5 });
    const shape = (blob: string) => net.blobShapes.get(blob);
    expect([shape('ave'), shape('ave_ceil'), shape('maxp'), shape('cat')]).toEqual([
      { c: 6, h: 8, w: 7 }, { c: 6, h: 6, w: 5 }, { c: 6, h: 8, w: 7 }, { c: 25, h: 1, w: 1 }]);
    const model = exportOnnx(net);
    const ops = decoded(model).graph.node.map((n) => n.opType);
    for (const op of ['Conv', 'LeakyRelu', 'Relu', 'LRN', 'Pad', 'AveragePool', 'MaxPool', 'GlobalAveragePool', 'GlobalMaxPool', 'Softmax', 'Flatten', 'Gemm', 'Unsqueeze', 'Concat', 'Pow', 'Identity']) {
      expect(ops, op).toContain(op);
    }
    const batch = 3;
    const input = new Float32Array(batch * 4 * 15 * 13).map((_, i) => Math.cos(i * 0.71) * 3);
    const ref = (await new CpuBackend({ kernels: 'reference' }).run(net, input, batch)).output;
    const { output, dims } = await runOnnx(model, net, input, batch);
    expect(dims).toEqual([batch, 25, 1, 1]);
    const err = relativeError(output, ref);
    expect(err, `relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);

    // Each branch on its own, so that a wrong pooling divisor cannot hide behind the softmax.
    for (const blob of ['lrn', 'lrn_x', 'ave', 'ave_ceil', 'maxp', 'sm4', 'max', 'gap', 'gmax', 'cat']) {
      const cut = await loadNetwork(tempFile('cut.prototxt', cutAt(prototxt, blob)), { kind: 'synthetic', seed: 5 });
      const r = (await new CpuBackend({ kernels: 'reference' }).run(cut, input, batch)).output;
      const o = (await runOnnx(exportOnnx(cut), cut, input, batch)).output;
      expect(relativeError(o, r), blob).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    }
  });
});

/** The prototxt up to the layer that writes `blob` (the layers after it removed). */
function cutAt(prototxt: string, blob: string): string {
  const lines = prototxt.split('\n');
  const last = lines.findIndex((l) => l.includes(`top: "${blob}"`) && !l.includes(`bottom: "${blob}"`));
  return lines.slice(0, last + 1).join('\n');
}

describe('exportOnnx errors', () => {
  it('a network without weights: NetworkError naming the first weighted layer', async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'none' });
    expect(() => exportOnnx(net)).toThrow(NetworkError);
    expect(() => exportOnnx(net)).toThrow(/layer 'conv1' \(Convolution\) has no weights/);
  });

  it('a pooling whose ceil rounding adds a window wholly outside the input (stride > kernel, no pad): NetworkError naming the layer', async () => {
    const prototxt = `input: "data" input_dim: 1 input_dim: 2 input_dim: 4 input_dim: 4
layer { name: "sparse_pool" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: MAX kernel_size: 1 stride: 2 } }
`;
    const net = await loadNetwork(tempFile('sparse.prototxt', prototxt), { kind: 'synthetic' });
    expect(net.blobShapes.get('p')).toEqual({ c: 2, h: 3, w: 3 });
    expect(() => exportOnnx(net)).toThrow(NetworkError);
    expect(() => exportOnnx(net)).toThrow(/layer 'sparse_pool' \(Pooling\).*outside its input/);
  });
});

describe('dyve export', () => {
  it('writes the model of --model/--weights to --onnx; onnxruntime loads it and it equals exportOnnx', async () => {
    const path = tempFile('cifar.onnx', '');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await exportCommand(['--model', CIFAR_PROTOTXT, '--weights', CIFAR_CAFFEMODEL, '--data', DATA, '--onnx', path]);
      expect(log.mock.calls.flat().join(' ')).toMatch(/opset 13.*input 'data' Nx3x32x32, output 'prob'/);
    } finally {
      log.mockRestore();
    }
    const written = new Uint8Array(readFileSync(path));
    expect(decoded(written).graph.node.map((n) => n.opType)).toEqual(decoded(exportOnnx(real.cifar)).graph.node.map((n) => n.opType));
    const { input } = await real.cifarTest.batch(0, 4);
    const ref = (await new CpuBackend({ kernels: 'reference' }).run(real.cifar, input, 4)).output;
    expect(relativeError((await runOnnx(written, real.cifar, input, 4)).output, ref)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    await expect(exportCommand(['--model', CIFAR_PROTOTXT, '--weights', CIFAR_CAFFEMODEL])).rejects.toThrow(/--onnx FILE is required/);
  });
});

describe('onnxruntime peers (harness/peers/onnxruntime.ts)', () => {
  for (const kind of ['node', 'web'] as OnnxRuntimeKind[]) {
    for (const threads of [1, 2]) {
      it(`${kind}, ${threads} thread(s): same top-1 as our CPU path on 16 CIFAR-10 images`, async () => {
        const { input } = await real.cifarTest.batch(0, 16);
        const ours = top1((await new CpuBackend().run(real.cifar, input, 16)).output, 16);
        const peer = await openOnnxRuntime(kind, exportOnnx(real.cifar), threads);
        try {
          expect(peer.name).toMatch(new RegExp(`^onnxruntime-${kind} \\d+\\.\\d+\\.\\d+ .*${threads} thread`));
          // Whole batch, then image by image through the same session.
          expect(top1(await peer.run(input, 16), 16)).toEqual(ours);
          const single: number[] = [];
          for (let i = 0; i < 16; i++) single.push(...top1(await peer.run(input.subarray(i * 3072, (i + 1) * 3072), 1), 1));
          expect(single).toEqual(ours);
          await expect(peer.run(input.subarray(0, 100), 1)).rejects.toThrow(/expected batch x 3072/);
        } finally {
          await peer.close();
        }
      });
    }
  }
});
