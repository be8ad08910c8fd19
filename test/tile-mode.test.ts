import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerCounters } from '../src/records/counters.js';
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.js';
import { cifar10Dataset } from '../src/data/dataset.js';
import { loadRealModels } from './helpers/models.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import { SDSS_PATTERNS, type LayerEffort } from '../src/effort/effort.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import type { Layer, Network } from '../src/ir/network.js';
import { NEURON_EVALUATED } from '../src/records/decisions.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from './helpers/files.js';
import { capture, type Captured } from './helpers/captured-layers.js';
import { DYNAMIC_DECISION_TOLERANCE, PARITY_RELATIVE_TOLERANCE } from './tolerances.js';
import { validateProfile } from '../src/effort/profile.js';
import { loadProfile } from '../src/effort/load-profile.js';
import { packageFile } from '../src/package-root.js';
import { ParallelBackend } from '../src/threads/parallel-backend.js';
import { planSplit } from '../src/threads/layer-split.js';
import { sumCounters } from '../src/records/counters.js';
import { fitTileSpet } from '../src/calibration/tile-thresholds.js';
import { convLayer, randomArray } from './helpers/synthetic-layers.js';
import { checkerboardOrder } from '../src/mechanisms/tile-plan.js';

/**
 * Tile mode (src/mechanisms/tile-plan.ts): the fast paths (the WebAssembly float32 kernels and the
 * TypeScript loops) against the float64 tile reference, on the inputs real images give real layers
 * of both zoo models; every mechanism alone and composed, several tile sizes, both SIMD builds.
 * Sums in another order and precision may take a different tile decision where a tested value
 * lies within rounding of its threshold: those neurons are counted and must stay under
 * DYNAMIC_DECISION_TOLERANCE; every neuron both decided alike is within the parity tolerance, and
 * with identical decisions the MACs are identical.
 */

interface TileRun {
  readonly y: Float32Array;
  readonly counts: LayerCounters;
  readonly decisions: Uint8Array;
}

function run(c: Captured, batch: number, effort: LayerEffort, kernels: 'reference' | 'wasm' | 'fast'): TileRun {
  const r = runLayer(c.layer, [c.input], batch, { kernels, effort, rectified: c.rectified, trace: true });
  return { y: r.outputs[0], counts: r.counters, decisions: r.decisions?.neurons ?? new Uint8Array(0) };
}

/** Compares both tile-mode fast paths (WebAssembly, TypeScript) with the reference; returns the reference run. */
function expectTileParity(c: Captured, batch: number, effort: LayerEffort): TileRun {
  const ref = run(c, batch, effort, 'reference');
  for (const kernels of ['wasm', 'fast'] as const) expectSameTiles(c, effort, ref, run(c, batch, effort, kernels), kernels);
  return ref;
}

function expectSameTiles(c: Captured, effort: LayerEffort, ref: TileRun, fast: TileRun, kernels: string): void {
  const what = `${kernels} ${c.layer.name} ${JSON.stringify(effort)}`;
  let differ = 0;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.y.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref.y[i]));
    if (ref.decisions[i] !== fast.decisions[i]) {
      differ++;
      continue;
    }
    // A neuron SDSS interpolated from a neighbour decided differently is off by that neighbour.
    const d = Math.abs(ref.y[i] - fast.y[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
  }
  expect(differ / ref.y.length, `${what}: ${differ} neurons decided differently`).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
  if (differ === 0) {
    expect(maxDiff / Math.max(1e-6, maxRef), `${what}: relative error`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    expect(fast.counts.macsExecuted, what).toBe(ref.counts.macsExecuted);
    expect(fast.counts.otherOps, what).toBe(ref.counts.otherOps);
    expect(fast.counts.mechanisms, what).toEqual(ref.counts.mechanisms);
  } else {
    expect(Math.abs(fast.counts.macsExecuted - ref.counts.macsExecuted) / ref.counts.macsDense, what).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE * 10);
  }
}

/** cifar10-quick and the first `count` images of a CIFAR-10 binary batch (`file`: test_batch, data_batch_1). */
async function cifarImages(file: string, count: number): Promise<{ net: Network; input: Float32Array }> {
  const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
  const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
  const data = await cifar10Dataset(`${DATA}/cifar10/${file}.bin`, { channels: 'rgb', mean }, net.inputShape);
  return { net, input: (await data.batch(0, count)).input };
}

