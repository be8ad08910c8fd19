import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayerCounters } from '../src/records/counters.js';
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import type { Dataset } from '../src/data/dataset-types.js';
import type { LayerEffort } from '../src/effort/effort.js';
import { loadProfile } from '../src/effort/load-profile.js';
import { DENSE_PROFILE } from '../src/effort/profile.js';
import { feedsRelu } from '../src/ir/relu-reach.js';
import { argmax } from '../src/evaluation/top-k.js';
import { loadNetwork } from '../src/formats/load-network.js';
import type { Layer, Network } from '../src/ir/network.js';
import { packageFile } from '../src/package-root.js';
import { tempFile } from './helpers/files.js';
import { openTestGpu } from './helpers/gpu.js';
import { loadRealModels } from './helpers/models.js';
import { VARIANTS_PROTOTXT } from './helpers/variants.js';
import { DYNAMIC_DECISION_TOLERANCE, PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

interface Captured {
  readonly layer: Layer;
  readonly inputs: Float32Array[];
  readonly outputs: Float32Array[];
}

/** Every layer's exact inputs and outputs of a CPU reference run. */
async function capture(net: Network, dataset: Dataset, batch: number): Promise<Captured[]> {
  const { input } = await dataset.batch(0, batch);
  const captured: Captured[] = [];
  new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, {
    onLayer: (layer, inputs, outputs) => captured.push({ layer, inputs: inputs.map((a) => a.slice()), outputs: outputs.map((a) => a.slice()) }),
  });
  return captured;
}

/** Predictions of `count` images from `first`, batch by batch. */
async function predictions(net: Network, data: Dataset, run: (input: Float32Array, n: number) => Promise<Float32Array>, count: number, batch: number): Promise<{ pred: Int32Array; correct: number }> {
  const pred = new Int32Array(count);
  let correct = 0;
  for (let first = 0; first < count; first += batch) {
    const { input, labels } = await data.batch(first, Math.min(batch, count - first));
    const out = await run(input, labels.length);
    const classes = out.length / labels.length;
    for (let i = 0; i < labels.length; i++) {
      pred[first + i] = argmax(out, i * classes, classes);
      if (pred[first + i] === labels[i]) correct++;
    }
  }
  return { pred, correct };
}

/** Fraction of values that differ by more than the parity tolerance (relative to the largest). */
function decisionMismatch(a: Float32Array, ref: Float32Array): number {
  let max = 0;
  for (const v of ref) max = Math.max(max, Math.abs(v));
  let bad = 0;
  for (let i = 0; i < ref.length; i++) if (!(Math.abs(a[i] - ref[i]) <= PARITY_RELATIVE_TOLERANCE * Math.max(1e-6, max))) bad++;
  return bad / ref.length;
}

function mechanismCounts(c: LayerCounters): number[] {
  const m = c.mechanisms ?? {};
  return [m.spet?.neurons ?? 0, m.spet?.terminated ?? 0, m.sdss?.interpolated ?? 0, m.sfma?.approximated ?? 0];
}

let gpu: WebGpuBackend;
let cifar: Network;
let cifarTest: Dataset;
let squeezenet: Network;
let imagenet: Dataset;

beforeAll(async () => {
  gpu = await openTestGpu();
  ({ cifar, cifarTest, squeezenet, imagenet } = await loadRealModels());
});

afterAll(() => gpu?.destroy());

