/**
 * The CPU backends on worker threads (the workers themselves run the built worker module under
 * Node, see workerUrl in parallel-backend.ts; Deno runs the sources: test-deno/threads_test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { loadProfile } from '../src/effort/load-profile.js';
import { ParallelBackend } from '../src/threads/parallel-backend.js';
import { type RunResult } from '../src/backends/backend.js';
import { sumCounters } from '../src/records/counters.js';
import type { EffortProfile } from '../src/effort/profile.js';
import { packageFile } from '../src/package-root.js';
import { loadRealModels, type RealModels } from './helpers/models.js';

let real: RealModels;
let profile: EffortProfile;
let parallel: ParallelBackend;

beforeAll(async () => {
  real = await loadRealModels();
  profile = await loadProfile(packageFile('models/cifar10-quick/effort-neuron.json'), real.cifar);
  parallel = await ParallelBackend.create({ threads: 2 });
});

afterAll(async () => {
  await parallel.close();
});

/** What one thread computes for the same slices (the fast GEMM's summation order depends on the batch). */
async function sliced(input: Float32Array, sizes: number[], options: Parameters<CpuBackend['run']>[3]): Promise<RunResult[]> {
  const cpu = new CpuBackend();
  const block = input.length / sizes.reduce((a, b) => a + b, 0);
  const parts: RunResult[] = [];
  let at = 0;
  for (const n of sizes) {
    parts.push(await cpu.run(real.cifar, input.slice(at * block, (at + n) * block), n, options));
    at += n;
  }
  return parts;
}