const spetT = (fraction: number, threshold: number): LayerEffort['spet'] => ({ mode: 'threshold', fraction, threshold });
const spetX = (fraction: number): LayerEffort['spet'] => ({ mode: 'exact', fraction });

/** Knobs that make every mechanism fire at layer scale `k`, with tile size `t`. */
function efforts(k: { spet: number; delta: number; epsilon: number }, t: number): LayerEffort[] {
  const tile = { positions: t };
  return [
    { spet: spetT(0.25, 0), tile },
    { spet: spetT(0.5, k.spet), tile },
    { spet: spetX(0.5), tile },
    { sdss: { stride: 2, delta: k.delta }, tile },
    { sdss: { stride: 3, delta: 0 }, tile },
    { sfma: { epsilon: k.epsilon }, tile },
    { spet: spetT(0.5, k.spet), sdss: { stride: 2, delta: k.delta }, tile },
    { spet: spetT(0.34, 0), sfma: { epsilon: k.epsilon }, tile },
    { spet: spetT(0.5, k.spet), sdss: { stride: 2, delta: k.delta }, sfma: { epsilon: k.epsilon }, tile },
    { spet: spetX(0.3), sdss: { stride: 3, delta: k.delta }, sfma: { epsilon: k.epsilon }, tile },
    { sdss: { stride: 2, delta: k.delta, pattern: 'checkerboard' }, tile },
    { spet: spetT(0.5, k.spet), sdss: { stride: 2, delta: k.delta, pattern: 'checkerboard' }, sfma: { epsilon: k.epsilon }, tile },
  ];
}

function expectAllFire(c: Captured, batch: number, list: readonly LayerEffort[]): void {
  const fired = { terminated: 0, interpolated: 0, approximated: 0 };
  for (const effort of list) {
    const ref = expectTileParity(c, batch, effort);
    const m = ref.counts.mechanisms ?? {};
    fired.terminated += m.spet?.terminated ?? 0;
    fired.interpolated += m.sdss?.interpolated ?? 0;
    fired.approximated += m.sfma?.approximated ?? 0;
    // The trace is at tile granularity: without SDSS every tile of T consecutive positions of a
    // map has one decision.
    const t = effort.tile?.positions ?? 1;
    if (!effort.sdss && t > 1) {
      const positions = c.layer.outputShapes[0].h * c.layer.outputShapes[0].w;
      for (let map = 0; map < ref.decisions.length / positions; map++) {
        for (let p0 = 0; p0 < positions; p0 += t) {
          const tileDecisions = new Set(ref.decisions.subarray(map * positions + p0, map * positions + Math.min(positions, p0 + t)));
          expect(tileDecisions.size, `${c.layer.name} ${JSON.stringify(effort)}: map ${map}, tile at ${p0}`).toBe(1);
        }
      }
    }
    expect(ref.decisions.some((d) => d !== NEURON_EVALUATED) || !(m.spet?.terminated || m.sdss?.interpolated)).toBe(true);
  }
  expect(fired.terminated, `${c.layer.name}: SPET terminated nothing`).toBeGreaterThan(0);
  expect(fired.interpolated, `${c.layer.name}: SDSS interpolated nothing`).toBeGreaterThan(0);
  expect(fired.approximated, `${c.layer.name}: SFMA approximated nothing`).toBeGreaterThan(0);
}

beforeAll(async () => {
  await initWasmKernels('simd');
});

describe('tile mode: WebAssembly and TypeScript kernels against the tile reference, cifar10-quick', () => {
  const batch = 2;
  let layers: Map<string, Captured>;
  beforeAll(async () => {
    const { net, input } = await cifarImages('data_batch_1', batch);
    layers = await capture(net, input, batch, ['conv1', 'conv2', 'conv3']);
  });

  const knobs: Record<string, { spet: number; delta: number; epsilon: number }> = {
    conv1: { spet: -5, delta: 10, epsilon: 5 },
    conv2: { spet: -5, delta: 20, epsilon: 1 },
    conv3: { spet: -1, delta: 3, epsilon: 1 },
  };
  for (const name of ['conv1', 'conv2', 'conv3']) {
    for (const t of [1, 2, 4, 8, 16]) {
      it(`${name}, tiles of ${t}: every mechanism alone and composed`, () => {
        expectAllFire(layers.get(name) as Captured, batch, efforts(knobs[name], t));
      });
    }
  }
});

