import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerCounters } from '../src/records/counters.js';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { cifar10Dataset, imageFolderDataset } from '../src/data/dataset.js';
import { convolutionDynamic } from '../src/backends/cpu/dynamic/dynamic-convolution.js';
import { innerProductDynamic } from '../src/backends/cpu/dynamic/dynamic-inner-product.js';
import { TS_TILE_KERNELS, type TileKernels } from '../src/backends/cpu/dynamic/tile-kernels.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import type { LayerEffort } from '../src/effort/effort.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import type { Layer, Network } from '../src/ir/network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA, SQUEEZENET_NET, SQUEEZENET_PROTOTXT } from './helpers/files.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

/**
 * Every FAST dynamic mechanism, alone and composed, against its per-neuron REFERENCE on the exact
 * inputs real images give each layer of the real models: outputs within the parity tolerance, the
 * same decisions (terminated / interpolated / approximated counts) and the same MACs; and the
 * fast driver on the WebAssembly loops bit for bit the same as on the TypeScript loops.
 */

interface Captured {
  readonly layer: Layer;
  readonly input: Float32Array;
}

async function captureInputs(net: Network, input: Float32Array, batch: number, names: readonly string[]): Promise<Map<string, Captured>> {
  const captured = new Map<string, Captured>();
  new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, {
    onLayer: (layer, inputs) => {
      if (names.includes(layer.name)) captured.set(layer.name, { layer, input: inputs[0].slice() });
    },
  });
  expect([...captured.keys()].sort()).toEqual([...names].sort());
  return captured;
}

function counters(layer: Layer): LayerCounters {
  return { name: layer.name, type: layer.params.type, macsDense: 0, macsExecuted: 0, otherOps: 0 };
}

/** The fast driver's WebAssembly loops (wasm/dynamic/), loaded once. */
let wasmTiles: TileKernels;
beforeAll(async () => {
  wasmTiles = (await initWasmKernels('simd')).tiles;
});

function run(
  c: Captured, batch: number, effort: LayerEffort, variant: 'fast' | 'reference', rectified = false, tiles: TileKernels = TS_TILE_KERNELS,
): { y: Float32Array; counts: LayerCounters } {
  const counts = counters(c.layer);
  const [y] = c.layer.params.type === 'Convolution'
    ? convolutionDynamic(c.layer, [c.input], batch, counts, { effort, variant, rectified, tiles })
    : innerProductDynamic(c.layer, [c.input], batch, counts, { effort, variant });
  return { y, counts };
}

/**
 * Runs the reference and the fast driver on its TypeScript and its WebAssembly loops: fast within
 * the parity tolerance of the reference with the same decisions and MACs, and the WebAssembly
 * loops bit for bit the TypeScript ones (same sums, same order). Returns the fast run.
 */
