import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunResult } from '../src/backends/backend.js';
import { NEURON_EVALUATED, NEURON_SDSS_INTERPOLATED, NEURON_SPET_TERMINATED, type LayerDecisions } from '../src/records/decisions.js';
import { type LayerCounters } from '../src/records/counters.js';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import type { Dataset } from '../src/data/dataset-types.js';
import { loadProfile } from '../src/effort/load-profile.js';
import { DENSE_PROFILE, validateProfile, type EffortProfile } from '../src/effort/profile.js';
import type { Network } from '../src/ir/network.js';
import { packageFile } from '../src/package-root.js';
import { openTestGpu } from './helpers/gpu.js';
import { loadRealModels } from './helpers/models.js';
import { DYNAMIC_DECISION_TOLERANCE, PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

/** How many entries of `a` equal `code`. */
function count(a: Uint8Array, code: number): number {
  let n = 0;
  for (const v of a) if (v === code) n++;
  return n;
}

/** The mechanisms' counters summed over the layers, and the same numbers read off the maps. */
function tallies(r: RunResult): { counters: number[]; maps: number[] } {
  const counters = [0, 0, 0];
  for (const c of r.counters) {
    counters[0] += c.mechanisms?.spet?.terminated ?? 0;
    counters[1] += c.mechanisms?.sdss?.interpolated ?? 0;
    counters[2] += c.mechanisms?.sfma?.approximated ?? 0;
  }
  const maps = [0, 0, 0];
  for (const d of r.decisions ?? []) {
    maps[0] += count(d.neurons, NEURON_SPET_TERMINATED);
    maps[1] += count(d.neurons, NEURON_SDSS_INTERPOLATED);
    maps[2] += count(d.sfmaApproximated, 1);
  }
  return { counters, maps };
}

/** Every traced layer has knobs, in execution order, with its output and input shapes; per-layer counts match its counters. */
function checkRecords(net: Network, profile: EffortProfile, r: RunResult, batch: number): void {
  const dynamic = net.layers.filter((l) => Object.keys(profile.layers[l.name] ?? {}).length > 0);
  const decisions = r.decisions ?? [];
  expect(decisions.map((d) => d.layer)).toEqual(dynamic.map((l) => l.name));
  decisions.forEach((d, i) => {
    const layer = dynamic[i];
    const out = layer.outputShapes[0];
    expect([d.batch, d.channels, d.height, d.width, d.inputChannels], d.layer).toEqual([batch, out.c, out.h, out.w, layer.inputShapes[0].c]);
    expect(d.neurons.length).toBe(batch * out.c * out.h * out.w);
    expect(d.sfmaApproximated.length).toBe(batch * layer.inputShapes[0].c);
    const c = r.counters.find((x) => x.name === d.layer) as LayerCounters;
    expect(count(d.neurons, NEURON_SPET_TERMINATED), `${d.layer} SPET`).toBe(c.mechanisms?.spet?.terminated ?? 0);
    expect(count(d.neurons, NEURON_SDSS_INTERPOLATED), `${d.layer} SDSS`).toBe(c.mechanisms?.sdss?.interpolated ?? 0);
    expect(count(d.sfmaApproximated, 1), `${d.layer} SFMA`).toBe(c.mechanisms?.sfma?.approximated ?? 0);
    expect(d.neurons.every((v) => v <= NEURON_SDSS_INTERPOLATED)).toBe(true);
  });
}

/** Fraction of entries (neurons and SFMA maps, over every layer) where two traces differ. */
function disagreement(a: readonly LayerDecisions[], b: readonly LayerDecisions[]): number {
  expect(a.map((d) => d.layer)).toEqual(b.map((d) => d.layer));
  let differ = 0;
  let total = 0;
  a.forEach((d, i) => {
    for (const [x, y] of [[d.neurons, b[i].neurons], [d.sfmaApproximated, b[i].sfmaApproximated]] as const) {
      expect(x.length).toBe(y.length);
      for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) differ++;
      total += x.length;
    }
  });
  return differ / total;
}

let cifar: Network;
let cifarTest: Dataset;
let squeezenet: Network;
let imagenet: Dataset;
let cifarProfile: EffortProfile;
let squeezeProfile: EffortProfile;
/** Every mechanism on every conv layer of cifar10-quick (SFMA loose enough to drop maps; conv3 exact SPET), SPET on ip1. */
let cifarAll: EffortProfile;

beforeAll(async () => {
  ({ cifar, cifarTest, squeezenet, imagenet } = await loadRealModels());
  cifarProfile = await loadProfile(packageFile('models/cifar10-quick/effort-neuron.json'), cifar);
  squeezeProfile = await loadProfile(packageFile('models/squeezenet-dc/effort-neuron.json'), squeezenet);
  const all = { spet: { mode: 'threshold', fraction: 0.5, threshold: -5 }, sdss: { stride: 2, delta: 0.5 }, sfma: { epsilon: 0.5 } };
  const valid = validateProfile({ layers: { conv1: all, conv2: all, conv3: { ...all, spet: { mode: 'exact', fraction: 0.25 } } } }, cifar);
  // ip1 feeds no ReLU, so profiles may not put SPET there; the kernels run it all the same (as the
  // per-layer parity tests do), which takes the InnerProduct path of the trace through the network.
  cifarAll = { ...valid, layers: { ...valid.layers, ip1: { spet: { mode: 'threshold', fraction: 0.5, threshold: 0 } } } };
});

