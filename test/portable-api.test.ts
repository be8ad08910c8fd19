/**
 * The portable API (src/browser.ts): parsing from bytes, in-memory datasets, class
 * probabilities and the effort scale, against the file-based paths on the real models.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import type { Dataset } from '../src/data/dataset-types.js';
import { inMemoryDataset } from '../src/data/in-memory-dataset.js';
import { loadProfile } from '../src/effort/load-profile.js';
import { DENSE_PROFILE, type EffortProfile } from '../src/effort/profile.js';
import { scaleEffort } from '../src/effort/scale.js';
import { evaluate } from '../src/evaluation/evaluate.js';
import { classProbabilities } from '../src/evaluation/top-k.js';
import { parseNetwork } from '../src/formats/parse-network.js';
import { isWeighted, type Network } from '../src/ir/network.js';
import { packageFile } from '../src/package-root.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, SQUEEZENET_NET, SQUEEZENET_PROTOTXT } from './helpers/files.js';
import { loadRealModels, type RealModels } from './helpers/models.js';

let real: RealModels;
let profile: EffortProfile;

beforeAll(async () => {
  real = await loadRealModels();
  profile = await loadProfile(packageFile('models/cifar10-quick/effort.json'), real.cifar);
});

/** The first `n` images of a dataset, held in memory. */
async function firstImages(data: Dataset, n: number): Promise<Dataset> {
  const { input, labels, ids } = await data.batch(0, n);
  return inMemoryDataset({ name: `first ${n}`, inputShape: data.inputShape, inputs: input.slice(), labels, ids });
}

describe('parseNetwork (bytes in memory)', () => {
  it('builds the same networks as loadNetwork reads from files', async () => {
    const cifar = parseNetwork(readFileSync(CIFAR_PROTOTXT, 'utf8'), 'cifar10_quick.prototxt',
      { kind: 'bytes', bytes: readFileSync(CIFAR_CAFFEMODEL), name: 'cifar10_quick_iter_5000.caffemodel' });
    const squeeze = parseNetwork(readFileSync(SQUEEZENET_PROTOTXT, 'utf8'), 'SqueezeNet_deploy.prototxt',
      { kind: 'bytes', bytes: readFileSync(SQUEEZENET_NET), name: 'compressed_SqueezeNet.net' });
    for (const [a, b] of [[cifar, real.cifar], [squeeze, real.squeezenet]] as [Network, Network][]) {
      expect(a.layers.map((l) => l.name)).toEqual(b.layers.map((l) => l.name));
      a.layers.forEach((l, i) => {
        if (!isWeighted(l)) return;
        expect(l.weights?.weight.length).toBeGreaterThan(0);
        expect(l.weights?.weight).toEqual(b.layers[i].weights?.weight);
        expect(l.weights?.bias).toEqual(b.layers[i].weights?.bias);
      });
    }
  });

  it('names the file and line of malformed text', () => {
    expect(() => parseNetwork('layer { name: "x" type: "Convolution"', 'broken.prototxt', { kind: 'none' })).toThrow(/broken\.prototxt:1:/);
  });
});

