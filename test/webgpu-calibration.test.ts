import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuTimedNotice } from '../harness/commands/bench.js';
import { loadProfile } from '../src/effort/load-profile.js';
import { packageFile } from '../src/package-root.js';
import { dyve } from './helpers/cli.js';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import type { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { layerSensitivity, type Probe } from '../src/calibration/sensitivity.js';
import { gpuSeconds, webgpuTimer } from '../src/calibration/webgpu-layer-timer.js';
import { cifar10Dataset } from '../src/data/dataset.js';
import { validateProfile } from '../src/effort/profile.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import type { Layer } from '../src/ir/network.js';
import type { LayerEffort } from '../src/effort/effort.js';
import type { DispatchRecord } from '../src/records/dispatches.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from './helpers/files.js';
import { openTestGpu } from './helpers/gpu.js';
import { convLayer } from './helpers/synthetic-layers.js';

/**
 * Objective `time` on a WebGPU device (webgpu-layer-timer.ts): layers timed by the GPU time of
 * their dispatches on the device the profile is for, here the software adapter.
 */
const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
const calibration = await cifar10Dataset(`${DATA}/cifar10/data_batch_1.bin`, { channels: 'rgb', mean }, net.inputShape);
const layer = (name: string): Layer => net.layers.find((l) => l.name === name) as Layer;
const BATCH = 4;

let gpu: WebGpuBackend;
let input: Float32Array;
let blobs: Map<string, Float32Array>;
beforeAll(async () => {
  gpu = await openTestGpu();
  await initWasmKernels();
  ({ input } = await calibration.batch(0, BATCH));
  blobs = new CpuBackend().runSync(net, input, BATCH, { keepBlobs: true }).blobs as Map<string, Float32Array>;
});
afterAll(() => gpu?.destroy());

const record = (gpuStartNs?: number, gpuNs?: number, layer = 'conv2'): DispatchRecord => ({
  layer, kernel: 'convolution', mode: 'direct', workgroupsRequested: 1, workgroupsExecuted: 1, macs: 0,
  ...(gpuNs !== undefined && { gpuNs }), ...(gpuStartNs !== undefined && { gpuStartNs }),
});

/** How many GPU buffers `work` made, and the labels of those it left undestroyed. */
async function buffersLeftBy(work: () => Promise<void>): Promise<{ made: number; alive: string[] }> {
  const made = new Map<GPUBuffer, boolean>();
  const { device } = gpu;
  const createBuffer = device.createBuffer;
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    const buffer = createBuffer.call(device, descriptor);
    const destroy = buffer.destroy;
    made.set(buffer, false);
    buffer.destroy = () => { made.set(buffer, true); destroy.call(buffer); };
    return buffer;
  };
  try {
    await work();
  } finally {
    device.createBuffer = createBuffer;
  }
  return { made: made.size, alive: [...made].filter(([, destroyed]) => !destroyed).map(([b]) => b.label) };
}

