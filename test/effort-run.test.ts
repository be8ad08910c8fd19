import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { cifar10Dataset, limit } from '../src/data/dataset.js';
import { calibrate } from '../src/calibration/calibration.js';
import { DENSE_PROFILE, validateProfile } from '../src/effort/profile.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from './helpers/files.js';

const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
const calibration = await cifar10Dataset(`${DATA}/cifar10/data_batch_1.bin`, { channels: 'rgb', mean }, net.inputShape);

describe('running with an effort profile', () => {
  it('the dense profile reproduces the dense path bit for bit', async () => {
    const { input } = await calibration.batch(0, 8);
    const backend = new CpuBackend();
    const plain = await backend.run(net, input, 8);
    const dense = await backend.run(net, input, 8, { effort: DENSE_PROFILE });
    const emptyKnobs = await backend.run(net, input, 8, { effort: validateProfile({ layers: { conv1: {}, conv2: {} } }, net) });
    expect(dense.output).toEqual(plain.output);
    expect(emptyKnobs.output).toEqual(plain.output);
    expect(dense.counters).toEqual(plain.counters);
  });

  it('a profile with mechanisms on executes fewer MACs and reports what each did', async () => {
    const { input } = await calibration.batch(0, 4);
    const profile = validateProfile({ layers: {
      conv2: { spet: { fraction: 0.5, threshold: 0 }, sdss: { stride: 2, delta: 0 }, sfma: { epsilon: 0.01 } },
    } }, net);
    const r = await new CpuBackend().run(net, input, 4, { effort: profile });
    const conv2 = r.counters.find((c) => c.name === 'conv2');
    expect(conv2?.macsExecuted).toBeLessThan(conv2?.macsDense ?? 0);
    expect(conv2?.mechanisms?.spet?.neurons).toBeGreaterThan(0);
    expect(conv2?.mechanisms?.sdss?.outputs).toBe(4 * 32 * 16 * 16);
    expect(conv2?.mechanisms?.sfma?.maps).toBe(4 * 32);
    const conv1 = r.counters.find((c) => c.name === 'conv1');
    expect(conv1?.macsExecuted).toBe(conv1?.macsDense);
    expect(conv1?.mechanisms).toBeUndefined();
  });

  it('calibration stays within its budget on the calibration set and is deterministic', async () => {
    const data = limit(calibration, 200);
    const lines: string[] = [];
    const options = { budgetPP: 1, batch: 50, probe: 16, steps: 3, mechanisms: ['spet', 'sdss'] as const };
    const a = await calibrate(net, data, new CpuBackend(), { ...options, log: (l: string) => lines.push(l) });
    expect(a.denseTop1 - a.top1).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(a.macReduction).toBeGreaterThan(1);
    expect(Object.keys(a.profile.layers).every((l) => ['conv1', 'conv2', 'conv3'].includes(l))).toBe(true);
    // Each layer's sensitivity is logged and forms a Pareto front: more saved, more error.
    expect(a.sensitivities.map((s) => s.layer)).toEqual(['conv1', 'conv2', 'conv3']);
    for (const s of a.sensitivities) {
      expect(lines.some((l) => l.includes(`${s.layer}:`))).toBe(true);
      for (let i = 1; i < s.front.length; i++) {
        expect(s.front[i].saved).toBeGreaterThan(s.front[i - 1].saved);
        expect(s.front[i].error).toBeGreaterThanOrEqual(s.front[i - 1].error);
      }
    }
    // The written profile validates against the network.
    expect(() => validateProfile(JSON.parse(JSON.stringify(a.profile)), net)).not.toThrow();
    const b = await calibrate(net, data, new CpuBackend(), options);
    expect(b.profile).toEqual(a.profile);
  });
});