describe('tile mode: WebAssembly and TypeScript kernels against the tile reference, squeezenet-dc', () => {
  // 7x7 stride 2 on the image; 1x1 squeeze; 3x3 pad 1 expand; 1x1 with pad 1 (its border outputs
  // see only padding). The reference loops take seconds on the big layers: composed knobs there.
  const names = ['conv1', 'fire2/conv1x1_1', 'fire2/conv3x3_2', 'fire8/conv3x3_2', 'conv_final'];
  let layers: Map<string, Captured>;
  beforeAll(async () => {
    const { squeezenet, imagenet } = await loadRealModels();
    const { input } = await imagenet.batch(3, 1);
    layers = await capture(squeezenet, input, 1, names);
  });

  for (const name of names) {
    for (const t of [1, 2, 8]) {
      it(`${name}, tiles of ${t}: the mechanisms alone and composed`, () => {
        const c = layers.get(name) as Captured;
        const tile = { positions: t };
        const list: LayerEffort[] = name === 'conv1'
          ? [{ spet: spetT(0.5, 0), sdss: { stride: 2, delta: 20 }, tile }, { sfma: { epsilon: 1e-4 }, spet: spetX(0.67), tile }]
          : [
            { spet: spetT(0.25, 0), tile },
            { spet: spetX(0.5), tile },
            { sdss: { stride: 2, delta: 5 }, tile },
            { sfma: { epsilon: 1 }, tile },
            { spet: spetT(0.5, -2), sdss: { stride: 2, delta: 5 }, sfma: { epsilon: 1 }, tile },
            { spet: spetX(0.5), sdss: { stride: 2, delta: 5, pattern: 'checkerboard' }, tile },
          ];
        let acted = 0;
        for (const effort of list) {
          const m = expectTileParity(c, 1, effort).counts.mechanisms ?? {};
          acted += (m.spet?.terminated ?? 0) + (m.sdss?.interpolated ?? 0) + (m.sfma?.approximated ?? 0);
        }
        expect(acted, `${name}: no mechanism acted`).toBeGreaterThan(0);
      });
    }
  }
});

describe('tile mode: WebAssembly and TypeScript kernels against the tile reference, shapes no zoo layer has', () => {
  // The wasm SDSS test runs four output channels at a time: counts that are not a multiple of
  // four (alone and per group) leave lanes over; odd map sizes put the grid's last row and
  // column next to the regular ones; tiles of 40 are wider than any map row; tiles of 2 and 4 run
  // SDSS alone on channels-last planes, whose windows the strides and the row dilation move.
  // Rectified inputs, as after a ReLU, so whole regions agree.
  const shapes = [
    { name: '7 channels, 13x11 maps', input: { c: 5, h: 15, w: 13 }, conv: { numOutput: 7, kernelH: 3, kernelW: 3 } },
    { name: '2 groups of 3 channels, pad 1', input: { c: 4, h: 12, w: 17 }, conv: { numOutput: 6, kernelH: 3, kernelW: 3, padH: 1, padW: 1, group: 2 } },
    {
      name: '6 channels, stride 2, rows dilated by 2', input: { c: 3, h: 23, w: 21 },
      conv: { numOutput: 6, kernelH: 3, kernelW: 2, strideH: 2, strideW: 2, padH: 1, padW: 1, dilationH: 2 },
    },
    // Maps one row high and one column wide: the checkerboard's corners have one neighbour.
    { name: '5 channels, 1x10 maps', input: { c: 3, h: 3, w: 12 }, conv: { numOutput: 5, kernelH: 3, kernelW: 3 } },
    { name: '5 channels, 9x1 maps', input: { c: 3, h: 11, w: 2 }, conv: { numOutput: 5, kernelH: 3, kernelW: 2 } },
  ];
  for (const s of shapes) {
    for (const t of [2, 4, 8, 16, 40]) {
      it(`${s.name}, tiles of ${t}: SDSS alone and with SPET and SFMA`, () => {
        const layer = convLayer(s.input, s.conv, 11);
        const batch = 2;
        const input = randomArray(batch * s.input.c * s.input.h * s.input.w, 5).map((v) => Math.max(v, 0));
        const c: Captured = { layer, input, rectified: true };
        const tile = { positions: t };
        let interpolated = 0;
        for (const effort of [
          { sdss: { stride: 2, delta: 0.3 }, tile },
          { sdss: { stride: 3, delta: 0.5 }, tile },
          { spet: spetT(0.5, 0), sdss: { stride: 2, delta: 0.3 }, sfma: { epsilon: 0.5 }, tile },
          { sdss: { stride: 2, delta: 0.3, pattern: 'checkerboard' }, tile },
          { spet: spetT(0.5, 0), sdss: { stride: 2, delta: 0.3, pattern: 'checkerboard' }, sfma: { epsilon: 0.5 }, tile },
        ] as LayerEffort[]) {
          interpolated += expectTileParity(c, batch, effort).counts.mechanisms?.sdss?.interpolated ?? 0;
        }
        expect(interpolated, `${s.name}: SDSS interpolated nothing`).toBeGreaterThan(0);
      });
    }
  }
});