interface Case { readonly name: string; readonly net: () => Network; readonly data: () => Dataset; readonly profile: () => EffortProfile; readonly batch: number }
const CASES: readonly Case[] = [
  { name: 'cifar10-quick, shipped profile, 4 images', net: () => cifar, data: () => cifarTest, profile: () => cifarProfile, batch: 4 },
  { name: 'cifar10-quick, every mechanism on every weighted layer, 4 images', net: () => cifar, data: () => cifarTest, profile: () => cifarAll, batch: 4 },
  { name: 'squeezenet-dc, shipped profile, 1 image', net: () => squeezenet, data: () => imagenet, profile: () => squeezeProfile, batch: 1 },
];

/** CPU fast traces, per case (the WebGPU suite compares against them). */
const cpuTraces = new Map<string, RunResult>();

describe('decision tracing on the CPU', () => {
  for (const c of CASES) {
    it(`${c.name}: maps count what the counters count, fast = reference, outputs bit-identical`, async () => {
      const net = c.net();
      const profile = c.profile();
      const { input } = await c.data().batch(0, c.batch);
      const fast = new CpuBackend();
      const reference = new CpuBackend({ kernels: 'reference' });
      const traced = await fast.run(net, input, c.batch, { effort: profile, traceDecisions: true });
      const plain = await fast.run(net, input, c.batch, { effort: profile });
      expect(plain.decisions).toBeUndefined();
      expect(traced.output).toEqual(plain.output);
      expect(traced.counters).toEqual(plain.counters);
      checkRecords(net, profile, traced, c.batch);
      const t = tallies(traced);
      expect(t.maps).toEqual(t.counters);
      expect(t.counters[0] + t.counters[1]).toBeGreaterThan(0);
      cpuTraces.set(c.name, traced);

      const refTraced = await reference.run(net, input, c.batch, { effort: profile, traceDecisions: true });
      const refPlain = await reference.run(net, input, c.batch, { effort: profile });
      expect(refTraced.output).toEqual(refPlain.output);
      checkRecords(net, profile, refTraced, c.batch);
      const rt = tallies(refTraced);
      expect(rt.maps).toEqual(rt.counters);
      // Both variants take the same decisions by construction: the same maps, neuron for neuron.
      expect(disagreement(refTraced.decisions ?? [], traced.decisions ?? [])).toBe(0);
    });
  }

  it('the every-mechanism profile exercises all three codes and SFMA', () => {
    const t = tallies(cpuTraces.get(CASES[1].name) as RunResult);
    expect(t.counters.every((n) => n > 0), `terminated, interpolated, approximated: ${t.counters.join(', ')}`).toBe(true);
    const all = (cpuTraces.get(CASES[1].name) as RunResult).decisions ?? [];
    expect(all.some((d) => count(d.neurons, NEURON_EVALUATED) > 0)).toBe(true);
  });

  it('dense runs return an empty list when traced, nothing otherwise', async () => {
    const { input } = await cifarTest.batch(0, 2);
    const cpu = new CpuBackend();
    expect((await cpu.run(cifar, input, 2, { traceDecisions: true })).decisions).toEqual([]);
    expect((await cpu.run(cifar, input, 2, { effort: DENSE_PROFILE, traceDecisions: true })).decisions).toEqual([]);
    expect((await cpu.run(cifar, input, 2)).decisions).toBeUndefined();
  });
});

describe('decision tracing on WebGPU', () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await openTestGpu();
  });
  afterAll(() => gpu?.destroy());

  for (const c of CASES) {
    it(`${c.name}: maps count what the GPU counters count and agree with the CPU's; outputs unchanged`, async () => {
      const net = c.net();
      const profile = c.profile();
      const { input } = await c.data().batch(0, c.batch);
      const traced = await gpu.run(net, input, c.batch, { effort: profile, traceDecisions: true });
      const plain = await gpu.run(net, input, c.batch, { effort: profile });
      expect(plain.decisions).toBeUndefined();
      expect(relativeError(traced.output, plain.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
      expect(traced.counters).toEqual(plain.counters);
      checkRecords(net, profile, traced, c.batch);
      const t = tallies(traced);
      expect(t.maps).toEqual(t.counters);
      let cpu = cpuTraces.get(c.name);
      cpu ??= await new CpuBackend().run(net, input, c.batch, { effort: profile, traceDecisions: true });
      const d = disagreement(traced.decisions ?? [], cpu.decisions ?? []);
      expect(d, `${(100 * d).toFixed(4)} % of the decisions differ from the CPU's`).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
    });
  }

  it('a batch split into chunks gives the same maps as one submission; dense runs give an empty list', async () => {
    const { input } = await cifarTest.batch(0, 3);
    const whole = await gpu.run(cifar, input, 3, { effort: cifarAll, traceDecisions: true });
    const chunked = await WebGpuBackend.create({ memoryBudget: 1 }); // one image per submission
    try {
      const parts = await chunked.run(cifar, input, 3, { effort: cifarAll, traceDecisions: true });
      expect(parts.decisions?.map((d) => d.batch)).toEqual(whole.decisions?.map(() => 3));
      expect(disagreement(parts.decisions ?? [], whole.decisions ?? [])).toBe(0);
      const t = tallies(parts);
      expect(t.maps).toEqual(t.counters);
    } finally {
      chunked.destroy();
    }
    expect((await gpu.run(cifar, input, 3, { traceDecisions: true })).decisions).toEqual([]);
    expect((await gpu.run(cifar, input, 3)).decisions).toBeUndefined();
  });
});