describe('inMemoryDataset', () => {
  it('evaluates as the file dataset it was copied from', async () => {
    const cpu = new CpuBackend();
    const fromFile = await evaluate(real.cifar, { ...real.cifarTest, size: 50 }, cpu, { batch: 10 });
    const inMemory = await evaluate(real.cifar, await firstImages(real.cifarTest, 50), cpu, { batch: 10 });
    expect(inMemory.predictions).toEqual(fromFile.predictions);
    expect(inMemory.top1).toBe(fromFile.top1);
  });

  it('warmUp runs the first batch once per profile before the timed runs, and changes no result', async () => {
    const cpu = new CpuBackend({ kernels: 'wasm' });
    const effort = await loadProfile(packageFile('models/cifar10-quick/effort.json'), real.cifar);
    const data = await firstImages(real.cifarTest, 30);
    const calls: { effort: EffortProfile | undefined; batch: number }[] = [];
    const counting: CpuBackend = Object.assign(Object.create(cpu) as CpuBackend, {
      run: (net: Network, input: Float32Array, batch: number, o: Parameters<CpuBackend['run']>[3] = {}) => {
        calls.push({ effort: o.effort, batch });
        return cpu.run(net, input, batch, o);
      },
    });
    const plain = await evaluate(real.cifar, data, counting, { batch: 10, effort, baseline: DENSE_PROFILE });
    expect(calls).toHaveLength(6);
    calls.length = 0;
    const warm = await evaluate(real.cifar, data, counting, { batch: 10, effort, baseline: DENSE_PROFILE, warmUp: true });
    expect(calls.slice(0, 2)).toEqual([{ effort, batch: 10 }, { effort: DENSE_PROFILE, batch: 10 }]);
    expect(calls).toHaveLength(8);
    expect(warm.predictions).toEqual(plain.predictions);
    expect(warm.top1).toBe(plain.top1);
    expect(warm.macs).toEqual(plain.macs);
    expect(warm.baseline?.top1).toBe(plain.baseline?.top1);
  });

  it('refuses inputs that are not whole images and labels that do not match', () => {
    const inputShape = { c: 3, h: 2, w: 2 };
    expect(() => inMemoryDataset({ name: 'odd', inputShape, inputs: new Float32Array(13) })).toThrow(/13 values are not whole images of 12/);
    expect(() => inMemoryDataset({ name: 'labels', inputShape, inputs: new Float32Array(24), labels: [1] })).toThrow(/1 labels for 2 images/);
  });
});

describe('classProbabilities', () => {
  it('keeps a Softmax output and applies a softmax to SqueezeNet pooled scores', async () => {
    const cpu = new CpuBackend();
    const { input } = await real.cifarTest.batch(0, 1);
    const cifarOut = (await cpu.run(real.cifar, input, 1)).output;
    expect(classProbabilities(real.cifar, cifarOut)).toEqual(cifarOut);
    const image = await real.imagenet.batch(0, 1);
    const scores = (await cpu.run(real.squeezenet, image.input, 1)).output;
    const p = classProbabilities(real.squeezenet, scores);
    expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    // Order-preserving: the best class is the same.
    expect(p.indexOf(Math.max(...p))).toBe(scores.indexOf(Math.max(...scores)));
  });
});

describe('scaleEffort', () => {
  it('is dense at 0 and the profile itself at 1; refuses negative scales', () => {
    expect(scaleEffort(profile, 0)).toBe(DENSE_PROFILE);
    expect(scaleEffort(profile, 1)).toBe(profile);
    expect(() => scaleEffort(profile, -1)).toThrow(RangeError);
    expect(() => scaleEffort(profile, Number.NaN)).toThrow(RangeError);
  });

  it('moves every knob towards less work as the scale grows', () => {
    const half = scaleEffort(profile, 0.5);
    const twice = scaleEffort(profile, 2);
    for (const [name, effort] of Object.entries(profile.layers)) {
      if (effort.spet?.mode === 'threshold') {
        const t = (p: EffortProfile) => (p.layers[name].spet as { threshold: number }).threshold;
        expect(t(half)).toBeLessThan(t(profile));
        expect(t(twice)).toBeGreaterThan(t(profile));
      }
      if (effort.sdss) expect(twice.layers[name].sdss?.delta).toBe(2 * effort.sdss.delta);
      if (effort.sfma) expect(twice.layers[name].sfma?.epsilon).toBe(2 * effort.sfma.epsilon);
    }
  });

  it('executes fewer MACs at larger scales on cifar10-quick (200 test images)', async () => {
    // The shipped profile is in tile mode: the WebAssembly tile kernels (the TypeScript variants run its float64 reference).
    const cpu = new CpuBackend({ kernels: 'wasm' });
    const data = await firstImages(real.cifarTest, 200);
    const runs = [];
    for (const s of [0, 0.5, 1, 2]) runs.push(await evaluate(real.cifar, data, cpu, { batch: 50, effort: scaleEffort(profile, s) }));
    const macs = runs.map((r) => r.macs.executed);
    expect(macs[0]).toBe(runs[0].macs.dense);
    for (let i = 1; i < macs.length; i++) expect(macs[i]).toBeLessThanOrEqual(macs[i - 1]);
    expect(macs[3]).toBeLessThan(macs[2]);
  });
});
