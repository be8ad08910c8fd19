import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLayer } from '../src/backends/cpu/cpu-backend.js';
import type { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import type { LayerEffort } from '../src/effort/effort.js';
import { loadProfile } from '../src/effort/load-profile.js';
import type { Network } from '../src/ir/network.js';
import { packageFile } from '../src/package-root.js';
import type { LayerCounters } from '../src/records/counters.js';
import { openTestGpu } from './helpers/gpu.js';
import { loadRealModels } from './helpers/models.js';
import { capture, type Captured } from './helpers/captured-layers.js';
import { DYNAMIC_DECISION_TOLERANCE, PARITY_RELATIVE_TOLERANCE } from './tolerances.js';

/**
 * Tile mode on WebGPU (shaders/dynamic/tile-convolution.wgsl) against the float64 tile reference
 * (src/backends/cpu/dynamic/tile-reference.ts), on the inputs real images give real layers of both
 * zoo models: every mechanism alone and composed, tiles of 8 and 16 (and 1, 2, 4 on one layer). Float32
 * and float64 sums may take a different tile decision where a tested value lies within rounding of
 * its threshold: those neurons are counted and stay under DYNAMIC_DECISION_TOLERANCE; every neuron
 * decided alike is within the parity tolerance, and with identical decisions the MACs and the
 * mechanism counters are identical. Runtime is kept modest (lavapipe is slow): small batches.
 */

let gpu: WebGpuBackend;

/** Compares WebGPU with the tile reference on one layer; returns the reference's counters. */
async function expectTileParity(c: Captured, batch: number, effort: LayerEffort): Promise<LayerCounters> {
  const rectified = effort.sdss !== undefined && c.rectified;
  const ref = runLayer(c.layer, [c.input], batch, { kernels: 'reference', effort, rectified, trace: true });
  const g = await gpu.runLayer(c.layer, [c.input], batch, { effort, rectified, trace: true });
  const what = `${c.layer.name} ${JSON.stringify(effort)}`;
  const refY = ref.outputs[0];
  const gY = g.outputs[0];
  const refD = ref.decisions?.neurons ?? new Uint8Array(0);
  const gD = g.decisions?.neurons ?? new Uint8Array(0);
  expect(gD.length, what).toBe(refD.length);
  let differ = 0;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < refY.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(refY[i]));
    if (refD[i] !== gD[i]) {
      differ++;
      continue;
    }
    const d = Math.abs(refY[i] - gY[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
  }
  expect(differ / refY.length, `${what}: ${differ} neurons decided differently`).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
  const rc = ref.counters;
  const gc = g.counters;
  expect(g.dispatches.reduce((s, d) => s + d.macs, 0), what).toBe(gc.macsExecuted);
  if (differ === 0) {
    expect(maxDiff / Math.max(1e-6, maxRef), `${what}: relative error`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    expect(gc.macsExecuted, what).toBe(rc.macsExecuted);
    expect(gc.mechanisms, what).toEqual(rc.mechanisms);
  } else {
    expect(Math.abs(gc.macsExecuted - rc.macsExecuted) / rc.macsDense, what).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE * 10);
  }
  // Few dispatches: SPET's pass 1, test and compaction are one; SDSS adds one over the tiles off
  // the grid that decides and evaluates the failing ones (and SPET's pass 2 after it). SDSS alone
  // computes its grid with the dense kernel over the listed positions.
  const passes = g.dispatches.filter((d) => d.kernel === 'dynamic/tile-convolution' || d.kernel === 'convolution/dense').length;
  const expected = (effort.spet ? 2 : 1) * (effort.sdss ? 2 : 1);
  expect(passes, what).toBeLessThanOrEqual(expected);
  const denseGrid = effort.sdss !== undefined && !effort.spet && !effort.sfma;
  expect(g.dispatches.filter((d) => d.kernel === 'convolution/dense').length, what).toBe(denseGrid ? 1 : 0);
  return rc;
}

const spetT = (fraction: number, threshold: number): LayerEffort['spet'] => ({ mode: 'threshold', fraction, threshold });
const spetX = (fraction: number): LayerEffort['spet'] => ({ mode: 'exact', fraction });

/** Every mechanism alone and composed at layer scale `k`, tiles of `t`. */
function efforts(k: { spet: number; delta: number; epsilon: number }, t: number): LayerEffort[] {
  const tile = { positions: t };
  return [
    { spet: spetT(0.25, 0), tile },
    { spet: spetX(0.5), tile },
    { sdss: { stride: 2, delta: k.delta }, tile },
    { sdss: { stride: 3, delta: 0 }, tile },
    { sdss: { stride: 2, delta: k.delta, pattern: 'checkerboard' }, tile },
    { sfma: { epsilon: k.epsilon }, tile },
    { spet: spetT(0.5, k.spet), sdss: { stride: 2, delta: k.delta }, sfma: { epsilon: k.epsilon }, tile },
    { spet: spetX(0.3), sdss: { stride: 3, delta: k.delta }, sfma: { epsilon: k.epsilon }, tile },
    { spet: spetT(0.5, k.spet), sdss: { stride: 2, delta: k.delta, pattern: 'checkerboard' }, tile },
  ];
}

async function expectAllFire(c: Captured, batch: number, list: readonly LayerEffort[]): Promise<void> {
  const fired = { terminated: 0, interpolated: 0, approximated: 0 };
  for (const effort of list) {
    const m = (await expectTileParity(c, batch, effort)).mechanisms ?? {};
    fired.terminated += m.spet?.terminated ?? 0;
    fired.interpolated += m.sdss?.interpolated ?? 0;
    fired.approximated += m.sfma?.approximated ?? 0;
  }
  expect(fired.terminated, `${c.layer.name}: SPET terminated nothing`).toBeGreaterThan(0);
  expect(fired.interpolated, `${c.layer.name}: SDSS interpolated nothing`).toBeGreaterThan(0);
  expect(fired.approximated, `${c.layer.name}: SFMA approximated nothing`).toBeGreaterThan(0);
}

let cifar: Network;
let models: Awaited<ReturnType<typeof loadRealModels>>;

beforeAll(async () => {
  gpu = await openTestGpu();
  models = await loadRealModels();
  cifar = models.cifar;
});

afterAll(() => gpu?.destroy());

describe('tile mode on WebGPU against the tile reference, cifar10-quick', () => {
  const batch = 2;
  const names = ['conv1', 'conv2', 'conv3'];
  let layers: Map<string, Captured>;
  beforeAll(async () => {
    const { input } = await models.cifarTest.batch(0, batch);
    layers = await capture(cifar, input, batch, names);
  });
  const knobs: Record<string, { spet: number; delta: number; epsilon: number }> = {
    conv1: { spet: -5, delta: 10, epsilon: 5 },
    conv2: { spet: -5, delta: 20, epsilon: 1 },
    conv3: { spet: -1, delta: 3, epsilon: 1 },
  };
  for (const name of names) {
    for (const t of name === 'conv2' ? [1, 2, 4, 8, 16] : [8, 16]) {
      it(`${name}, tiles of ${t}: every mechanism alone and composed`, async () => {
        await expectAllFire(layers.get(name) as Captured, batch, efforts(knobs[name], t));
      });
    }
  }

  it('the shipped tile profile: same decisions, few dispatches per layer', async () => {
    const profile = await loadProfile(packageFile('models/cifar10-quick/effort.json'), cifar);
    for (const [name, effort] of Object.entries(profile.layers)) {
      const c = layers.get(name) as Captured;
      const m = (await expectTileParity(c, batch, effort)).mechanisms ?? {};
      expect((m.spet?.terminated ?? 0) + (m.sdss?.interpolated ?? 0) + (m.sfma?.approximated ?? 0), name).toBeGreaterThan(0);
    }
  });
});

describe('tile mode on WebGPU against the tile reference, squeezenet-dc', () => {
  // 7x7 stride 2 on the image; 1x1 squeeze; 3x3 pad 1 expand; 1x1 with pad 1 (border outputs see only padding).
  const names = ['conv1', 'fire2/conv1x1_1', 'fire2/conv3x3_2', 'fire8/conv3x3_2', 'conv_final'];
  let layers: Map<string, Captured>;
  beforeAll(async () => {
    const { input } = await models.imagenet.batch(3, 1);
    layers = await capture(models.squeezenet, input, 1, names);
  });
  for (const name of names) {
    it(`${name}, tiles of 8 and 16: the mechanisms alone and composed`, async () => {
      const c = layers.get(name) as Captured;
      let acted = 0;
      for (const t of [8, 16]) {
        const tile = { positions: t };
        const list: LayerEffort[] = name === 'conv1'
          ? [{ spet: spetT(0.5, 0), sdss: { stride: 2, delta: 20 }, tile }, { sfma: { epsilon: 1e-4 }, spet: spetX(0.67), tile }]
          : [
            { spet: spetT(0.25, 0), tile },
            { spet: spetX(0.5), tile },
            { sdss: { stride: 2, delta: 5 }, tile },
            { sfma: { epsilon: 1 }, tile },
            { spet: spetT(0.5, -2), sdss: { stride: 2, delta: 5 }, sfma: { epsilon: 1 }, tile },
          ];
        for (const effort of list) {
          const m = (await expectTileParity(c, 1, effort)).mechanisms ?? {};
          acted += (m.spet?.terminated ?? 0) + (m.sdss?.interpolated ?? 0) + (m.sfma?.approximated ?? 0);
        }
      }
      expect(acted, `${name}: no mechanism acted`).toBeGreaterThan(0);
    });
  }
});
