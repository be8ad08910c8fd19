import v8 from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.js';
import { denseMacs } from '../src/ir/layer-metrics.js';
import { openBackend } from '../src/select-backend.js';
import { initWasmKernels, WASM_BUILDS, wasmBuildSupported, type WasmBuild } from '../src/backends/cpu/wasm/wasm-loader.js';
import type { Dataset } from '../src/data/dataset-types.js';
import type { Layer, Network, Shape } from '../src/ir/network.js';
import { shapeSize } from '../src/ir/network.js';
import { loadRealModels, type RealModels } from './helpers/models.js';
import { CONV_GEOMETRY_CASES, convLayer, ipLayer, poolLayer, randomArray, reluLayer, type ConvOptions, type PoolOptions } from './helpers/synthetic-layers.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

// Node 20 validates relaxed SIMD only behind this V8 flag (on by default from Node 22). Setting it
// here, in this test worker only, lets the suite check both builds of the kernels.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

/** The wasm kernel of `l` against the reference on seeded inputs: outputs and every count. */
function expectParity(l: Layer, batch: number, seed = 5): void {
  const input = randomArray(batch * shapeSize(l.inputShapes[0]), seed);
  const ref = runLayer(l, [input], batch, { kernels: 'reference' });
  const fast = runLayer(l, [input], batch, { kernels: 'fast' });
  const wasm = runLayer(l, [input], batch, { kernels: 'wasm' });
  const err = relativeError(wasm.outputs[0], ref.outputs[0]);
  expect(err, `relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  expect(wasm.counters.macsExecuted).toBe(denseMacs(l, batch));
  if (l.params.type !== 'Pooling') expect(wasm.counters.otherOps).toBe(fast.counters.otherOps);
}

const CONV_CASES: [string, Shape, ConvOptions, number][] = [
  ...CONV_GEOMETRY_CASES,
  ['stride 2, rows of whole 8-column panels', { c: 3, h: 37, w: 37 }, { numOutput: 9, kernelH: 5, kernelW: 5, strideH: 2, strideW: 2 }, 1],
  ['stride 3 (scalar gather)', { c: 3, h: 40, w: 40 }, { numOutput: 12, kernelH: 3, kernelW: 3, strideH: 3, strideW: 3, padH: 1, padW: 1 }, 1],
  ['1x1 (planes read in place)', { c: 16, h: 7, w: 7 }, { numOutput: 24, kernelH: 1, kernelW: 1 }, 3],
  ['1x1, 16 positions (no edge panel)', { c: 16, h: 4, w: 4 }, { numOutput: 16, kernelH: 1, kernelW: 1 }, 2],
  ['1x1 with groups', { c: 8, h: 5, w: 6 }, { numOutput: 12, kernelH: 1, kernelW: 1, group: 4 }, 2],
  ['1x1 stride 2 (gathered)', { c: 6, h: 9, w: 9 }, { numOutput: 5, kernelH: 1, kernelW: 1, strideH: 2, strideW: 2 }, 1],
  ['1x1 pad 1', { c: 3, h: 4, w: 4 }, { numOutput: 2, kernelH: 1, kernelW: 1, padH: 1, padW: 1 }, 1],
  ['tiny K = 1, one output channel', { c: 1, h: 6, w: 5 }, { numOutput: 1, kernelH: 1, kernelW: 1 }, 2],
  ['tiny K = 2, M = 11 (remainder panel)', { c: 2, h: 3, w: 3 }, { numOutput: 11, kernelH: 1, kernelW: 1, padH: 1, padW: 1 }, 1],
  ['one output position (N = 1)', { c: 3, h: 5, w: 4 }, { numOutput: 7, kernelH: 5, kernelW: 4 }, 3],
  ['7x7 stride 2 (conv1-like)', { c: 3, h: 31, w: 31 }, { numOutput: 8, kernelH: 7, kernelW: 7, strideH: 2, strideW: 2 }, 1],
  ['K = 576 > 512 (two K blocks)', { c: 64, h: 6, w: 7 }, { numOutput: 20, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 1],
  ['M = 300, K = 640 (several A blocks)', { c: 640, h: 3, w: 5 }, { numOutput: 300, kernelH: 1, kernelW: 1 }, 1],
  ['N = 2400 > 2048 (two column ranges), gathered', { c: 2, h: 50, w: 48 }, { numOutput: 5, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 1],
  ['N = 2500 > 2048, 1x1 in place', { c: 3, h: 50, w: 50 }, { numOutput: 9, kernelH: 1, kernelW: 1 }, 2],
];

const POOL_CASES: [string, Shape, PoolOptions][] = [
  ['MAX 3x3 s2 (CIFAR / SqueezeNet)', { c: 4, h: 32, w: 32 }, { method: 'max', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2 }],
  ['MAX 3x3 s2 on 13x13', { c: 4, h: 13, w: 13 }, { method: 'max', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2 }],
  ['AVE 3x3 s2 on 16x16 (CIFAR pool2)', { c: 3, h: 16, w: 16 }, { method: 'ave', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2 }],
  ['MAX 3x2 s2x1 pad 1x1', { c: 3, h: 8, w: 7 }, { method: 'max', kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padH: 1, padW: 1 }],
  ['AVE 3x3 s2 pad 1', { c: 3, h: 9, w: 10 }, { method: 'ave', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 }],
  ['AVE 2x2 s2 pad 1 on 3x3 (last window dropped)', { c: 2, h: 3, w: 3 }, { method: 'ave', kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 1, padW: 1 }],
  ['MAX 2x2 s2 with ceil rounding (clipped last window)', { c: 2, h: 5, w: 5 }, { method: 'max', kernelH: 2, kernelW: 2, strideH: 2, strideW: 2 }],
  ['MAX 3x3 s3 (lane-by-lane gather)', { c: 2, h: 20, w: 23 }, { method: 'max', kernelH: 3, kernelW: 3, strideH: 3, strideW: 3 }],
  ['AVE 4x4 s3 pad 2', { c: 2, h: 17, w: 19 }, { method: 'ave', kernelH: 4, kernelW: 4, strideH: 3, strideW: 3, padH: 2, padW: 2 }],
  ['AVE global 13x13 (SqueezeNet pool_final)', { c: 5, h: 13, w: 13 }, { method: 'ave', global: true }],
  ['MAX global', { c: 5, h: 6, w: 7 }, { method: 'max', global: true }],
];

interface Captured {
  readonly layer: Layer;
  readonly inputs: Float32Array[];
  readonly outputs: Float32Array[];
}

/** Every layer's exact inputs and outputs in a reference run of `batch` images of `data`. */
async function captureReference(net: Network, data: Dataset, batch: number): Promise<Captured[]> {
  const { input } = await data.batch(0, batch);
  const captured: Captured[] = [];
  new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, {
    onLayer: (layer, inputs, outputs) => captured.push({ layer, inputs: inputs.map((a) => a.slice()), outputs: outputs.map((a) => a.slice()) }),
  });
  return captured;
}

// Loaded and run once for both builds: the reference run of SqueezeNet takes a while.
let models: Promise<RealModels> | null = null;
const realModels = (): Promise<RealModels> => (models ??= loadRealModels());
const captures = new Map<string, Promise<Captured[]>>();
function captured(which: 'cifar' | 'squeezenet'): Promise<Captured[]> {
  let c = captures.get(which);
  if (!c) {
    c = realModels().then((m) => (which === 'cifar' ? captureReference(m.cifar, m.cifarTest, 4) : captureReference(m.squeezenet, m.imagenet, 1)));
    captures.set(which, c);
  }
  return c;
}

/** Each captured layer run alone by the wasm variant on its reference inputs. */
function checkEveryLayer(layers: readonly Captured[], batch: number): void {
  for (const c of layers) {
    const wasm = runLayer(c.layer, c.inputs, batch, { kernels: 'wasm' });
    c.outputs.forEach((expected, i) => {
      const err = relativeError(wasm.outputs[i], expected);
      expect(err, `${c.layer.name} (${c.layer.params.type}) top ${i}: relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    });
    expect(wasm.counters.macsExecuted, c.layer.name).toBe(wasm.counters.macsDense);
  }
}