describe('ParallelBackend (2 worker threads)', () => {
  it('splits a batch by images and joins outputs and counters exactly as one thread computes them', async () => {
    const { input } = await real.cifarTest.batch(0, 33);
    const r = await parallel.run(real.cifar, input, 33, { effort: profile, traceDecisions: true });
    const parts = await sliced(input, [17, 16], { effort: profile, traceDecisions: true });
    expect(r.output).toEqual(new Float32Array([...parts[0].output, ...parts[1].output]));
    expect(r.counters).toEqual(parts[0].counters.map((c, i) => sumCounters(c, parts[1].counters[i])));
    expect(r.decisions?.map((d) => d.batch)).toEqual(parts[0].decisions?.map(() => 33));
    expect(r.decisions?.[0].neurons).toEqual(new Uint8Array([...parts[0].decisions![0].neurons, ...parts[1].decisions![0].neurons]));
  });

  it('runs the WebAssembly kernels on each worker, as one thread does on the same slices', async () => {
    const wasm = await ParallelBackend.create({ threads: 2, kernels: 'wasm' });
    try {
      const { input } = await real.cifarTest.batch(40, 16);
      const r = await wasm.run(real.cifar, input, 16);
      const one = new CpuBackend({ kernels: 'wasm' });
      const a = await one.run(real.cifar, input.slice(0, 8 * 3072), 8);
      const b = await one.run(real.cifar, input.slice(8 * 3072), 8);
      expect(r.output).toEqual(new Float32Array([...a.output, ...b.output]));
      expect(wasm.name).toBe(one.name);
    } finally {
      await wasm.close();
    }
  });

  it('splits the large layers of one image (fast kernels: by output channels), bit for bit the single-thread backend, decisions included', async () => {
    // cifar10-quick's dense layers are all too small to split (the largest, conv2, is 6.5 M MACs).
    const { input } = await real.cifarTest.batch(5, 1);
    const r = await parallel.run(real.cifar, input, 1, { keepBlobs: true });
    const one = await new CpuBackend().run(real.cifar, input, 1, { keepBlobs: true });
    expect(parallel.threadsUsed).toBe(1);
    for (const [name, blob] of one.blobs!) expect(r.blobs!.get(name), name).toEqual(blob);
    expect(r.counters).toEqual(one.counters);
    // Its calibrated profile's dynamic layers (SPET + SDSS, SDSS) split by output channels.
    const options = { effort: profile, traceDecisions: true };
    const dyn = await parallel.run(real.cifar, input, 1, options);
    expect(parallel.threadsUsed).toBe(2);
    const dynOne = await new CpuBackend().run(real.cifar, input, 1, options);
    expect(dyn.output).toEqual(dynOne.output);
    expect(dyn.counters).toEqual(dynOne.counters);
    expect(dyn.decisions).toEqual(dynOne.decisions);
    // SqueezeNet's dense layers, by output channels on these kernels, every blob kept.
    const image = (await real.imagenet.batch(1, 1)).input;
    const sq = await parallel.run(real.squeezenet, image, 1, { keepBlobs: true });
    expect(parallel.threadsUsed).toBe(2);
    const sqOne = await new CpuBackend().run(real.squeezenet, image, 1, { keepBlobs: true });
    // Byte comparisons: a deep equal of SqueezeNet's million-value blobs takes seconds each.
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const [name, blob] of sqOne.blobs!) expect(bytes(sq.blobs!.get(name)!).equals(bytes(blob)), name).toBe(true);
    expect(sq.counters).toEqual(sqOne.counters);
  });

  it('splits SqueezeNet layers on the wasm kernels (dense by output rows, dynamic by output channels) with their decisions', async () => {
    const wasm = await ParallelBackend.create({ threads: 2, kernels: 'wasm' });
    const messages = await ParallelBackend.create({ threads: 2, kernels: 'wasm', sharedMemory: false });
    try {
      const { input } = await real.imagenet.batch(3, 1);
      const one = new CpuBackend({ kernels: 'wasm' });
      const expected = await one.run(real.squeezenet, input, 1);
      // Shared memory (twice: the second run reuses the layers' buffers) and plain messages.
      for (const backend of [wasm, wasm, messages]) {
        const r = await backend.run(real.squeezenet, input, 1);
        expect(backend.threadsUsed).toBe(2);
        expect(r.output).toEqual(expected.output);
        expect(r.counters).toEqual(expected.counters);
      }
      const squeezeProfile = await loadProfile(packageFile('models/squeezenet-dc/effort-neuron.json'), real.squeezenet);
      const options = { effort: squeezeProfile, traceDecisions: true };
      const dyn = await wasm.run(real.squeezenet, input, 1, options);
      const dynOne = await one.run(real.squeezenet, input, 1, options);
      expect(dyn.output).toEqual(dynOne.output);
      expect(dyn.counters).toEqual(dynOne.counters);
      expect(dyn.decisions).toEqual(dynOne.decisions);
    } finally {
      await wasm.close();
      await messages.close();
    }
  });

  it('reuses the input buffers the workers hand back: later batches run on their own images, the caller\'s arrays and kept blobs stay intact', async () => {
    const a = (await real.cifarTest.batch(0, 8)).input;
    const b = (await real.cifarTest.batch(8, 8)).input;
    const aCopy = a.slice();
    const kept = await parallel.run(real.cifar, a, 8, { keepBlobs: true });
    const keptInput = kept.blobs?.get(real.cifar.inputName)?.slice();
    expect(keptInput).toEqual(aCopy);
    const expected = new Map<Float32Array, Float32Array>();
    for (const input of [a, b]) expected.set(input, new Float32Array((await sliced(input, [4, 4], {})).flatMap((p) => [...p.output])));
    // Alternating inputs of one size: from the second run on, each slice travels in a returned buffer.
    for (let i = 0; i < 4; i++) {
      const input = i % 2 ? b : a;
      expect((await parallel.run(real.cifar, input, 8)).output).toEqual(expected.get(input));
    }
    expect(a).toEqual(aCopy);
    expect(kept.blobs?.get(real.cifar.inputName)).toEqual(aCopy);
  });

  it('reports a worker-side error as an error of the run', async () => {
    const { input } = await real.cifarTest.batch(0, 4);
    // A profile naming a layer the network lacks is refused inside the workers' backends.
    const bad = { ...profile, layers: { ...profile.layers, conv2: { sdss: { stride: 0, delta: 0 } } } } as EffortProfile;
    await expect(parallel.run(real.cifar, input, 4, { effort: bad })).rejects.toThrow(/conv2/);
  });

  it('refuses a thread count that is not a whole number >= 1', async () => {
    await expect(ParallelBackend.create({ threads: 0 })).rejects.toThrow(/threads must be a whole number >= 1/);
  });
});
