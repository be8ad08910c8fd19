/**
 * `npm run bench:browser` (dyve browser-bench): the harness inside headless Chromium writes the
 * JSON contract of `dyve bench`, naming the browser's adapter, with the numbers Node gets on the
 * same images.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';

const run = promisify(execFile);

/** Every key path of a JSON value (arrays: their first element's). */
function keys(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length ? keys(value[0], `${prefix}[]`) : [`${prefix}[]`];
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keys(v, `${prefix}.${k}`)]);
}

test('bench:browser writes the dyve bench JSON, naming the adapter, equal to Node on the same images', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dyve-bench-'));
  const common = ['--model', 'cifar10-quick', '--compare', 'dense', '--limit', '30', '--quiet'];
  // The page runs WebGPU, Node its CPU path: both the shipped tile-mode profile.
  await run(process.execPath, ['bin/dyve.js', 'browser-bench', ...common, '--effort', 'calibrated', '--json', join(dir, 'browser.json')], { timeout: 300_000 });
  await run(process.execPath, ['bin/dyve.js', 'bench', ...common, '--effort', 'calibrated', '--json', join(dir, 'node.json')], { timeout: 300_000 });
  const browser = JSON.parse(readFileSync(join(dir, 'browser.json'), 'utf8'));
  const node = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8'));
  expect(keys(browser).sort()).toEqual(keys(node).sort());
  expect(browser.backend).toBe('webgpu');
  expect(typeof browser.adapter === 'string' && browser.adapter.length > 0).toBe(true);
  expect(browser.machine).toMatch(/headless Chromium \d+/);
  expect(browser.images).toBe(30);
  expect(browser.macs.dense).toBe(node.macs.dense);
  expect(browser.dense.top1).toBe(node.dense.top1);
  expect(Math.abs(browser.top1 - node.top1)).toBeLessThanOrEqual(1 / 30);
  expect(Math.abs(browser.macs.executed - node.macs.executed) / node.macs.executed).toBeLessThan(1e-3);
  expect(browser.compare.speedup).toBeGreaterThan(0);
});