describe('tile mode: SDSS\'s small tiles when SFMA drops maps in some images only', () => {
  // Tiles of 2 and 4 read the weight rows channels last: the layer's cached rows for an image that
  // keeps every map, its kept maps' rows for one that drops some. Image 1 drops two maps, images 0
  // and 2 drop none: image 2 must not see image 1's rows.
  for (const group of [1, 2]) {
    for (const t of [2, 4]) {
      it(`${group} group(s), tiles of ${t}`, () => {
        const shape = { c: 6, h: 12, w: 12 };
        const layer = convLayer(shape, { numOutput: 8, kernelH: 3, kernelW: 3, padH: 1, padW: 1, group }, 7);
        const batch = 3;
        const plane = shape.h * shape.w;
        const input = randomArray(batch * shape.c * plane, 3).map((v) => Math.max(v, 0));
        for (const c of [0, 4]) input.fill(0.7, (shape.c + c) * plane, (shape.c + c + 1) * plane);
        const c: Captured = { layer, input, rectified: true };
        const tile = { positions: t };
        for (const pattern of ['square', 'checkerboard'] as const) {
          const ref = expectTileParity(c, batch, { sdss: { stride: 2, delta: 0.3, pattern }, sfma: { epsilon: 1e-6 }, tile });
          expect(ref.counts.mechanisms?.sfma?.approximated, pattern).toBe(2);
          expect(ref.counts.mechanisms?.sdss?.interpolated, pattern).toBeGreaterThan(0);
        }
      });
    }
  }
});

describe('tile mode: SDSS on NaN and infinite values', () => {
  // A 1x1 convolution passes special inputs to its outputs, grid neurons included: a NaN neighbour
  // fails the test, two infinite ones agree only under an infinite delta (their difference is
  // infinite, or NaN for +inf and -inf, whose mean is NaN and fails too).
  it('the fast paths take the tile reference\'s decisions and write the same values', () => {
    const shape = { c: 2, h: 9, w: 12 };
    const layer = convLayer(shape, { numOutput: 6, kernelH: 1, kernelW: 1 }, 3);
    const input = randomArray(shape.c * shape.h * shape.w, 7).map((v) => Math.round(Math.max(v, 0) * 4) / 4);
    const special = [NaN, Infinity, -Infinity, Infinity];
    for (let i = 0; i < input.length; i += 5) input[i] = special[(i / 5) % special.length];
    const same = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a)) : Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)));
    let interpolated = 0;
    for (const rectified of [false, true]) {
      for (const delta of [0.5, Infinity]) {
        // Tiles of 1 keep the pairwise test (wasm/assembly/tile-convolution.ts, agree): two equal
        // infinite neighbours fail it under an infinite delta.
        for (const t of delta === Infinity ? [2, 4, 8] : [1, 2, 4, 8]) {
          for (const pattern of SDSS_PATTERNS) {
            const effort: LayerEffort = { sdss: { stride: 2, delta, pattern }, tile: { positions: t } };
            const c: Captured = { layer, input, rectified };
            const ref = run(c, 1, effort, 'reference');
            interpolated += ref.counts.mechanisms?.sdss?.interpolated ?? 0;
            for (const kernels of ['wasm', 'fast'] as const) {
              const fast = run(c, 1, effort, kernels);
              const what = `${kernels}, ${pattern}, rectified ${rectified}, delta ${delta}, tiles of ${t}`;
              expect(Array.from(fast.decisions), what).toEqual(Array.from(ref.decisions));
              const wrong = ref.y.findIndex((v, i) => !same(v, fast.y[i]));
              expect(wrong, `${what}: output ${wrong}: ${ref.y[wrong]} vs ${fast.y[wrong]}`).toBe(-1);
            }
          }
        }
      }
    }
    expect(interpolated).toBeGreaterThan(0);
  });
});

