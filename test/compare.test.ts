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
    const args = ['compare', '--model', 'cifar10-quick', '--threads', '1', '--images-b1', '8', '--images-b64', '64', '--rounds', '1', '--quiet', '--json', file];
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

  it('names an unknown engine', async () => {
    const err: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    expect(await main(['compare', '--model', 'cifar10-quick', '--engines', 'caffe', '--quiet'])).toBe(1);
    expect(err.join('\n')).toMatch(/unknown engine 'caffe' \(known: dyvedeep-dense, dyvedeep-dynamic, dyvedeep-neuron, onnxruntime-node, onnxruntime-web, tfjs-wasm\)/);
  });
});