function expectParity(c: Captured, batch: number, effort: LayerEffort, rectified = false): { y: Float32Array; counts: LayerCounters } {
  const ref = run(c, batch, effort, 'reference', rectified);
  const fast = run(c, batch, effort, 'fast', rectified);
  const what = `${c.layer.name} ${JSON.stringify(effort)}${rectified ? ' rectified' : ''}`;
  const err = relativeError(fast.y, ref.y);
  expect(err, `${what}: relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  expect(fast.counts.mechanisms, what).toEqual(ref.counts.mechanisms);
  expect(fast.counts.macsExecuted, what).toBe(ref.counts.macsExecuted);
  const wasm = run(c, batch, effort, 'fast', rectified, wasmTiles);
  expect(wasm.y, `${what} (wasm loops)`).toEqual(fast.y);
  expect(wasm.counts, `${what} (wasm loops)`).toEqual(fast.counts);
  return fast;
}

const spetT = (fraction: number, threshold: number): LayerEffort['spet'] => ({ mode: 'threshold', fraction, threshold });
const spetX = (fraction: number): LayerEffort['spet'] => ({ mode: 'exact', fraction });

describe('fast dynamic kernels equal their references on cifar10-quick', () => {
  const batch = 3;
  let layers: Map<string, Captured>;

  beforeAll(async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
    const data = await cifar10Dataset(`${DATA}/cifar10/data_batch_1.bin`, { channels: 'rgb', mean }, net.inputShape);
    const { input } = await data.batch(0, batch);
    layers = await captureInputs(net, input, batch, ['conv1', 'conv2', 'conv3', 'ip1', 'ip2']);
  });

  // Per layer, knobs that make every mechanism actually fire on these images (pre-activations
  // are tens wide on conv1/conv2 and a few units on conv3; post-ReLU maps need epsilon ~1 to drop).
  const knobs: Record<string, { spet: number; delta: number; epsilon: number }> = {
    conv1: { spet: -5, delta: 10, epsilon: 5 },
    conv2: { spet: -5, delta: 20, epsilon: 1 },
    conv3: { spet: -1, delta: 3, epsilon: 1 },
  };

  for (const name of ['conv1', 'conv2', 'conv3']) {
    const k = knobs[name];
    const efforts: LayerEffort[] = [
      { spet: spetT(0.25, 0) },
      { spet: spetT(0.5, k.spet) },
      { spet: spetX(0.5) },
      { spet: spetX(0) },
      { sdss: { stride: 2, delta: k.delta } },
      { sdss: { stride: 3, delta: 0 } },
      { sfma: { epsilon: k.epsilon } },
      { sfma: { epsilon: 0 } },
      { spet: spetT(0.5, k.spet), sdss: { stride: 2, delta: k.delta } },
      { spet: spetT(0.34, 0), sfma: { epsilon: k.epsilon } },
      { sdss: { stride: 2, delta: k.delta }, sfma: { epsilon: k.epsilon } },
      { spet: spetT(0.5, k.spet), sdss: { stride: 2, delta: k.delta }, sfma: { epsilon: k.epsilon } },
      { spet: spetX(0.3), sdss: { stride: 3, delta: k.delta }, sfma: { epsilon: k.epsilon } },
      {},
    ];
    it(`${name}: every mechanism alone and composed`, () => {
      const c = layers.get(name) as Captured;
      let fired = { terminated: 0, interpolated: 0, approximated: 0 };
      for (const [effort, rectified] of efforts.flatMap((e) => (e.sdss ? [[e, false], [e, true]] as const : [[e, false]] as const))) {
        const { counts } = expectParity(c, batch, effort, rectified);
        const m = counts.mechanisms ?? {};
        fired = {
          terminated: fired.terminated + (m.spet?.terminated ?? 0),
          interpolated: fired.interpolated + (m.sdss?.interpolated ?? 0),
          approximated: fired.approximated + (m.sfma?.approximated ?? 0),
        };
        if (counts.mechanisms && (m.spet?.terminated || m.sdss?.interpolated || m.sfma?.approximated)) {
          expect(counts.macsExecuted, JSON.stringify(effort)).toBeLessThan(c.layer.params.type === 'Convolution' ? denseMacs(c.layer, batch) : Infinity);
        }
      }
      // The knobs above make each mechanism skip work somewhere, so the parity is not vacuous.
      expect(fired.terminated).toBeGreaterThan(0);
      expect(fired.interpolated).toBeGreaterThan(0);
      expect(fired.approximated).toBeGreaterThan(0);
    });
  }

  it('rectified SDSS compares what the ReLU passes: saturated neighbourhoods interpolate to 0', () => {
    for (const name of ['conv2', 'conv3']) {
      const c = layers.get(name) as Captured;
      const effort: LayerEffort = { sdss: { stride: 2, delta: 0 } };
      const raw = expectParity(c, batch, effort, false);
      const rect = expectParity(c, batch, effort, true);
      // Raw pre-activations are almost never exactly equal; rectified ones are 0 wherever saturated.
      expect(rect.counts.mechanisms?.sdss?.interpolated ?? 0).toBeGreaterThan(10 * (raw.counts.mechanisms?.sdss?.interpolated ?? 0) + 100);
      // After the ReLU, every neuron the raw run computed equals the rectified run's wherever the
      // rectified run computed it too, and interpolated ones are 0 (all neighbours saturated).
      const dense = run(c, batch, {}, 'reference').y;
      let interpolatedZero = 0;
      for (let i = 0; i < dense.length; i++) {
        const r = Math.max(rect.y[i], 0);
        if (r === 0 && dense[i] > 0) interpolatedZero++;
        else expect(r).toBeCloseTo(Math.max(dense[i], 0), 3);
      }
      expect(interpolatedZero).toBeLessThanOrEqual(rect.counts.mechanisms?.sdss?.interpolated ?? 0);
    }
  });

  for (const name of ['ip1', 'ip2']) {
    it(`${name}: SPET on a fully connected layer`, () => {
      const c = layers.get(name) as Captured;
      let terminated = 0;
      for (const effort of [{ spet: spetT(0.25, 0) }, { spet: spetT(0.5, -1) }, { spet: spetX(0.5) }, { spet: spetX(0) }, {}] as LayerEffort[]) {
        terminated += expectParity(c, batch, effort).counts.mechanisms?.spet?.terminated ?? 0;
      }
      expect(terminated).toBeGreaterThan(0);
    });
  }
});

function denseMacs(layer: Layer, batch: number): number {
  if (layer.params.type !== 'Convolution') return Infinity;
  const i = layer.inputShapes[0];
  const o = layer.outputShapes[0];
  return batch * o.c * o.h * o.w * (i.c / layer.params.conv.group) * layer.params.conv.kernelH * layer.params.conv.kernelW;
}

describe('fast dynamic kernels equal their references on squeezenet-dc layers', () => {
  const names = ['conv1', 'fire2/conv1x1_1', 'fire2/conv3x3_2', 'fire9/conv1x1_2', 'conv_final'];
  let layers: Map<string, Captured>;

  beforeAll(async () => {
    const net = await loadNetwork(SQUEEZENET_PROTOTXT, { kind: 'file', path: SQUEEZENET_NET });
    const data = await imageFolderDataset(`${DATA}/imagenet-sample`,
      { resize: { width: 256, height: 256 }, crop: 227, channels: 'bgr', mean: { values: [104, 117, 123] } }, net.inputShape);
    const { input } = await data.batch(3, 1);
    layers = await captureInputs(net, input, 1, names);
  });

  // 7x7 stride 2; 1x1; 3x3 pad 1; 1x1 with pad 1 (conv_final: its border outputs see only padding).
  // The two big layers (100+ MMACs, seconds in the reference loops) get the composed knobs only.
  const all: LayerEffort[] = [
    { spet: spetT(0.25, 0) },
    { spet: spetX(0.5) },
    { sdss: { stride: 2, delta: 5 } },
    { sfma: { epsilon: 1 } },
    { spet: spetT(0.5, -2), sdss: { stride: 2, delta: 5 }, sfma: { epsilon: 1 } },
  ];
  const big: LayerEffort[] = [
    { spet: spetT(0.5, -2), sdss: { stride: 2, delta: 5 }, sfma: { epsilon: 1 } },
    { spet: spetX(0.3), sdss: { stride: 3, delta: 1 }, sfma: { epsilon: 2 } },
  ];
  for (const name of names) {
    it(`${name}: mechanisms alone and composed`, () => {
      const c = layers.get(name) as Captured;
      const big_ = name === 'conv1' || name === 'conv_final';
      for (const effort of big_ ? big : all) expectParity(c, 1, effort);
    });
  }
});
