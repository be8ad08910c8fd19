import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../harness/cli.js';
import { searchSettings } from '../harness/commands/calibrate.js';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import { calibrate, checkTilePositions, describeEffort, scaledKnobs } from '../src/calibration/calibration.js';
import { layerSensitivity, type LayerTiming, type Probe } from '../src/calibration/sensitivity.js';
import { cifar10Dataset, limit } from '../src/data/dataset.js';
import { validateProfile } from '../src/effort/profile.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import type { Layer } from '../src/ir/network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from './helpers/files.js';

const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
const calibration = await cifar10Dataset(`${DATA}/cifar10/data_batch_1.bin`, { channels: 'rgb', mean }, net.inputShape);
const layer = (name: string): Layer => net.layers.find((l) => l.name === name) as Layer;

/** The dense run of the first `n` calibration images, as calibrate() builds its probe. */
async function probeOf(n: number, networkSeconds?: number): Promise<Probe> {
  const { input } = await calibration.batch(0, n);
  const r = new CpuBackend().runSync(net, input, n, { keepBlobs: true });
  return {
    batch: n,
    blobs: r.blobs as Map<string, Float32Array>,
    networkOps: r.counters.reduce((s, c) => s + c.macsExecuted + c.otherOps, 0),
    ...(networkSeconds !== undefined && { networkSeconds }),
  };
}

afterEach(() => vi.restoreAllMocks());

describe('dyve calibrate search options', () => {
  it('defaults to tile mode, 8 positions, the time objective', () => {
    expect(searchSettings({})).toEqual({ mode: 'tile', tilePositions: [8], objective: 'time', repeats: 5 });
    expect(searchSettings({ mode: 'neuron', objective: 'macs' })).toEqual({ mode: 'neuron', tilePositions: [], objective: 'macs', repeats: 5 });
    // A comma list searches the tile size: ascending, each size once.
    expect(searchSettings({ tile: '16, 8,16', repeats: '3' }).tilePositions).toEqual([8, 16]);
  });

  it('rejects bad values with a line naming the option', () => {
    expect(() => searchSettings({ mode: 'tiles' })).toThrow("--mode takes neuron or tile, found 'tiles'");
    expect(() => searchSettings({ objective: 'ops' })).toThrow("--objective takes time or macs, found 'ops'");
    for (const tile of ['12', '0', '3', '6', '264', '8,x', '', '8.0', '-8']) {
      expect(() => searchSettings({ tile })).toThrow(`--tile takes positions per tile, each 1, 2, 4 or a multiple of 8 in [8, 256], comma-separated (e.g. 2,8), found '${tile}'`);
    }
    expect(() => searchSettings({ mode: 'neuron', tile: '8' })).toThrow('--tile applies to --mode tile');
    expect(() => searchSettings({ repeats: '0' })).toThrow("--repeats takes a whole number >= 1, found '0'");
  });

  it('the library checks the same rules', async () => {
    expect(checkTilePositions([32, 8, 32])).toEqual([8, 32]);
    expect(() => checkTilePositions([])).toThrow('at least one tile size');
    expect(() => checkTilePositions([257])).toThrow('1, 2, 4 or a multiple of 8 in [8, 256], found 257');
    expect(checkTilePositions([8, 1])).toEqual([1, 8]);
    expect(checkTilePositions([8, 4, 2])).toEqual([2, 4, 8]);
    const data = limit(calibration, 1);
    const backend = new CpuBackend();
    await expect(calibrate(net, data, backend, { budgetPP: 1, mode: 'tiles' as 'tile' })).rejects.toThrow("calibration mode must be one of neuron, tile, found 'tiles'");
    await expect(calibrate(net, data, backend, { budgetPP: 1, objective: 'ops' as 'macs' })).rejects.toThrow('calibration objective must be one of');
    await expect(calibrate(net, data, backend, { budgetPP: 1, tilePositions: [8] })).rejects.toThrow("tile positions apply to mode 'tile' only");
    await expect(calibrate(net, data, backend, { budgetPP: 1, mode: 'tile', tilePositions: [12] })).rejects.toThrow('found 12');
  });
});

