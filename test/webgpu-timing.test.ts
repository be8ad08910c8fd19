import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dawnToggles } from '../src/backends/webgpu/gpu-context.js';
import type { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { loadProfile } from '../src/effort/load-profile.js';
import type { EffortProfile } from '../src/effort/profile.js';
import { packageFile } from '../src/package-root.js';
import { openTestGpu } from './helpers/gpu.js';
import { loadRealModels, type RealModels } from './helpers/models.js';

/**
 * GPU time per dispatch (RunOptions.timeDispatches: timestamp queries, a compute pass per
 * dispatch): the same results as an untimed run, a time on every dispatch where the device has
 * 'timestamp-query' (lavapipe does), none where it has not.
 */
let gpu: WebGpuBackend;
let models: RealModels;
let calibrated: EffortProfile;

beforeAll(async () => {
  gpu = await openTestGpu();
  models = await loadRealModels();
  calibrated = await loadProfile(packageFile('models/cifar10-quick/effort.json'), models.cifar);
});
afterAll(() => gpu?.destroy());

describe('WebGPU dispatch timing', () => {
  it.each([['dense', false], ['the shipped tile profile', true]] as const)('cifar10-quick, %s: timed runs give the untimed outputs, counters and records, plus a GPU time each', async (_, dynamic) => {
    const { input } = await models.cifarTest.batch(0, 8);
    const effort = dynamic ? calibrated : undefined;
    const plain = await gpu.run(models.cifar, input, 8, { effort });
    const timed = await gpu.run(models.cifar, input, 8, { effort, timeDispatches: true });
    expect(timed.output.every((v, i) => Object.is(v, plain.output[i]))).toBe(true);
    expect(timed.counters).toEqual(plain.counters);
    expect(timed.dispatches!.map(({ gpuNs, gpuStartNs, ...rest }) => rest)).toEqual(plain.dispatches);
    expect(plain.dispatches!.some((d) => d.gpuNs !== undefined)).toBe(false);
    expect(gpu.device.features.has('timestamp-query'), 'this suite expects an adapter with timestamp queries (lavapipe has them)').toBe(true);
    for (const d of timed.dispatches!) expect(Number.isInteger(d.gpuNs) && d.gpuNs! >= 0, `${d.layer} ${d.kernel}`).toBe(true);
    // Starts on the same clock, from the run's first dispatch: the span of a run covers its dispatches.
    expect(timed.dispatches![0].gpuStartNs).toBe(0);
    for (const d of timed.dispatches!) expect(Number.isInteger(d.gpuStartNs) && d.gpuStartNs! >= 0, `${d.layer} ${d.kernel}`).toBe(true);
    const last = timed.dispatches!.at(-1)!;
    expect(last.gpuStartNs! + last.gpuNs!).toBeGreaterThanOrEqual(timed.dispatches!.reduce((s, d) => Math.max(s, d.gpuNs!), 0));
    // Quantization off: a layer's time is not a multiple of Dawn's 65,536 ns step everywhere.
    expect(timed.dispatches!.some((d) => d.gpuNs! % 65_536 !== 0)).toBe(true);
    expect(timed.dispatches!.reduce((s, d) => s + d.gpuNs!, 0)).toBeGreaterThan(0);
  });

  it('Dawn\'s timestamp quantization is turned off, beside any features the caller disables', () => {
    expect(dawnToggles([])).toEqual(['disable-dawn-features=timestamp_quantization']);
    expect(dawnToggles(['backend=vulkan'])).toEqual(['backend=vulkan', 'disable-dawn-features=timestamp_quantization']);
    expect(dawnToggles(['disable-dawn-features=foo', 'backend=vulkan'])).toEqual(['disable-dawn-features=foo,timestamp_quantization', 'backend=vulkan']);
  });
});
