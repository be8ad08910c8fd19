/**
 * `dyve compare --webgpu` in headless Chromium: our WebGPU backend, TF.js WebGPU and
 * onnxruntime-web WebGPU run in the page on the same images and weights; each predicts the
 * classes our CPU reference does, and its WebGPU calls are counted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { WebGpuCompareJson } from '../harness/commands/compare-webgpu.js';

const run = promisify(execFile);

test('compare --webgpu in Chromium: every engine agrees with the CPU reference, GPU calls counted, adapter named', async () => {
  test.setTimeout(300_000);
  const json = join(mkdtempSync(join(tmpdir(), 'dyve-compare-webgpu-')), 'chromium.json');
  const engines = ['dyvedeep-webgpu-dense', 'tfjs-webgpu', 'onnxruntime-web-webgpu', 'dyvedeep-dense'];
  await run(process.execPath, ['bin/dyve.js', 'compare', '--webgpu', '--model', 'cifar10-quick', '--runtimes', 'chromium', '--engines', engines.join(','),
    '--images-b1', '1', '--large-batch', '2', '--quiet', '--json', json], { timeout: 280_000 });
  const report = JSON.parse(readFileSync(json, 'utf8')) as WebGpuCompareJson;
  expect(report.failures).toEqual([]);
  const [chromium] = report.runtimes;
  expect(chromium.version).toMatch(/headless Chromium \d+/);
  expect(typeof chromium.adapter === 'string' && chromium.adapter.length > 0).toBe(true);
  expect(report.rows.map((r) => `${r.engine}@${r.batch}`)).toEqual(engines.flatMap((e) => [`${e}@1`, `${e}@2`]));
  for (const row of report.rows) {
    expect(row.runtime).toBe('chromium');
    expect(row.disagreements).toEqual([]);
    expect(row.coldStartMs).toBeGreaterThan(0);
    const gpu = row.engine !== 'dyvedeep-dense';
    expect(row.adapter).toBe(gpu ? chromium.adapter : null);
    if (gpu) {
      expect(row.dispatchesPerInference!).toBeGreaterThan(0);
      expect(row.submitsPerInference!).toBeGreaterThanOrEqual(1);
    }
  }
  expect(report.rows.find((r) => r.engine === 'dyvedeep-webgpu-dense')!.submitsPerInference).toBe(1);
});