describe('tile-mode layer sensitivity', () => {
  it('every Convolution candidate carries the tile knobs and validates; an InnerProduct stays per neuron', async () => {
    await initWasmKernels();
    const probe = await probeOf(2);
    const conv = await layerSensitivity(net, layer('conv3'), probe, ['spet', 'sdss'], { mode: 'tile', tilePositions: [8, 16] });
    // Per tile size: 42 SPET settings (2 exact, 4 fractions x 8 thresholds, 2 fractions x 4 loss
    // budgets of per-channel fitted thresholds), 12 SDSS, then combinations.
    expect(conv.measured).toBeGreaterThan(2 * (42 + 12));
    expect(conv.front.length).toBeGreaterThan(0);
    for (const o of conv.front) {
      expect([8, 16]).toContain(o.effort.tile?.positions);
      expect(o.opsSaved).toBe(o.saved);
      expect(describeEffort(o.effort)).toMatch(/, tile (8|16)$/);
      expect(() => validateProfile({ layers: { conv3: o.effort } }, net)).not.toThrow();
    }
    // The grid reaches beyond the per-neuron one: small SPET fractions and positive thresholds.
    const spet = await layerSensitivity(net, layer('conv3'), probe, ['spet'], { mode: 'tile', tilePositions: [8] });
    expect(spet.measured).toBe(42);
    const fractions = new Set(spet.front.map((o) => o.effort.spet?.fraction));
    expect([...fractions].some((f) => f !== undefined && f < 0.25)).toBe(true);

    const ip = await layerSensitivity(net, layer('ip1'), probe, ['spet'], { mode: 'tile', tilePositions: [8] });
    for (const o of ip.front) {
      expect(o.effort.tile).toBeUndefined();
      expect(() => validateProfile({ layers: { ip1: o.effort } }, net)).not.toThrow();
    }
  });

  it('objective time credits only a measured speed-up, and keeps the ops', async () => {
    await initWasmKernels();
    const probe = await probeOf(2, 1e-3);
    const s = await layerSensitivity(net, layer('conv3'), probe, ['spet'], { mode: 'tile', tilePositions: [8], objective: 'time', repeats: 3 });
    expect(s.measured).toBe(42);
    expect(s.denseSeconds).toBeGreaterThan(0);
    // Credit comes from the median candidate / dense ratio of interleaved pairs, scaled by the
    // layer's dense time; whatever the machine's load, nothing at or above 0.98 is credited.
    for (const o of s.front) {
      const t = o.timing as LayerTiming;
      expect(t.ratio).toBeLessThan(0.98);
      expect(o.saved).toBeCloseTo(((1 - t.ratio) * (s.denseSeconds ?? 0)) / 1e-3, 9);
      expect(Number.isFinite(o.opsSaved)).toBe(true);
    }
  });
});

describe('knob refinement', () => {
  it('scales the knobs where larger always skips more: SDSS delta and SFMA epsilon, never SPET', () => {
    const tile = { positions: 8 };
    const spet = { mode: 'threshold' as const, fraction: 0.5, threshold: -2 };
    expect(scaledKnobs({ sdss: { stride: 2, delta: 10 }, spet, tile }, 1.25)).toEqual({ sdss: { stride: 2, delta: 12.5 }, spet, tile });
    expect(scaledKnobs({ sfma: { epsilon: 0.01 } }, 1.5)).toEqual({ sfma: { epsilon: 0.015 } });
    // Six significant digits, as the candidate grids round theirs.
    expect(scaledKnobs({ sdss: { stride: 2, delta: 17.1835 } }, 1.3125)?.sdss?.delta).toBe(22.5533);
    // Nothing to scale: SPET alone, or a delta of 0 (every multiple is 0).
    expect(scaledKnobs({ spet, tile }, 1.25)).toBeNull();
    expect(scaledKnobs({ sdss: { stride: 2, delta: 0 } }, 1.25)).toBeNull();
  });

  it("bisects each chosen layer's delta into the gap of the grid while the budget holds", async () => {
    await initWasmKernels();
    const data = limit(calibration, 32);
    const backend = new CpuBackend({ kernels: 'wasm' });
    const options = { batch: 32, probe: 4, steps: 0, refine: 0, mechanisms: ['sdss' as const], mode: 'tile' as const, objective: 'macs' as const };
    // A budget nothing can exceed: lambda 1e-3 takes each layer's boldest option, every knob step
    // is kept, the last one (x 1.4375) wins.
    const lines: string[] = [];
    const loose = await calibrate(net, data, backend, { ...options, budgetPP: 100, log: (l) => lines.push(l) });
    const chosen = Object.entries(loose.profile.layers);
    expect(chosen.length).toBeGreaterThan(0);
    for (const [name, effort] of chosen) {
      const s = loose.sensitivities.find((x) => x.layer === name);
      const boldest = s?.front[s.front.length - 1].effort;
      expect(effort).toEqual(scaledKnobs(boldest ?? {}, 1.4375));
      expect(lines.filter((l) => l.startsWith(`knobs ${name} x`)).map((l) => l.split(':')[0])).toEqual(
        [1.25, 1.375, 1.4375].map((f) => `knobs ${name} x${f.toFixed(3)}`),
      );
    }
    expect(loose.evaluations).toBe(2 + 3 * chosen.length);
    // --knob-steps 0 stops at the grid.
    const none = await calibrate(net, data, backend, { ...options, budgetPP: 100, knobSteps: 0 });
    for (const [name, effort] of Object.entries(none.profile.layers)) {
      const s = none.sensitivities.find((x) => x.layer === name);
      expect(effort).toEqual(s?.front[s.front.length - 1].effort);
    }
  });
});

