/**
 * `dyve compare`: every engine runs the same images, and the JSON has the contract. A
 * small run (the speed figures are the benchmark's business, not a test's).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../harness/cli.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('dyve compare', () => {
  it('runs dyvedeep dense, dynamic (tile mode) and neuron mode and the three peers on the same images, writing the JSON contract', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const file = join(mkdtempSync(join(tmpdir(), 'dyve-compare-')), 'compare.json');
    const args = ['compare', '--model', 'cifar10-quick', '--threads', '1', '--images-b1', '8', '--images-b64', '64', '--rounds', '1', '--min-seconds', '0', '--quiet', '--json', file];
    expect(await main(args)).toBe(0);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.model).toBe('cifar10-quick');
    expect(typeof json.machine).toBe('string');
    const engines = ['dyvedeep-dense', 'dyvedeep-dynamic', 'dyvedeep-neuron', 'onnxruntime-node', 'onnxruntime-web', 'tfjs-wasm'];
    for (const batch of [1, 64]) {
      const rows = json.rows.filter((r: { batch: number }) => r.batch === batch);
      expect(rows.map((r: { engine: string }) => r.engine)).toEqual(engines);
      for (const r of rows) {
        expect(Object.keys(r)).toEqual(expect.arrayContaining(['engine', 'threads', 'batch', 'msPerImage', 'imagesPerSecond', 'top1']));
        expect(r.threads).toBe(1);
        expect(r.msPerImage).toBeGreaterThan(0);
        expect(r.imagesPerSecond).toBeCloseTo(1000 / r.msPerImage, 6);
        expect(r.gflops).toBeGreaterThan(0);
      }
      // The same network and weights everywhere: the dense engines agree on top-1.
      const dense = rows.filter((r: { engine: string }) => r.engine !== 'dyvedeep-dynamic' && r.engine !== 'dyvedeep-neuron').map((r: { top1: number }) => r.top1);
      expect(new Set(dense).size).toBe(1);
      expect(rows.find((r: { engine: string }) => r.engine === 'onnxruntime-node').ratioToOnnxruntimeNode).toBe(1);
      // DyVEDeep's engines against dyvedeep-dense, paired by round (one round here); none for the peers.
      const speedup = (engine: string) => rows.find((r: { engine: string }) => r.engine === engine).speedupVsDense;
      expect(speedup('dyvedeep-dense')).toEqual({ median: 1, min: 1, max: 1 });
      const dyn = rows.find((r: { engine: string }) => r.engine === 'dyvedeep-dynamic');
      const den = rows.find((r: { engine: string }) => r.engine === 'dyvedeep-dense');
      expect(speedup('dyvedeep-dynamic').median).toBeCloseTo(dyn.imagesPerSecond / den.imagesPerSecond, 6);
      expect(speedup('tfjs-wasm')).toBeNull();
    }
  });

  it('--min-seconds: each pass goes over its images again until it has run that long, top-1 and MACs from the first pass', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const dir = mkdtempSync(join(tmpdir(), 'dyve-compare-'));
    const run = async (minSeconds: string) => {
      const file = join(dir, `c${minSeconds}.json`);
      const args = ['compare', '--model', 'cifar10-quick', '--threads', '1', '--engines', 'dyvedeep-dense,dyvedeep-dynamic', '--images-b1', '4', '--images-b64', '64',
        '--rounds', '1', '--min-seconds', minSeconds, '--quiet', '--json', file];
      expect(await main(args)).toBe(0);
      return JSON.parse(readFileSync(file, 'utf8'));
    };
    const once = await run('0');
    const long = await run('0.3');
    expect(once.setup.minSeconds).toBe(0);
    expect(long.setup.minSeconds).toBe(0.3);
    for (const [i, row] of long.rows.entries()) {
      const first = once.rows[i];
      expect(first.repeats).toBe(1);
      // 4 images at batch 1 take milliseconds: many passes; their mean time stays a per-pass time.
      expect(row.repeats).toBeGreaterThan(1);
      expect(row.repeats * (row.batch === 1 ? 4 : 64) * row.msPerImage).toBeGreaterThanOrEqual(300);
      expect(row.top1).toBe(first.top1);
      // GFLOP/s x ms/image = 2 x MACs per image: the first pass's MACs, not the repeats' sum.
      expect(row.gflops * row.msPerImage).toBeCloseTo(first.gflops * first.msPerImage, 6);
    }
  });

  it('names an unknown engine', async () => {
    const err: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    expect(await main(['compare', '--model', 'cifar10-quick', '--engines', 'caffe', '--quiet'])).toBe(1);
    expect(err.join('\n')).toMatch(/unknown engine 'caffe' \(known: dyvedeep-dense, dyvedeep-dynamic, dyvedeep-neuron, onnxruntime-node, onnxruntime-web, tfjs-wasm\)/);
  });
});
