import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dyve } from './helpers/cli.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA, SQUEEZENET_NET, SQUEEZENET_PROTOTXT } from './helpers/files.js';

afterEach(() => vi.restoreAllMocks());

const tmp = () => mkdtempSync(join(tmpdir(), 'dyve-cli-'));

describe('dyve CLI', () => {
  it('has --help everywhere', async () => {
    const top = await dyve('--help');
    expect(top.code).toBe(0);
    for (const c of ['bench', 'info', 'models', 'benchmarks']) expect(top.out).toContain(c);
    for (const c of ['bench', 'info', 'models', 'benchmarks']) {
      const r = await dyve(c, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`dyve ${c}`);
    }
    expect((await dyve('frobnicate')).code).toBe(2);
  });

  it('info lists layers, shapes, parameters and MACs', async () => {
    const r = await dyve('info', '--model', 'cifar10-quick');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/conv1\s+Convolution\s+32x32x32\s+2,432\s+2,457,600/);
    expect(r.out).toMatch(/total\s+145,578\s+12,354,176/);
    const vgg = await dyve('info', '--model', 'vgg16');
    expect(vgg.out).toMatch(/total\s+138,357,544\s+15,470,264,320/);
  });

  it('models lists the zoo', async () => {
    const r = await dyve('models');
    for (const m of ['alexnet', 'alexnet-dc', 'cifar10-quick', 'overfeat', 'squeezenet-dc', 'vgg16']) expect(r.out).toContain(m);
  });

  it('bench writes the JSON contract', async () => {
    const json = join(tmp(), 'r.json');
    const r = await dyve('bench', '--model', 'cifar10-quick', '--limit', '50', '--batch', '8', '--json', json, '--layers', '--quiet');
    expect(r.code).toBe(0);
    expect(r.out).toContain('top-1');
    expect(r.out).toMatch(/ip2\s+InnerProduct/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    // The default backend, auto, runs WebAssembly on these GPU-less machines (and says why).
    expect(j).toMatchObject({ model: 'cifar10-quick', backend: 'wasm', effort: 'dense', images: 50, synthetic: false, batch: 8 });
    expect(j.auto).toMatch(/WebGPU adapter/);
    expect(j.top1).toBeGreaterThan(0.5);
    expect(j.top1).toBeLessThanOrEqual(1);
    expect(j.top5).toBeGreaterThanOrEqual(j.top1);
    expect(j.macs).toEqual({ dense: 50 * 12_354_176, executed: 50 * 12_354_176 });
    expect(j.ops.total).toBeGreaterThan(j.macs.executed);
    expect(j.seconds).toBeGreaterThan(0);
    expect(j.layers).toHaveLength(12);
    expect(j.layers[0]).toMatchObject({ name: 'conv1', type: 'Convolution', macsDense: 50 * 2_457_600, macsExecuted: 50 * 2_457_600 });
  });

  it('calibrate --dataset cifar10 calibrates on the training split, never on the test images', async () => {
    const profile = join(tmp(), 'p.json');
    const c = await dyve('calibrate', '--model', 'cifar10-quick', '--dataset', 'cifar10', '--calib', '8', '--probe', '4', '--steps', '0', '--refine', '0',
      '--objective', 'macs', '--mechanisms', 'spet', '--batch', '8', '--out', profile);
    expect(c.code, c.err).toBe(0);
    expect(JSON.parse(readFileSync(profile, 'utf8')).calibration.dataset).toBe('data_batch_1.bin[:8]');
  });

  it('calibrate writes a profile that bench runs, with the dynamic JSON contract', async () => {
    const dir = tmp();
    const profile = join(dir, 'p.json');
    const log = join(dir, 'p.log');
    const c = await dyve('calibrate', '--model', 'cifar10-quick', '--calib', '100', '--probe', '8', '--steps', '2', '--refine', '1',
      '--budget', '2', '--batch', '50', '--out', profile, '--log', log);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/wrote .*fewer MACs/);
    const p = JSON.parse(readFileSync(profile, 'utf8'));
    expect(p).toMatchObject({ format: 'dyvedeep-effort/1', model: 'cifar10-quick', calibration: { dataset: 'data_batch_1.bin[:100]', images: 100, budgetPP: 2 } });
    // The drop recorded is the accuracies' difference, with its standard error over the 100 images.
    expect(p.calibration.top1DropPP).toBeCloseTo(100 * (p.calibration.denseTop1 - p.calibration.top1), 9);
    expect(p.calibration.top1DropStandardErrorPP).toBeGreaterThanOrEqual(0);
    expect(readFileSync(log, 'utf8')).toMatch(/conv2: \d+ settings, \d+ on the Pareto front/);

    const json = join(dir, 'r.json');
    // A hand-made profile that fires every mechanism, so every per-layer object is present.
    writeFileSync(profile, JSON.stringify({ layers: { conv2: { spet: { fraction: 0.5, threshold: 0 }, sdss: { stride: 2, delta: 0 }, sfma: { epsilon: 1 } } } }));
    const r = await dyve('bench', '--model', 'cifar10-quick', '--limit', '32', '--batch', '16', '--effort', profile, '--compare', 'dense', '--json', json, '--layers', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/agreement/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.compare.denseSeconds).toBeGreaterThan(0);
    expect(j.compare.dynamicSeconds).toBeGreaterThan(0);
    expect(j.compare.speedup).toBeCloseTo(j.compare.denseSeconds / j.compare.dynamicSeconds, 6);
    expect(j.agreement).toBeGreaterThan(0);
    // The drop image by image: what the two top-1s say, from the images only one run gets right.
    const { drop } = j.dense;
    expect(drop.images).toBe(32);
    expect(drop.dropPP).toBeCloseTo(100 * (j.dense.top1 - j.top1), 9);
    expect(drop.dropPP).toBeCloseTo((100 * (drop.lost - drop.gained)) / 32, 9);
    expect(drop.lost + drop.gained).toBeLessThanOrEqual(Math.round(32 * (1 - j.agreement)));
    expect(r.out).toMatch(new RegExp(`drop +top-1 ${drop.dropPP.toFixed(2)} pp lower than dense \\(± ${drop.standardErrorPP.toFixed(2)} pp`));
    expect(j.macs.executed).toBeLessThan(j.macs.dense);
    const conv2 = j.layers.find((l: { name: string }) => l.name === 'conv2');
    expect(conv2.spet.neurons).toBeGreaterThan(0);
    expect(conv2.sdss.outputs).toBe(32 * 32 * 16 * 16);
    expect(conv2.sfma.maps).toBe(32 * 32);
    const bad = await dyve('bench', '--model', 'cifar10-quick', '--limit', '1', '--effort', join(dir, 'missing.json'));
    expect(bad.code).not.toBe(0);
  });

  it('runs the zoo\'s shipped profiles by name', async () => {
    const json = join(tmp(), 'r.json');
    const exact = await dyve('bench', '--model', 'cifar10-quick', '--limit', '64', '--batch', '16', '--effort', 'exact', '--json', json, '--quiet');
    expect(exact.code, exact.err).toBe(0);
    // Exact SPET never changes a ReLU output, so never a prediction.
    expect(JSON.parse(readFileSync(json, 'utf8')).agreement).toBe(1);
    const calibrated = await dyve('bench', '--model', 'cifar10-quick', '--limit', '16', '--effort', 'calibrated', '--json', json, '--quiet');
    expect(calibrated.code, calibrated.err).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).macs.executed).toBeLessThan(16 * 12_354_176);
    const outside = await dyve('bench', '--model', CIFAR_PROTOTXT, '--weights', CIFAR_CAFFEMODEL, '--limit', '1', '--effort', 'calibrated');
    expect(outside.code).not.toBe(0);
    expect(outside.err).toContain('zoo');
  });

  it('runs a user-supplied prototxt + caffemodel with explicit preprocessing', async () => {
    const json = join(tmp(), 'r.json');
    const r = await dyve('bench', '--model', CIFAR_PROTOTXT, '--weights', CIFAR_CAFFEMODEL, '--dataset', 'cifar10',
      '--channels', 'rgb', '--mean', join(DATA, 'cifar10/mean.binaryproto'), '--limit', '20', '--json', json, '--quiet');
    expect(r.code).toBe(0);
    const zoo = join(tmp(), 'z.json');
    await dyve('bench', '--model', 'cifar10-quick', '--limit', '20', '--json', zoo, '--quiet');
    expect(JSON.parse(readFileSync(json, 'utf8')).top1).toBe(JSON.parse(readFileSync(zoo, 'utf8')).top1);
  });

  it('labels synthetic weights and reports no accuracy', async () => {
    const json = join(tmp(), 'r.json');
    const r = await dyve('bench', '--model', 'alexnet', '--weights', 'synthetic', '--limit', '1', '--json', json, '--quiet');
    expect(r.code).toBe(0);
    expect(r.out).toContain('SYNTHETIC weights: no accuracy');
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j).toMatchObject({ synthetic: true, top1: null, top5: null, weights: 'synthetic (seed 1)' });
    expect(j.macs.dense).toBe(724_406_816);
  });

  it('gives one clear line for bad input', async () => {
    expect((await dyve('bench')).err).toContain('dyve bench: --model is required');
    expect((await dyve('bench', '--model', 'lenet')).err).toMatch(/no model 'lenet' in the zoo \(models: alexnet, .*\)/);
    expect((await dyve('bench', '--model', 'alexnet')).err).toContain("the weights of 'alexnet' are not available here");
    expect((await dyve('bench', '--model', 'cifar10-quick', '--limit', 'ten')).err).toContain("--limit takes a whole number >= 1, found 'ten'");
    expect((await dyve('bench', '--model', 'cifar10-quick', '--bogus')).err).toContain("Unknown option '--bogus'");
    expect((await dyve('bench', '--model', 'missing.prototxt', '--weights', 'synthetic')).err).toContain('prototxt not found: missing.prototxt');

    // An image folder whose images do not fit the network without --resize/--crop.
    const dir = tmp();
    const sample = 'n01440764_tench.JPEG';
    copyFileSync(join(DATA, 'imagenet-sample', sample), join(dir, sample));
    const wrong = await dyve('bench', '--model', SQUEEZENET_PROTOTXT, '--weights', SQUEEZENET_NET, '--dataset', dir, '--quiet');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(`image '${sample}' is 500x375`);
    expect(wrong.err).toContain('but the network expects 3x227x227');

    // A corrupt image.
    const bad = tmp();
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'broken.jpg'), readFileSync(join(DATA, 'imagenet-sample', sample)).subarray(0, 2000));
    const corrupt = await dyve('bench', '--model', 'squeezenet-dc', '--dataset', bad, '--quiet');
    expect(corrupt.code).toBe(1);
    expect(corrupt.err).toMatch(/broken\.jpg/);
  });
  it('ablation: a row per mode and mechanism the profile turns on; a mechanism left off everywhere gets a note, not a dense-vs-dense row', async () => {
    const dir = tmp();
    const r = await dyve('ablation', '--models', 'cifar10-quick', '--cifar-limit', '64', '--out-dir', dir, '--benchmarks', '');
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'ablation.json'), 'utf8')) as { rows: { setting: string }[]; notes: string[] };
    const settings = json.rows.map((row) => row.setting);
    expect(settings).toEqual(expect.arrayContaining(['tile: all', 'neuron: all']));
    for (const [mode, file] of [['tile', 'effort.json'], ['neuron', 'effort-neuron.json']]) {
      const layers = Object.values(JSON.parse(readFileSync(`models/cifar10-quick/${file}`, 'utf8')).layers as Record<string, object>);
      for (const m of ['spet', 'sdss', 'sfma']) {
        const label = `${mode}: ${m.toUpperCase()}`;
        const on = layers.some((knobs) => m in knobs);
        expect(settings.includes(label)).toBe(on);
        expect(json.notes.includes(`cifar10-quick: ${file} turns no ${m.toUpperCase()} on (its calibration chose none), so "${label}" has no row.`)).toBe(!on);
      }
    }
    // The shipped profiles leave some mechanism off (tile mode: SDSS only), so the check above bites.
    expect(json.notes.length).toBeGreaterThan(0);
    // Every row's top-1 drop with its standard error.
    const rowsMd = readFileSync(join(dir, 'ablation.md'), 'utf8').split('\n').filter((l) => l.startsWith('| cifar10-quick'));
    expect(rowsMd).toHaveLength(json.rows.length);
    for (const row of rowsMd) expect(row).toMatch(/\| -?\d+\.\d\d ± \d+\.\d\d pp \|/);
    // Merged into a rerun of the same model, the earlier run's rows and command are replaced; a
    // redraw (--models '') keeps them.
    const rerun = tmp();
    const again = await dyve('ablation', '--models', 'cifar10-quick', '--cifar-limit', '16', '--out-dir', rerun, '--benchmarks', '', '--merge', join(dir, 'ablation.json'));
    expect(again.code, again.err).toBe(0);
    const merged = JSON.parse(readFileSync(join(rerun, 'ablation.json'), 'utf8')) as { commands: string[]; rows: { result: { images: number } }[] };
    expect(merged.commands).toHaveLength(1);
    expect(merged.commands[0]).toContain('--cifar-limit 16');
    expect(merged.rows.every((row) => row.result.images === 16)).toBe(true);
    const redraw = tmp();
    expect((await dyve('ablation', '--models', '', '--out-dir', redraw, '--benchmarks', '', '--merge', join(rerun, 'ablation.json'))).code).toBe(0);
    expect(JSON.parse(readFileSync(join(redraw, 'ablation.json'), 'utf8')).commands).toEqual(merged.commands);
  });
});