describe('tile-mode calibration end to end', () => {
  it('finds a valid tile-mode profile on cifar10-quick (ops objective), reproducibly', async () => {
    const data = limit(calibration, 100);
    const lines: string[] = [];
    const options = {
      budgetPP: 3, batch: 50, probe: 8, steps: 3, refine: 2, mode: 'tile' as const, tilePositions: [8, 16], objective: 'macs' as const,
    };
    // The calibration set is evaluated on the wasm kernels: the TypeScript ones run tile-mode layers on the slow reference.
    const backend = new CpuBackend({ kernels: 'wasm' });
    const a = await calibrate(net, data, backend, { ...options, log: (l) => lines.push(l) });
    expect(a).toMatchObject({ mode: 'tile', tilePositions: [8, 16], objective: 'macs' });
    expect(a.denseTop1 - a.top1).toBeLessThanOrEqual(0.03 + 1e-12);
    expect(Object.keys(a.profile.layers).length).toBeGreaterThan(0);
    expect(a.macReduction).toBeGreaterThan(1);
    for (const [name, effort] of Object.entries(a.profile.layers)) {
      if (layer(name).params.type === 'Convolution') expect([8, 16]).toContain(effort.tile?.positions);
      else expect(effort.tile).toBeUndefined();
    }
    expect(() => validateProfile(JSON.parse(JSON.stringify(a.profile)), net)).not.toThrow();
    expect(lines[0]).toContain('search: mode tile (tile positions 8,16');
    expect(lines.some((l) => /conv2: \d+ settings, \d+ on the Pareto front/.test(l))).toBe(true);
    const b = await calibrate(net, data, backend, options);
    expect(b.profile).toEqual(a.profile);
  });

  it('dyve calibrate writes the mode, tile sizes, objective and machine into the profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyve-calibrate-'));
    const out = join(dir, 'p.json');
    const log = join(dir, 'p.log');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const code = await main(['calibrate', '--model', 'cifar10-quick', '--calib', '8', '--probe', '1', '--steps', '1', '--refine', '0',
      '--mechanisms', 'spet', '--tile', '8,16', '--repeats', '2', '--batch', '8', '--backend', 'wasm', '--quiet', '--out', out, '--log', log]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const p = JSON.parse(readFileSync(out, 'utf8'));
    expect(p.calibration).toMatchObject({ mode: 'tile', tilePositions: [8, 16], objective: 'time', repeats: 2, seed: 1, probe: 1 });
    expect(p.calibration.machine).toMatch(/cores/);
    expect(p.calibration.probeSeconds).toBeGreaterThan(0);
    expect(() => validateProfile(p, net)).not.toThrow();
    const text = readFileSync(log, 'utf8');
    expect(p.calibration.timedOn).toBe('wall time on the wasm kernels');
    expect(text).toContain('objective time (layers timed alone, wall time on the wasm kernels');
    expect(text).toMatch(/conv1: \d+ settings, \d+ on the Pareto front \(dense \d+\.\d+ ms\)/);

    const err: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    expect(await main(['calibrate', '--model', 'cifar10-quick', '--out', out, '--mode', 'neuron', '--tile', '8'])).toBe(1);
    expect(err.join('\n')).toContain('dyve calibrate: --tile applies to --mode tile');
  });
});