describe('tile mode, whole network: the shipped cifar10-quick profile', () => {
  it('the TypeScript and WebAssembly backends take the tile reference\'s decisions and predictions on 16 test images', async () => {
    const batch = 16;
    const { net, input } = await cifarImages('test_batch', batch);
    const profile = await loadProfile(packageFile('models/cifar10-quick/effort.json'), net);
    expect(Object.values(profile.layers).some((e) => e.tile)).toBe(true);
    const runs = new Map<string, Awaited<ReturnType<CpuBackend['run']>>>();
    for (const kernels of ['reference', 'fast', 'wasm'] as const) {
      runs.set(kernels, await new CpuBackend({ kernels }).run(net, input, batch, { effort: profile, traceDecisions: true }));
    }
    const ref = runs.get('reference')!;
    const classes = ref.output.length / batch;
    const top1 = (out: Float32Array) => Array.from({ length: batch }, (_, i) => {
      const row = out.subarray(i * classes, (i + 1) * classes);
      return row.indexOf(Math.max(...row));
    });
    for (const kernels of ['fast', 'wasm']) {
      const r = runs.get(kernels)!;
      expect(top1(r.output), kernels).toEqual(top1(ref.output));
      ref.decisions!.forEach((d, i) => {
        const other = r.decisions![i].neurons;
        const differ = d.neurons.reduce((n, v, j) => n + (v === other[j] ? 0 : 1), 0);
        expect(differ / Math.max(1, d.neurons.length), `${kernels} ${d.layer}`).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
      });
      const macs = (run: typeof r) => run.counters.reduce((n, c) => n + c.macsExecuted, 0);
      const dense = ref.counters.reduce((n, c) => n + c.macsDense, 0);
      expect(Math.abs(macs(r) - macs(ref)) / dense, kernels).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE * 10);
      expect(macs(r), kernels).toBeLessThan(dense);
    }
  });
});

describe('tile mode on worker threads', () => {
  it.each(['wasm', 'fast'] as const)('%s kernels: 2 threads split the batch by images and give what one thread gives on the same slices, bit for bit', async (kernels) => {
    const { net, input } = await cifarImages('test_batch', 12);
    const profile = validateProfile({
      layers: {
        conv1: { sdss: { stride: 2, delta: 10 }, tile: { positions: 8 } },
        conv2: { spet: spetT(0.5, -5), sdss: { stride: 2, delta: 20 }, sfma: { epsilon: 1 }, tile: { positions: 1 } },
        conv3: { spet: spetT(0.375, -1), tile: { positions: 16 } },
      },
    }, net);
    const parallel = await ParallelBackend.create({ threads: 2, kernels });
    try {
      const r = await parallel.run(net, input, 12, { effort: profile, traceDecisions: true });
      const one = new CpuBackend({ kernels });
      const a = await one.run(net, input.slice(0, 6 * 3072), 6, { effort: profile, traceDecisions: true });
      const b = await one.run(net, input.slice(6 * 3072), 6, { effort: profile, traceDecisions: true });
      expect(r.output).toEqual(new Float32Array([...a.output, ...b.output]));
      expect(r.counters).toEqual(a.counters.map((c, i) => sumCounters(c, b.counters[i])));
      expect(r.decisions?.[1].neurons).toEqual(new Uint8Array([...a.decisions![1].neurons, ...b.decisions![1].neurons]));
      const conv2 = r.counters.find((c) => c.name === 'conv2');
      expect(conv2?.macsExecuted).toBeLessThan(conv2?.macsDense ?? 0);
    } finally {
      await parallel.close();
    }
  });

  it('a batch of one runs a tile-mode layer whole (its channel order and thresholds belong to the whole layer)', async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    const conv2 = net.layers.find((l) => l.name === 'conv2') as Layer;
    expect(planSplit(conv2, { spet: spetT(0.5, 0) }, 2, 'wasm')).not.toBeNull();
    expect(planSplit(conv2, { spet: spetT(0.5, 0), tile: { positions: 8 } }, 2, 'wasm')).toBeNull();
  });
});

