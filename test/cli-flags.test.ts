/**
 * Every flag of the CLI checked before a run: numbers against their range (the message says it),
 * --threads capped at the cores with a notice, output paths before any work, and the --mean,
 * prototxt and profile mistakes that used to read as something else (issue 16).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dyve } from './helpers/cli.js';
import { intFlag, numberFlag, threadsFlag, withNegativeValues } from '../harness/flags.js';
import { checkOutputDir, checkOutputFile } from '../harness/output-paths.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT } from './helpers/files.js';

afterEach(() => vi.restoreAllMocks());

const tmp = () => mkdtempSync(join(tmpdir(), 'dyve-flags-'));
const cores = availableParallelism();
const FAST = 5_000;

describe('numeric flags (harness/flags.ts)', () => {
  it('joins a negative number to the string option before it, leaving flags and -- alone', () => {
    const options = { limit: { type: 'string' }, model: { type: 'string', short: 'm' }, quiet: { type: 'boolean', short: 'q' } } as const;
    expect(withNegativeValues(['--limit', '-1', '-q'], options)).toEqual(['--limit=-1', '-q']);
    expect(withNegativeValues(['-m', '-2.5', '--limit', '-.5'], options)).toEqual(['--model=-2.5', '--limit=-.5']);
    expect(withNegativeValues(['--quiet', '-1'], options)).toEqual(['--quiet', '-1']);
    expect(withNegativeValues(['--limit', '-q'], options)).toEqual(['--limit', '-q']);
    expect(withNegativeValues(['--', '--limit', '-1'], options)).toEqual(['--', '--limit', '-1']);
  });

  it('says the allowed range of whole and finite numbers', () => {
    expect(intFlag({ n: '7' }, 'n', 1, { min: 1 })).toBe(7);
    expect(intFlag({}, 'n', 3, { min: 1 })).toBe(3);
    expect(intFlag({}, 'n', undefined, { min: 1 })).toBeUndefined();
    for (const bad of ['0', '-1', '1.5', '1e3', '', 'ten', '99999999999999999999']) {
      expect(() => intFlag({ n: bad }, 'n', 1, { min: 1 })).toThrow(`--n takes a whole number >= 1, found '${bad}'`);
    }
    expect(() => intFlag({ n: '9' }, 'n', 1, { min: 0, max: 8 })).toThrow("--n takes a whole number in [0, 8], found '9'");
    expect(numberFlag({ s: '0.5' }, 's', 1, { min: 0, above: true })).toBe(0.5);
    for (const bad of ['0', 'NaN', 'Infinity', '1e400', '']) {
      expect(() => numberFlag({ s: bad }, 's', 1, { min: 0, above: true })).toThrow(`--s takes a finite number > 0, found '${bad}'`);
    }
    expect(() => numberFlag({ b: '101' }, 'b', 1, { min: 0, max: 100 })).toThrow("--b takes a finite number in [0, 100], found '101'");
  });

  it('caps --threads at the cores, with one notice, and refuses 0, negatives and fractions', () => {
    const notices: string[] = [];
    expect(threadsFlag({ threads: String(cores + 5) }, 1, (l) => notices.push(l))).toBe(cores);
    expect(notices).toEqual([`dyvedeep: --threads ${cores + 5} is more than the ${cores} core${cores === 1 ? '' : 's'} available: running ${cores} thread${cores === 1 ? '' : 's'}`]);
    expect(threadsFlag({ threads: '1' }, 4, (l) => notices.push(l))).toBe(1);
    expect(threadsFlag({}, 4, (l) => notices.push(l))).toBe(4);
    expect(notices).toHaveLength(1);
    for (const bad of ['0', '-2', '1.5', 'all']) expect(() => threadsFlag({ threads: bad }, 1)).toThrow(`--threads takes a whole number >= 1 (up to the ${cores}`);
  });
});

describe('output paths (harness/output-paths.ts)', () => {
  it('refuses a missing folder, a directory, a file used as a folder, and an empty path', () => {
    const dir = tmp();
    expect(() => checkOutputFile('--json', join(dir, 'r.json'))).not.toThrow();
    expect(() => checkOutputFile('--json', join(dir, 'missing', 'r.json'))).toThrow(`--json ${join(dir, 'missing', 'r.json')}: the folder ${join(dir, 'missing')} does not exist`);
    expect(() => checkOutputFile('--json', dir)).toThrow(`--json ${dir} is a directory`);
    writeFileSync(join(dir, 'file'), '');
    expect(() => checkOutputFile('--out', join(dir, 'file', 'x.json'))).toThrow('is not a folder');
    expect(() => checkOutputFile('--json', '')).toThrow("--json needs a file path, found ''");
    expect(() => checkOutputDir('--out-dir', join(dir, 'a', 'b'))).not.toThrow();
    expect(() => checkOutputDir('--out-dir', join(dir, 'file'))).toThrow('is a file, not a folder');
    mkdirSync(join(dir, 'out', 'ablation.md'), { recursive: true });
    expect(() => checkOutputDir('--out-dir', join(dir, 'out'), ['ablation.md'])).toThrow('ablation.md is a directory');
  });
});

describe('dyve flags end to end', () => {
  it('--threads 999 runs capped at the cores and says so in one line', async () => {
    const json = join(tmp(), 'r.json');
    const r = await dyve('bench', '--model', 'cifar10-quick', '--limit', '2', '--threads', '999', '--json', json, '--quiet');
    expect(r.code, r.err).toBe(0);
    const notice = r.err.split('\n').filter((l) => l.includes('--threads 999'));
    expect(notice).toEqual([`dyvedeep: --threads 999 is more than the ${cores} core${cores === 1 ? '' : 's'} available: running ${cores} thread${cores === 1 ? '' : 's'}`]);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ images: 2, threads: cores });
    const explicit = await dyve('bench', '--model', 'cifar10-quick', '--limit', '2', '--backend', 'wasm', '--batch', '2', '--threads', '999', '--json', json, '--quiet');
    expect(explicit.code, explicit.err).toBe(0);
    expect(explicit.err).toContain('--threads 999 is more than');
    expect(JSON.parse(readFileSync(json, 'utf8')).threads).toBe(cores);
    expect((await dyve('bench', '--model', 'cifar10-quick', '--threads', '0')).err).toContain('dyve bench: --threads takes a whole number >= 1');
  }, FAST * 2);

  it('--json into a missing folder or onto a directory fails before the run', async () => {
    const dir = tmp();
    const missing = join(dir, 'no-such-folder', 'r.json');
    const r = await dyve('bench', '--model', 'cifar10-quick', '--json', missing);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`dyve bench: --json ${missing}: the folder ${join(dir, 'no-such-folder')} does not exist (create it first)`);
    // Nothing ran: no backend chosen, no results printed, in well under the run's time.
    expect(r.out).toBe('');
    expect(r.seconds).toBeLessThan(1);
    const onDir = await dyve('bench', '--model', 'cifar10-quick', '--json', dir);
    expect(onDir.err).toBe(`dyve bench: --json ${dir} is a directory: give a file path inside it`);
    expect((await dyve('bench', '--model', 'cifar10-quick', '--trace', missing)).err).toContain(`--trace ${missing}: the folder`);
  }, FAST);

  it('every command checks the paths it writes before it starts', async () => {
    const dir = tmp();
    const missing = (name: string) => join(dir, 'nope', name);
    const cases: [string[], string][] = [
      [['info', '--model', 'cifar10-quick', '--json', missing('i.json')], '--json'],
      [['export', '--model', 'cifar10-quick', '--onnx', missing('m.onnx')], '--onnx'],
      [['calibrate', '--model', 'cifar10-quick', '--out', missing('p.json')], '--out'],
      [['calibrate', '--model', 'cifar10-quick', '--out', join(dir, 'p.json'), '--log', missing('p.log')], '--log'],
      [['compare', '--model', 'cifar10-quick', '--json', missing('c.json')], '--json'],
      [['benchmarks', '--out', missing('B.md')], '--out'],
      [['benchmarks', '--json', missing('b.json')], '--json'],
      [['browser-bench', '--json', missing('b.json')], '--json'],
      [['ablation', '--benchmarks', missing('B.md')], '--benchmarks'],
    ];
    for (const [args, flag] of cases) {
      const r = await dyve(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toContain(`dyve ${args[0]}: ${flag} ${missing('')}`);
      expect(r.err).toContain('does not exist');
    }
    writeFileSync(join(dir, 'file'), '');
    expect((await dyve('ablation', '--out-dir', join(dir, 'file'))).err).toContain(`--out-dir ${join(dir, 'file')} is a file, not a folder`);
  }, FAST);

  it('--limit -1, --batch -4 and --crop -5 get a range message, not "ambiguous"', async () => {
    const m = ['bench', '--model', 'cifar10-quick'];
    expect((await dyve(...m, '--limit', '-1')).err).toBe("dyve bench: --limit takes a whole number >= 1, found '-1'");
    expect((await dyve(...m, '--limit=-1')).err).toBe("dyve bench: --limit takes a whole number >= 1, found '-1'");
    expect((await dyve(...m, '--batch', '-4')).err).toBe("dyve bench: --batch takes a whole number >= 1, found '-4'");
    expect((await dyve(...m, '--crop', '-5')).err).toBe("dyve bench: --crop takes a whole number in [1, 8192], found '-5'");
    expect((await dyve(...m, '--scale', '0')).err).toContain("--scale takes a finite number > 0, found '0'");
    expect((await dyve(...m, '--resize', '0x0')).err).toContain("--resize takes WIDTHxHEIGHT, whole numbers in [1, 8192], e.g. 256x256; found '0x0'");
    expect((await dyve(...m, '--seed', '-1')).err).toContain("--seed takes a whole number in [0, 4294967295], found '-1'");
  }, FAST);

  it('--limit 0 and --batch 0 are refused, not run as "all" and 1', async () => {
    const m = ['bench', '--model', 'cifar10-quick'];
    const limit = await dyve(...m, '--limit', '0');
    expect(limit.code).toBe(1);
    expect(limit.err).toBe("dyve bench: --limit takes a whole number >= 1, found '0'");
    const batch = await dyve(...m, '--batch', '0');
    expect(batch.code).toBe(1);
    expect(batch.err).toBe("dyve bench: --batch takes a whole number >= 1, found '0'");
    expect((await dyve(...m, '--backend', 'wasm', '--batch', '0')).err).toContain("--batch takes a whole number >= 1, found '0'");
  }, FAST);

  it('other commands range-check their numbers before they start', async () => {
    const cases: [string[], string][] = [
      [['calibrate', '--model', 'cifar10-quick', '--out', join(tmp(), 'p.json'), '--budget', '101'], "--budget takes a finite number in [0, 100], found '101'"],
      [['calibrate', '--model', 'cifar10-quick', '--out', join(tmp(), 'p.json'), '--calib', '0'], "--calib takes a whole number >= 1, found '0'"],
      [['calibrate', '--model', 'cifar10-quick', '--out', join(tmp(), 'p.json'), '--steps', '-1'], "--steps takes a whole number >= 0, found '-1'"],
      [['calibrate', '--model', 'cifar10-quick', '--out', join(tmp(), 'p.json'), '--limit', '5'], '--limit does not apply to calibrate: --calib N'],
      [['compare', '--model', 'cifar10-quick', '--rounds', '0'], "--rounds takes a whole number >= 1, found '0'"],
      [['compare', '--model', 'cifar10-quick', '--min-seconds', '-1'], "--min-seconds takes a finite number >= 0, found '-1'"],
      [['compare', '--model', 'cifar10-quick', '--images-b1', '-3'], "--images-b1 takes a whole number >= 1, found '-3'"],
      [['compare', '--model', 'cifar10-quick', '--threads', '1.5'], '--threads takes a whole number >= 1'],
      [['export', '--model', 'cifar10-quick', '--onnx', join(tmp(), 'm.onnx'), '--batch', '0'], "--batch takes a whole number >= 1, found '0'"],
      [['benchmarks', '--cifar-limit', '0'], "--cifar-limit takes a whole number >= 1, found '0'"],
      [['ablation', '--imagenet-limit', '-2'], "--imagenet-limit takes a whole number >= 1, found '-2'"],
      [['browser-bench', '--limit', '0'], "--limit takes a whole number >= 1, found '0'"],
      [['browser-bench', '--effort', '-1'], "--effort takes dense, calibrated or a scale, a finite number >= 0; found '-1'"],
      [['models', '--bogus'], "Unknown option '--bogus'"],
    ];
    for (const [args, message] of cases) {
      const r = await dyve(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toContain(`dyve ${args[0]}: ${message}`);
    }
  }, FAST);

  it('--mean NaN,0,0 says the mean values must be finite numbers', async () => {
    const r = await dyve('bench', '--model', 'cifar10-quick', '--mean', 'NaN,0,0');
    expect(r.code).toBe(1);
    expect(r.err).toContain("the mean values must be finite numbers, found 'NaN' in 'NaN,0,0'");
    expect(r.err).not.toContain('not found');
    expect((await dyve('bench', '--model', 'cifar10-quick', '--mean', '1,2')).err).toContain("found 2 values in '1,2'");
    expect((await dyve('bench', '--model', 'cifar10-quick', '--mean', '-104,-117,1e400')).err).toContain("found '1e400'");
    // A negative mean value is a value, not an option.
    const negative = await dyve('bench', '--model', 'cifar10-quick', '--mean', '-1,0,0', '--limit', '1', '--backend', 'cpu', '--quiet');
    expect(negative.code, negative.err).toBe(0);
  }, FAST);

  it('a missing prototxt is "not found" even without --weights', async () => {
    const r = await dyve('bench', '--model', 'missing.prototxt');
    expect(r.err).toBe('dyve bench: prototxt not found: missing.prototxt');
    expect((await dyve('info', '--model', 'missing.prototxt')).err).toBe('dyve info: prototxt not found: missing.prototxt');
  }, FAST);

  it('a prototxt outside the zoo without --mean runs with a notice that no mean is subtracted', async () => {
    const args = ['bench', '--model', CIFAR_PROTOTXT, '--weights', CIFAR_CAFFEMODEL, '--dataset', 'cifar10', '--limit', '2', '--backend', 'cpu', '--quiet'];
    const r = await dyve(...args);
    expect(r.code, r.err).toBe(0);
    const notice = r.err.split('\n').filter((l) => l.includes('no mean is subtracted'));
    expect(notice).toHaveLength(1);
    expect(notice[0]).toContain('--mean FILE.binaryproto or --mean r,g,b');
    const given = await dyve(...args, '--mean', '125,123,114');
    expect(given.code, given.err).toBe(0);
    expect(given.err).not.toContain('no mean is subtracted');
    // The zoo declares its mean: no notice.
    expect((await dyve('bench', '--model', 'cifar10-quick', '--limit', '1', '--backend', 'cpu', '--quiet')).err).not.toContain('no mean');
  }, FAST);

  it('a profile threshold of 1e400 (Infinity to JSON.parse) is named as out of range, not null', async () => {
    const file = join(tmp(), 'p.json');
    writeFileSync(file, '{ "layers": { "conv2": { "spet": { "fraction": 0.5, "threshold": 1e400 } } } }');
    const r = await dyve('bench', '--model', 'cifar10-quick', '--limit', '1', '--effort', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: layer 'conv2'.spet.threshold must be a finite number, found Infinity (out of range: not a finite number`);
    expect(r.err).not.toContain('null');
    writeFileSync(file, '{ "layers": { "conv2": { "spet": { "fraction": 0.5, "threshold": 0, "thresholds": [0, -1e400] }, "tile": { "positions": 8 } } } }');
    expect((await dyve('bench', '--model', 'cifar10-quick', '--limit', '1', '--effort', file)).err).toContain('.spet.thresholds must be an array of finite numbers, found -Infinity (out of range');
  }, FAST);

  it('says the ranges in --help', async () => {
    expect((await dyve('bench', '--help')).out).toMatch(/--threads N .*N >= 1[\s\S]*More than the cores available runs on the\s+cores/);
    expect((await dyve('bench', '--help')).out).toContain('--limit N             the first N images only (after --positions), N >= 1');
    expect((await dyve('calibrate', '--help')).out).not.toContain('--limit N');
    expect((await dyve('compare', '--help')).out).toContain('--rounds R            interleaved rounds, R >= 1');
  }, FAST);
});