/** Top-1 class of each image of a batch of scores. */
function predictions(scores: Float32Array, batch: number): number[] {
  const classes = scores.length / batch;
  return Array.from({ length: batch }, (_, i) => {
    let best = 0;
    for (let j = 1; j < classes; j++) if (scores[i * classes + j] > scores[i * classes + best]) best = j;
    return best;
  });
}

let fastPredictions: Promise<number[]> | null = null;
const CIFAR_IMAGES = 500;
const CIFAR_BATCH = 100;

/** Top-1 of `backend` on the first 500 CIFAR-10 test images, batches of 100. */
async function cifarPredictions(backend: CpuBackend): Promise<number[]> {
  const { cifar, cifarTest } = await realModels();
  const out: number[] = [];
  for (let start = 0; start < CIFAR_IMAGES; start += CIFAR_BATCH) {
    const { input } = await cifarTest.batch(start, CIFAR_BATCH);
    out.push(...predictions((await backend.run(cifar, input, CIFAR_BATCH)).output, CIFAR_BATCH));
  }
  return out;
}

function runBuild(build: WasmBuild): void {
  describe(`wasm kernels, ${build} build`, () => {
    beforeAll(async () => {
      expect(wasmBuildSupported(build), `${build} must validate (the V8 flag is set above)`).toBe(true);
      const kernels = await initWasmKernels(build);
      expect(kernels.build).toBe(build);
    });

    describe('Convolution on synthetic layers equals the reference', () => {
      for (const [name, input, o, batch] of CONV_CASES) {
        it(name, () => expectParity(convLayer(input, o, name.length), batch));
      }
      it('every output-channel count 1..13 (every panel split)', () => {
        for (let m = 1; m <= 13; m++) expectParity(convLayer({ c: 3, h: 5, w: 7 }, { numOutput: m, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, m), 2);
      });
    });

    describe('Pooling and ReLU on synthetic layers equal the reference', () => {
      for (const [name, input, o] of POOL_CASES) it(name, () => expectParity(poolLayer(input, o), 3));
      it('MAX over all-negative values with padding ignores the padding', () => {
        const l = poolLayer({ c: 1, h: 2, w: 2 }, { method: 'max', kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 });
        expect(Array.from(runLayer(l, [Float32Array.of(-1, -2, -3, -4)], 1, { kernels: 'wasm' }).outputs[0])).toEqual([-1, -1, -1, -1]);
      });
      it('pooling counts the separable ops it runs (bordered rows across, then down)', () => {
        // 5x5, 2x2 s2 MAX: 3x3 output, bordered to 6 rows; 6 rows x 3 outputs x 1 max across,
        // then 9 outputs x 1 max down.
        const l = poolLayer({ c: 1, h: 5, w: 5 }, { method: 'max', kernelH: 2, kernelW: 2, strideH: 2, strideW: 2 });
        const { outputs, counters } = runLayer(l, [Float32Array.from({ length: 25 }, (_, i) => i + 1)], 1, { kernels: 'wasm' });
        expect(Array.from(outputs[0])).toEqual([7, 9, 10, 17, 19, 20, 22, 24, 25]);
        expect(counters.otherOps).toBe(18 + 9);
      });
      for (const slope of [0, 0.1]) {
        it(`ReLU, negative slope ${slope} (with a tail of n % 4 values)`, () => {
          const l = reluLayer({ c: 3, h: 5, w: 7 }, slope);
          expectParity(l, 3);
          const x = Float32Array.of(-0, 0, 1, -1, Number.NaN);
          const ref = runLayer(reluLayer({ c: 5, h: 1, w: 1 }, slope), [x], 1, { kernels: 'reference' }).outputs[0];
          expect(Array.from(runLayer(reluLayer({ c: 5, h: 1, w: 1 }, slope), [x], 1, { kernels: 'wasm' }).outputs[0])).toEqual(Array.from(ref));
        });
      }
    });

    describe('InnerProduct on synthetic layers equals the reference', () => {
      const cases: [Shape, number, boolean, number][] = [
        [{ c: 1, h: 1, w: 1 }, 1, true, 1],
        [{ c: 5, h: 1, w: 1 }, 3, false, 2],
        [{ c: 4, h: 2, w: 3 }, 10, true, 7],
        [{ c: 64, h: 4, w: 4 }, 64, true, 1],
        [{ c: 64, h: 4, w: 4 }, 17, true, 64],
        [{ c: 1100, h: 1, w: 1 }, 9, true, 13],
      ];
      for (const [input, out, bias, batch] of cases) {
        it(`${shapeSize(input)} -> ${out}, batch ${batch}${bias ? '' : ', no bias'}`, () => expectParity(ipLayer(input, out, bias, out + batch), batch));
      }
    });

    describe('every layer of the real models equals the reference on its reference inputs', () => {
      it('cifar10-quick, 4 CIFAR-10 test images', async () => {
        const layers = await captured('cifar');
        expect(layers.map((c) => c.layer.name)).toEqual((await realModels()).cifar.layers.map((l) => l.name));
        checkEveryLayer(layers, 4);
      });
      it('squeezenet-dc, 1 ImageNet sample', async () => {
        const layers = await captured('squeezenet');
        expect(layers).toHaveLength((await realModels()).squeezenet.layers.length);
        checkEveryLayer(layers, 1);
      });
    });

    it('whole cifar10-quick: the same top-1 as the fast path on 500 CIFAR-10 test images, the same MACs', async () => {
      fastPredictions ??= cifarPredictions(new CpuBackend({ kernels: 'fast' }));
      const wasm = await cifarPredictions(new CpuBackend({ kernels: 'wasm' }));
      const fast = await fastPredictions;
      const differing = wasm.flatMap((p, i) => (p === fast[i] ? [] : [i]));
      expect(differing, `images whose top-1 differs: ${differing.join(', ')}`).toEqual([]);
      const { cifar, cifarTest } = await realModels();
      const { input } = await cifarTest.batch(0, 2);
      const [a, b] = await Promise.all([new CpuBackend({ kernels: 'wasm' }).run(cifar, input, 2), new CpuBackend().run(cifar, input, 2)]);
      expect(a.counters.map((c) => c.macsExecuted)).toEqual(b.counters.map((c) => c.macsExecuted));
    });
  });
}

for (const build of WASM_BUILDS) runBuild(build);

describe('the wasm variant in the backends', () => {
  it("is the CpuBackend named 'wasm', opened by openBackend('wasm'), and loads its module itself in run()", async () => {
    expect(new CpuBackend({ kernels: 'wasm' }).name).toBe('wasm');
    const opened = await openBackend('wasm');
    expect(opened.backend.name).toBe('wasm');
    expect(opened.adapter).toBeNull();
    const l = convLayer({ c: 2, h: 4, w: 4 }, { numOutput: 3, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 3);
    const net: Network = {
      name: 'one-conv', inputName: l.bottoms[0], inputShape: l.inputShapes[0], outputName: l.tops[0], layers: [l], synthetic: true,
      blobShapes: new Map([[l.bottoms[0], l.inputShapes[0]], [l.tops[0], l.outputShapes[0]]]),
    };
    const x = randomArray(2 * 32, 4);
    const ref = await new CpuBackend({ kernels: 'reference' }).run(net, x, 2);
    const got = await opened.backend.run(net, x, 2);
    expect(relativeError(got.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    opened.close();
  });

  it('a large dense batch runs in chunks of images with the same output and counters as whole', async () => {
    const { cifar, cifarTest } = await realModels();
    const batch = 40; // cifar10-quick's chunk is 32 images: one chunk of 32, one of 8
    const { input } = await cifarTest.batch(0, batch);
    const backend = new CpuBackend({ kernels: 'wasm' });
    const chunked = await backend.run(cifar, input, batch);
    const whole = await backend.run(cifar, input, batch, { keepBlobs: true }); // observed runs are never chunked
    expect(chunked.output).toEqual(whole.output);
    expect(chunked.counters).toEqual(whole.counters);
  });

  it('reuses packed weights while the arrays are the same, and repacks new ones', async () => {
    const kernels = await initWasmKernels();
    const l = convLayer({ c: 3, h: 6, w: 6 }, { numOutput: 8, kernelH: 3, kernelW: 3 }, 11);
    const x = randomArray(3 * 36, 12);
    const first = runLayer(l, [x], 1, { kernels: 'wasm' }).outputs[0];
    const size = kernels.memory.byteLength;
    expect(runLayer(l, [x], 1, { kernels: 'wasm' }).outputs[0]).toEqual(first);
    expect(kernels.memory.byteLength).toBe(size);
    // New weight arrays (as a reload gives) are packed afresh, not served from the cache.
    l.weights = { weight: l.weights!.weight.map((v) => -v), bias: l.weights!.bias!.map((v) => -v) };
    const negated = runLayer(l, [x], 1, { kernels: 'wasm' }).outputs[0];
    negated.forEach((v, i) => expect(v).toBeCloseTo(-first[i], 5));
  });
});