describe('WebGPU dense kernels equal the CPU reference on every layer of the real models', () => {
  it('names a real adapter', () => {
    expect(gpu.adapterName.length).toBeGreaterThan(0);
  });

  for (const [model, batch] of [['cifar10-quick', 4], ['squeezenet-dc', 1]] as const) {
    it(`${model}, ${batch} image(s), each layer on the reference run's inputs`, async () => {
      const net = model === 'cifar10-quick' ? cifar : squeezenet;
      const captured = await capture(net, model === 'cifar10-quick' ? cifarTest : imagenet, batch);
      for (const c of captured) {
        const r = await gpu.runLayer(c.layer, c.inputs, batch);
        c.outputs.forEach((expected, i) => {
          const err = relativeError(r.outputs[i], expected);
          expect(err, `${c.layer.name} (${c.layer.params.type}) top ${i}: relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
        });
        expect(r.counters.macsExecuted, c.layer.name).toBe(r.counters.macsDense);
      }
      const types = new Set(captured.map((c) => c.layer.params.type));
      expect([...types].sort()).toEqual(model === 'cifar10-quick'
        ? ['Convolution', 'InnerProduct', 'Pooling', 'ReLU', 'Softmax']
        : ['Concat', 'Convolution', 'Dropout', 'Pooling', 'ReLU']);
    });
  }

  it('cifar10-quick whole network: top-1 equals the CPU on >= 99.9 % of 1,000 test images', async () => {
    const cpu = new CpuBackend();
    const a = await predictions(cifar, cifarTest, async (x, n) => (await gpu.run(cifar, x, n)).output, 1000, 100);
    const b = await predictions(cifar, cifarTest, async (x, n) => (await cpu.run(cifar, x, n)).output, 1000, 100);
    const agree = a.pred.filter((p, i) => p === b.pred[i]).length;
    expect(agree / 1000).toBeGreaterThanOrEqual(0.999);
    expect(Math.abs(a.correct - b.correct)).toBeLessThanOrEqual(1);
  });

  it('concurrent runs of one plan queue behind each other and each gets its own results', async () => {
    const a = (await cifarTest.batch(0, 8)).input;
    const b = (await cifarTest.batch(8, 8)).input;
    const [ra, rb] = await Promise.all([gpu.run(cifar, a, 8), gpu.run(cifar, b, 8)]);
    const cpu = new CpuBackend();
    expect(relativeError(ra.output, (await cpu.run(cifar, a, 8)).output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    expect(relativeError(rb.output, (await cpu.run(cifar, b, 8)).output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  });

  it('alexnet, synthetic weights (groups, LRN, fc6 split over several bindings) matches the CPU on an unseen architecture', async () => {
    const net = await loadNetwork(packageFile('models/alexnet/deploy.prototxt'), { kind: 'synthetic', seed: 3 });
    const input = new Float32Array(3 * 227 * 227).map((_, i) => 50 * Math.sin(i * 0.37));
    const ref = await new CpuBackend().run(net, input, 1);
    const r = await gpu.run(net, input, 1);
    expect(relativeError(r.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    const fc6 = (r.dispatches ?? []).filter((d) => d.layer === 'fc6');
    const fc6Bytes = 4096 * 9216 * 4;
    expect(fc6.length).toBe(Math.ceil(fc6Bytes / gpu.device.limits.maxStorageBufferBindingSize));
    expect(fc6.reduce((s, d) => s + d.macs, 0)).toBe(4096 * 9216);
  });

  it('a network of every layer variant (dilation, groups, leaky ReLU, WITHIN_CHANNEL LRN, AVE pads, split, flatten) matches the CPU', async () => {
    const prototxt = VARIANTS_PROTOTXT;
    const net = await loadNetwork(tempFile('variants.prototxt', prototxt), { kind: 'synthetic', seed: 5 });
    const input = new Float32Array(3 * 4 * 15 * 13).map((_, i) => Math.cos(i * 0.71) * 3);
    const ref = await new CpuBackend({ kernels: 'reference' }).run(net, input, 3);
    const r = await gpu.run(net, input, 3);
    expect(relativeError(r.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    const captured: Captured[] = [];
    new CpuBackend({ kernels: 'reference' }).runSync(net, input, 3, {
      onLayer: (layer, inputs, outputs) => captured.push({ layer, inputs: inputs.map((a) => a.slice()), outputs: outputs.map((a) => a.slice()) }),
    });
    for (const c of captured) {
      const lone = await gpu.runLayer(c.layer, c.inputs, 3);
      c.outputs.forEach((expected, i) => expect(relativeError(lone.outputs[i], expected), `${c.layer.name} top ${i}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE));
    }
  });

  it('squeezenet-dc whole network (fused ReLUs, concat, chunked batch) matches the CPU reference', async () => {
    const { input } = await imagenet.batch(0, 2);
    const ref = await new CpuBackend().run(squeezenet, input, 2);
    const r = await gpu.run(squeezenet, input, 2);
    expect(relativeError(r.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    expect(r.counters.map((c) => c.macsExecuted)).toEqual(ref.counters.map((c) => c.macsExecuted));
  });
});

describe('WebGPU dynamic kernels take the CPU decisions on real layers', () => {
  const settings: Record<string, LayerEffort> = {
    'SPET threshold': { spet: { mode: 'threshold', fraction: 0.5, threshold: -5 } },
    'SPET exact': { spet: { mode: 'exact', fraction: 0.25 } },
    SDSS: { sdss: { stride: 2, delta: 0.5 } },
    'SDSS stride 3': { sdss: { stride: 3, delta: 2 } },
    SFMA: { sfma: { epsilon: 0.5 } },
    all: { spet: { mode: 'threshold', fraction: 0.5, threshold: -5 }, sdss: { stride: 2, delta: 0.5 }, sfma: { epsilon: 0.5 } },
    'all, exact': { spet: { mode: 'exact', fraction: 0.25 }, sdss: { stride: 3, delta: 1 }, sfma: { epsilon: 1 } },
  };

  async function checkLayers(net: Network, captured: Captured[], names: readonly string[], batch: number, only?: (e: LayerEffort) => boolean) {
    let checked = 0;
    for (const c of captured.filter((x) => names.includes(x.layer.name))) {
      for (const [label, effort] of Object.entries(settings)) {
        if (only && !only(effort)) continue;
        if (c.layer.params.type === 'InnerProduct' && (effort.sdss || effort.sfma)) continue;
        const rectified = effort.sdss !== undefined && feedsRelu(net, c.layer);
        const cpu = runLayer(c.layer, c.inputs, batch, { kernels: 'fast', effort, rectified });
        const g = await gpu.runLayer(c.layer, c.inputs, batch, { effort, rectified });
        const what = `${c.layer.name} ${label}`;
        expect(decisionMismatch(g.outputs[0], cpu.outputs[0]), what).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
        // SPET's survivors are compacted and finished apart: the MACs of per-neuron termination.
        expect(Math.abs(g.counters.macsExecuted - cpu.counters.macsExecuted) / cpu.counters.macsDense, what).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
        expect(g.dispatches.reduce((s, d) => s + d.macs, 0), what).toBe(g.counters.macsExecuted);
        const [gn, gt, gi, ga] = mechanismCounts(g.counters);
        const [cn, ct, ci, ca] = mechanismCounts(cpu.counters);
        const slack = DYNAMIC_DECISION_TOLERANCE * cpu.outputs[0].length;
        for (const [x, y, name] of [[gn, cn, 'SPET neurons'], [gt, ct, 'SPET terminated'], [gi, ci, 'SDSS interpolated']] as const) {
          expect(Math.abs(x - y), `${what}: ${name} ${x} vs ${y}`).toBeLessThanOrEqual(slack);
        }
        expect(ga, `${what}: SFMA maps`).toBe(ca);
        if (effort.sdss) expect(g.dispatches.some((d) => d.mode === 'indirect'), what).toBe(true);
        checked++;
      }
    }
    return checked;
  }

  it('cifar10-quick conv1-3 and ip1, every mechanism alone and together (8 images)', async () => {
    const captured = await capture(cifar, cifarTest, 8);
    expect(await checkLayers(cifar, captured, ['conv1', 'conv2', 'conv3', 'ip1'], 8)).toBe(3 * 7 + 2);
  });

  it('squeezenet-dc fire4 and conv_final, with the shipped profile and every mechanism (1 image)', async () => {
    const captured = await capture(squeezenet, imagenet, 1);
    const profile = await loadProfile(packageFile('models/squeezenet-dc/effort-neuron.json'), squeezenet);
    for (const c of captured) {
      const effort = profile.layers[c.layer.name];
      if (!effort) continue;
      const cpu = runLayer(c.layer, c.inputs, 1, { kernels: 'fast', effort, rectified: false });
      const g = await gpu.runLayer(c.layer, c.inputs, 1, { effort, rectified: false });
      expect(decisionMismatch(g.outputs[0], cpu.outputs[0]), c.layer.name).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
    }
    expect(await checkLayers(squeezenet, captured, ['fire4/conv3x3_2', 'conv_final'], 1, (e) => e.sfma === undefined || e.spet === undefined)).toBe(2 * 5);
  });

  it('other tile sizes (WG, PX override constants) take the same decisions', async () => {
    const captured = (await capture(cifar, cifarTest, 8)).filter((c) => c.layer.name === 'conv2');
    const effort = settings.all;
    const cpu = runLayer(captured[0].layer, captured[0].inputs, 8, { kernels: 'fast', effort, rectified: true });
    for (const WG of [16, 64]) {
      const wide = await WebGpuBackend.create({ tuning: { 'dynamic/convolution': { WG, PX: 2 } } });
      try {
        const g = await wide.runLayer(captured[0].layer, captured[0].inputs, 8, { effort, rectified: true });
        expect(decisionMismatch(g.outputs[0], cpu.outputs[0]), `WG ${WG}`).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
        expect(Math.abs(g.counters.macsExecuted - cpu.counters.macsExecuted) / cpu.counters.macsDense).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
      } finally {
        wide.destroy();
      }
    }
  });

  it('cifar10-quick calibrated profile, 2,000 test images: top-1 within 0.2 pp of the CPU, MAC reduction within 1 %', async () => {
    const profile = await loadProfile(packageFile('models/cifar10-quick/effort-neuron.json'), cifar);
    const cpu = new CpuBackend();
    let gpuMacs = [0, 0];
    let cpuMacs = [0, 0];
    const tally = (acc: number[], counters: readonly LayerCounters[]) => counters.reduce((s, c) => [s[0] + c.macsDense, s[1] + c.macsExecuted], acc);
    const a = await predictions(cifar, cifarTest, async (x, n) => {
      const r = await gpu.run(cifar, x, n, { effort: profile });
      gpuMacs = tally(gpuMacs, r.counters);
      return r.output;
    }, 2000, 100);
    const b = await predictions(cifar, cifarTest, async (x, n) => {
      const r = await cpu.run(cifar, x, n, { effort: profile });
      cpuMacs = tally(cpuMacs, r.counters);
      return r.output;
    }, 2000, 100);
    expect(Math.abs(a.correct - b.correct) / 2000).toBeLessThanOrEqual(0.002);
    const gpuReduction = gpuMacs[0] / gpuMacs[1];
    const cpuReduction = cpuMacs[0] / cpuMacs[1];
    expect(gpuReduction).toBeGreaterThan(1.2);
    expect(Math.abs(gpuReduction - cpuReduction) / cpuReduction).toBeLessThanOrEqual(0.01);
  });

  it('records every dispatch (kernel, direct or indirect, workgroups, MACs); SPET survivors and SDSS failures run indirectly', async () => {
    const profile = await loadProfile(packageFile('models/cifar10-quick/effort-neuron.json'), cifar);
    const { input } = await cifarTest.batch(0, 16);
    const r = await gpu.run(cifar, input, 16, { effort: profile });
    const d = r.dispatches ?? [];
    const conv2 = d.filter((x) => x.layer === 'conv2');
    // SPET's significant part over the grid, compaction, the survivors' rest (indirect); SDSS's
    // decision and compaction; the same two SPET phases over SDSS's failing neurons (indirect).
    expect(conv2.map((x) => `${x.kernel}:${x.mode}`)).toEqual([
      'dynamic/convolution:direct', 'dynamic/sdss-indirect-args:direct', 'dynamic/convolution:indirect',
      'dynamic/sdss-decide:direct', 'dynamic/sdss-indirect-args:direct',
      'dynamic/convolution:indirect', 'dynamic/sdss-indirect-args:direct', 'dynamic/convolution:indirect',
    ]);
    for (const x of d) expect(x.workgroupsExecuted, `${x.layer} ${x.kernel}`).toBeLessThanOrEqual(x.workgroupsRequested);
    const indirect = conv2.filter((x) => x.mode === 'indirect');
    for (const x of indirect) expect(x.workgroupsRequested).toBeGreaterThan(0); // written by the GPU, read back
    const macs = (layer: string) => d.filter((x) => x.layer === layer).reduce((s, x) => s + x.macs, 0);
    for (const c of r.counters) expect(macs(c.name), c.name).toBe(c.macsExecuted);
    expect(d.find((x) => x.layer === 'relu2')).toBeUndefined(); // fused into conv2
    const dense = await gpu.run(cifar, input, 16, { effort: DENSE_PROFILE });
    expect(dense.dispatches?.every((x) => x.mode === 'direct')).toBe(true);
  });
});