describe('the WebGPU layer timer', () => {
  it("takes the span of each layer's dispatches, gaps included, and says what to do on a device without timestamp queries", () => {
    // 1.5 ms, a 0.25 ms gap, 0.5 ms: 2.25 ms from the first start to the last end.
    expect(gpuSeconds([record(1_000_000, 1_500_000), record(2_750_000, 500_000)])).toBeCloseTo(0.00225, 12);
    expect(gpuSeconds([record(0, 4000)])).toBeCloseTo(4e-6, 15);
    // A network in two chunks (each restarting the clock): per layer spans, summed; the gaps
    // between layers are not a layer's.
    const chunk = [record(0, 1000, 'conv1'), record(1500, 1000, 'conv2'), record(3000, 500, 'conv2')];
    expect(gpuSeconds([...chunk, ...chunk])).toBeCloseTo((2 * (1000 + 2000)) / 1e9, 15);
    for (const records of [[record(0, 1000), record()], [record(undefined, 1000)], []]) {
      expect(() => gpuSeconds(records)).toThrow("objective time on WebGPU needs the device's 'timestamp-query' feature");
    }
  });

  it('times the dense network, a dense layer and a candidate against it on the device', async () => {
    const timer = webgpuTimer(gpu);
    expect(timer.description).toBe(`GPU time spanned by the dispatches on WebGPU (${gpu.adapterName})`);
    const conv2 = layer('conv2');
    const inputs = conv2.bottoms.map((b) => blobs.get(b)!);
    const network = await timer.network(net, input, BATCH, 3);
    const clock = await timer.layer(conv2, inputs, BATCH);
    const dense = await clock.dense(3);
    expect(dense).toBeGreaterThan(0);
    // The network runs conv2 and more (conv1, conv3, the pools, the inner products).
    expect(network).toBeGreaterThan(dense);
    const t = await clock.againstDense({ effort: { sdss: { stride: 2, delta: 1e9 }, tile: { positions: 8 } }, rectified: true }, 3);
    clock.close();
    expect(t.dense).toBeGreaterThan(0);
    expect(t.candidate).toBeGreaterThan(0);
    expect(Number.isFinite(t.ratio) && t.ratio > 0).toBe(true);
  });

  it('layer sensitivities with objective time credit the measured GPU time only, and keep the ops', async () => {
    const timer = webgpuTimer(gpu);
    const networkSeconds = await timer.network(net, input, BATCH, 3);
    const probe: Probe = { batch: BATCH, blobs, networkOps: 1, networkSeconds };
    const s = await layerSensitivity(net, layer('conv3'), probe, ['sdss'], { mode: 'tile', tilePositions: [8], objective: 'time', repeats: 2, timer });
    // SDSS's tile candidates per tile size: 9 deltas on the square grid of stride 2, 3 of stride 3, 7 on the checkerboard.
    expect(s.measured).toBe(19);
    expect(s.denseSeconds).toBeGreaterThan(0);
    for (const o of s.front) {
      expect(o.timing!.ratio).toBeLessThan(0.98);
      expect(o.saved).toBeCloseTo(((1 - o.timing!.ratio) * s.denseSeconds!) / networkSeconds, 9);
      expect(o.effort.sdss).toBeDefined();
    }
  });

  it('dyve calibrate --backend webgpu times the layers on the device and records it in the profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyve-calibrate-gpu-'));
    const out = join(dir, 'p.json');
    const log = join(dir, 'p.log');
    const { code } = await dyve('calibrate', '--model', 'cifar10-quick', '--calib', '8', '--probe', '2', '--steps', '1', '--refine', '0', '--knob-steps', '0',
      '--mechanisms', 'sdss', '--tile', '8', '--repeats', '1', '--batch', '8', '--backend', 'webgpu', '--quiet', '--out', out, '--log', log);
    expect(code).toBe(0);
    const p = JSON.parse(readFileSync(out, 'utf8'));
    expect(p.calibration).toMatchObject({ mode: 'tile', objective: 'time', repeats: 1, probe: 2 });
    expect(p.calibration.clock).toBe('webgpu');
    expect(p.calibration.timedOn).toMatch(/^GPU time spanned by the dispatches on WebGPU \(.+\)$/);
    expect(p.calibration.probeSeconds).toBeGreaterThan(0);
    expect(() => validateProfile(p, net)).not.toThrow();
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('objective time (layers timed alone, GPU time spanned by the dispatches on WebGPU (');
    expect(text).toMatch(/conv2: 19 settings, \d+ on the Pareto front \(dense \d+\.\d+ ms\)/);
  });

  it('dyve bench on WebGPU says when a profile was chosen by CPU time, and not otherwise', async () => {
    const shipped = await loadProfile(packageFile('models/cifar10-quick/effort.json'), net);
    expect(cpuTimedNotice(shipped)).toMatch(/^dyve bench: this profile's layers were chosen by their time on a CPU's wasm kernels \(.*cores.*\); what pays on WebGPU can differ: 'dyve calibrate --backend webgpu'/);
    const calibration = shipped.calibration as Record<string, unknown>;
    expect(cpuTimedNotice({ ...shipped, calibration: { ...calibration, clock: 'webgpu' } })).toBeNull();
    expect(cpuTimedNotice({ ...shipped, calibration: { ...calibration, objective: 'macs' } })).toBeNull();
    expect(cpuTimedNotice({ ...shipped, layers: {} })).toBeNull();

    const bench = (...args: string[]) => dyve('bench', '--model', 'cifar10-quick', '--limit', '4', '--batch', '4', '--quiet', ...args);
    const onGpu = await bench('--backend', 'webgpu', '--effort', 'calibrated');
    expect(onGpu.code).toBe(0);
    expect(onGpu.err).toContain(cpuTimedNotice(shipped));
    expect((await bench('--backend', 'wasm', '--effort', 'calibrated')).err).not.toContain('chosen by their time');
    const gpuTimed = join(mkdtempSync(join(tmpdir(), 'dyve-gpu-profile-')), 'p.json');
    writeFileSync(gpuTimed, JSON.stringify({ ...JSON.parse(readFileSync(packageFile('models/cifar10-quick/effort.json'), 'utf8')), calibration: { ...calibration, clock: 'webgpu' } }));
    expect((await bench('--backend', 'webgpu', '--effort', gpuTimed)).err).not.toContain('chosen by their time');
  });

  it('leaves out the settings the device cannot run, and says why', async () => {
    const grouped = convLayer({ c: 4, h: 12, w: 17 }, { numOutput: 6, kernelH: 3, kernelW: 3, padH: 1, padW: 1, group: 2 });
    const sdss = { sdss: { stride: 2, delta: 0.3 } };
    const why = (l: Layer, effort: LayerEffort) => gpu.unsupported(l, effort, BATCH);
    expect(await why(grouped, { ...sdss, tile: { positions: 8 } })).toMatch(/runs tile mode on ungrouped convolutions only \(this one has 2 groups\)/);
    expect(await why(grouped, sdss)).toBeNull(); // neuron mode runs grouped layers
    expect(await why(layer('conv2'), { ...sdss, tile: { positions: 8 } })).toBeNull();
    expect(await why(layer('conv2'), { ...sdss, tile: { positions: 32 } })).toMatch(/tiles of at most 16 positions/);
    expect(await why(layer('conv2'), {})).toBeNull(); // dense
    // Weights past the adapter's binding limit (AlexNet's fc6 on lavapipe: 144 of 128 MiB); only
    // their size is read before any trial, so a stand-in of that size.
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    const ip1 = layer('ip1');
    const huge = { ...ip1, weights: { ...ip1.weights!, weight: { byteLength: limit + 4 } as Float32Array } };
    expect(await why(huge, { spet: { mode: 'threshold', fraction: 0.5, threshold: 0 } })).toMatch(/its dynamic kernel binds its \d+ MiB of weights in one buffer, more than this adapter binds/);
    expect(await why(huge, {})).toBeNull();
    // Past the limits known up front, a trial plan answers: a batch whose blobs no buffer can bind.
    const perImage = 4 * 32 * 16 * 16;
    const tooMany = Math.ceil((limit + 1) / perImage);
    // A refused plan frees every buffer it made, whether WebGPU refuses it (this trial) or our
    // encoders stop half-way (a grouped layer opened in tile mode directly); the weights stay
    // uploaded once per layer (the trials above uploaded these).
    const left = await buffersLeftBy(async () => {
      expect(await gpu.unsupported(layer('conv2'), { ...sdss, tile: { positions: 8 } }, tooMany)).toMatch(/^WebGPU rejected the plan: Binding size \(\d+\) of \[Buffer "in0"\] is larger than the maximum/);
      const x = new Float32Array(BATCH * 4 * 12 * 17);
      await expect(gpu.openLayer(grouped, [x], BATCH, { effort: { ...sdss, tile: { positions: 8 } } })).rejects.toThrow(/ungrouped convolutions only/);
    });
    expect(left.made).toBeGreaterThan(3);
    expect(left.alive).toEqual([]);

    // conv3 searched with tiles of 8 and 32 for this device: the tiles of 32 are left out, counted.
    const timer = webgpuTimer(gpu);
    const probe: Probe = { batch: BATCH, blobs, networkOps: 1, networkSeconds: await timer.network(net, input, BATCH, 1) };
    const unsupported = (l: Layer, effort: LayerEffort) => gpu.unsupported(l, effort, BATCH);
    const s = await layerSensitivity(net, layer('conv3'), probe, ['sdss'], { mode: 'tile', tilePositions: [8, 32], objective: 'time', repeats: 1, timer, unsupported });
    expect(s.measured).toBe(19);
    expect(s.skipped?.count).toBe(19);
    expect(s.skipped?.reason).toMatch(/tiles of at most 16 positions, the profile asks for 32/);
    for (const o of s.front) expect(o.effort.tile?.positions).toBe(8);
    // Without the device's limits every setting is measured (the CPU runs them all).
    expect((await layerSensitivity(net, layer('conv3'), probe, ['sdss'], { mode: 'tile', tilePositions: [8, 32] })).measured).toBe(38);
  });
});
