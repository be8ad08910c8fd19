/**
 * `dyve compare --webgpu` in Node (Dawn) on a few CIFAR-10 images: the row contract of `dyve
 * compare` plus the WebGPU fields, every engine's predictions checked against the CPU reference,
 * dispatches and submissions counted for every GPU engine alike (ours equal to the scheduler's
 * record), and an engine that cannot run here listed with its exact error. Chromium's rows are
 * the same code in the page (harness/compare-webgpu/page-entry.ts), run by the command itself.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeAdapter } from '../src/backends/webgpu/gpu-context.js';
import { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { loadNetwork } from '../src/formats/load-network.js';
import { shapeSize } from '../src/ir/network.js';
import type { WebGpuCompareJson } from '../harness/commands/compare-webgpu.js';
import { dyve } from './helpers/cli.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT } from './helpers/files.js';

const adapter = await probeAdapter();

describe('dyve compare --webgpu', () => {
  it('Node rows: the row contract, predictions as the CPU reference\'s, GPU calls counted, the failing peer named', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'dyve-compare-webgpu-')), 'out.json');
    const engines = ['dyvedeep-webgpu-dense', 'tfjs-webgpu', 'onnxruntime-web-webgpu', 'dyvedeep-dense'];
    const r = await dyve('compare', '--webgpu', '--model', 'cifar10-quick', '--runtimes', 'node', '--engines', engines.join(','),
      '--images-b1', '2', '--large-batch', '2', '--json', json, '--quiet');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as WebGpuCompareJson;
    expect(report.runtimes).toEqual([{ runtime: 'node', version: expect.stringContaining('Dawn'), adapter: adapter?.name ?? null }]);
    expect(report.rows.map((row) => `${row.engine}@${row.batch}`)).toEqual([
      'dyvedeep-webgpu-dense@1', 'dyvedeep-webgpu-dense@2', 'tfjs-webgpu@1', 'tfjs-webgpu@2', 'dyvedeep-dense@1', 'dyvedeep-dense@2',
    ]);
    for (const row of report.rows) {
      for (const key of ['engine', 'threads', 'batch', 'msPerImage', 'imagesPerSecond', 'top1', 'coldStartMs', 'adapter']) expect(row).toHaveProperty(key);
      expect(row.images).toBe(2);
      expect(row.imagesPerSecond).toBeCloseTo(1000 / row.msPerImage, 6);
      expect(row.coldStartMs).toBeGreaterThan(0);
      // Every engine computes the same function of the same weights: the same classes.
      expect(row.disagreements).toEqual([]);
      expect(row.agreement).toBe(1);
      const gpu = row.engine !== 'dyvedeep-dense';
      expect(row.adapter).toBe(gpu ? adapter?.name : null);
      if (gpu) expect(row.submitsPerInference).toBeGreaterThanOrEqual(1);
      else expect([row.dispatchesPerInference, row.submitsPerInference]).toEqual([null, null]);
    }
    // Ours: the counted dispatches are the scheduler's record, one submission per inference.
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    const gpu = await WebGpuBackend.create();
    try {
      const record = (await gpu.run(net, new Float32Array(shapeSize(net.inputShape)), 1)).dispatches ?? [];
      for (const row of report.rows.filter((x) => x.engine === 'dyvedeep-webgpu-dense')) {
        expect(row.dispatchesPerInference).toBe(record.length);
        expect(row.submitsPerInference).toBe(1);
      }
    } finally {
      gpu.destroy();
    }
    // onnxruntime-web's Node build has no WebGPU execution provider: said, with its error.
    expect(report.failures).toEqual([{ runtime: 'node', engine: 'onnxruntime-web-webgpu', error: expect.stringMatching(/webgpu/i) }]);
    expect(r.out).toMatch(/node: onnxruntime-web-webgpu cannot run: .*webgpu/i);
    expect(r.out).toMatch(/vs tfjs-webgpu/);
  }, 120_000);

  it('refuses what it cannot measure, before measuring', async () => {
    const r = await dyve('compare', '--webgpu', '--model', 'alexnet', '--quiet');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/zoo model the page can load: --model cifar10-quick or squeezenet-dc/);
    const t = await dyve('compare', '--webgpu', '--model', 'cifar10-quick', '--threads', '2', '--quiet');
    expect(t.err).toMatch(/--threads does not apply to compare --webgpu/);
    const e = await dyve('compare', '--webgpu', '--model', 'cifar10-quick', '--engines', 'tfjs-gpu', '--quiet');
    expect(e.err).toMatch(/--engines takes a list of .*tfjs-webgpu.*found 'tfjs-gpu'/);
  });
});