describe('tile-mode SPET thresholds fitted per output channel', () => {
  it('on the images they were fitted on, the skipped tiles hold at most the loss budget of each channel\'s ReLU output', async () => {
    const batch = 16;
    const { net, input } = await cifarImages('data_batch_1', batch);
    const c = (await capture(net, input, batch, ['conv2'])).get('conv2') as Captured;
    const budget = 0.02;
    const spet = fitTileSpet(c.layer, c.input, batch, { fraction: 0.25, tilePositions: 8, lossBudget: budget });
    expect(spet.mode === 'threshold' && spet.thresholds?.length).toBe(32);
    expect(spet.mode === 'threshold' && spet.inputScale?.length).toBe(32);
    const dense = runLayer(c.layer, [c.input], batch, { kernels: 'wasm' }).outputs[0];
    const r = run(c, batch, { spet, tile: { positions: 8 } }, 'wasm');
    const positions = 64 * 4;
    const lost = new Float64Array(32);
    const total = new Float64Array(32);
    for (let i = 0; i < dense.length; i++) {
      const o = Math.floor(i / positions) % 32;
      total[o] += Math.max(dense[i], 0);
      if (r.decisions[i] === 1) lost[o] += Math.max(dense[i], 0);
    }
    for (let o = 0; o < 32; o++) expect(lost[o], `channel ${o}`).toBeLessThanOrEqual(budget * total[o] * 1.001 + 1e-3);
    expect(r.counts.mechanisms?.spet?.terminated ?? 0).toBeGreaterThan(0);
  });
});

describe('tile mode: the SDSS checkerboard pattern', () => {
  it('lists the even positions as the grid and gives every other one its left, right, upper and lower grid neighbours, mirrored at the border', () => {
    const order = checkerboardOrder(3, 4);
    expect(Array.from(order.grid)).toEqual([0, 2, 5, 7, 8, 10]);
    expect(Array.from(order.others)).toEqual([1, 3, 4, 6, 9, 11]);
    expect(Array.from(order.neighbours.neighbours)).toEqual([0, 2, 5, 5, 2, 2, 7, 7, 5, 5, 0, 8, 5, 7, 2, 10, 8, 10, 5, 5, 10, 10, 7, 7]);
    expect(Array.from(order.neighbours.counts)).toEqual([3, 2, 3, 4, 3, 2]);
    const row = checkerboardOrder(1, 4);
    expect(Array.from(row.neighbours.neighbours)).toEqual([0, 2, 0, 2, 2, 2, 2, 2]);
    expect(Array.from(row.neighbours.counts)).toEqual([2, 1]);
    for (const [h, w] of [[1, 1], [2, 1], [5, 5], [8, 8], [16, 16], [7, 12]]) {
      const o = checkerboardOrder(h, w);
      const onGrid = new Set(o.grid);
      expect(o.grid.length + o.others.length).toBe(h * w);
      for (let j = 0; j < o.others.length; j++) {
        const p = o.others[j];
        expect(new Set(o.neighbours.neighbours.subarray(4 * j, 4 * j + 4)).size).toBe(o.neighbours.counts[j]);
        for (const q of o.neighbours.neighbours.subarray(4 * j, 4 * j + 4)) {
          expect(onGrid.has(q)).toBe(true);
          expect(Math.abs(Math.floor(q / w) - Math.floor(p / w)) + Math.abs((q % w) - (p % w))).toBe(1);
        }
      }
    }
  });
});
