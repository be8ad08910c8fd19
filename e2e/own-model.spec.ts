/**
 * The demo's own-model loader in Chromium: a Caffe prototxt + caffemodel with an effort profile,
 * and the same model exported to ONNX, picked as files; predictions equal to the Node CPU path
 * with the same preprocessing, and a clear message for an incomplete set of files.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { exportOnnx, loadNetwork, resolveDataDir } from '../dist/src/index.js';
import { nodeOwnPrediction } from './node-reference.js';

interface Demo {
  runs: number;
  error?: string;
  last?: {
    model: string; image: string; scale: number;
    dense: { top5: { index: number; probability: number }[] };
    dynamic: { top5: { index: number; probability: number }[]; macs: { executed: number; dense: number } };
  };
}

const demo = (page: Page) => page.evaluate(() => (window as unknown as { dyveDemo: Demo }).dyveDemo);

/** Clicks Run; resolves with the page's state once the run finished or failed. */
async function run(page: Page): Promise<Demo> {
  const before = await demo(page);
  await page.getByTestId('run').click();
  await page.waitForFunction(([n, e]) => {
    const d = (window as unknown as { dyveDemo: Demo }).dyveDemo;
    return d.runs > n || (d.error !== undefined && d.error !== e);
  }, [before.runs, before.error] as const, { timeout: 300_000 });
  return demo(page);
}

const data = resolveDataDir();
const prototxt = join(data, 'caffe/cifar10_quick.prototxt');
const caffemodel = join(data, 'caffe/cifar10_quick_iter_5000.caffemodel');
const profile = 'models/cifar10-quick/effort.json';
const prep = { channels: 'rgb' as const, mean: [125, 123, 114], scale: 1 };

test('own model: Caffe files and their ONNX export run in the page, equal to Node; missing weights are named', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('run')).toBeEnabled({ timeout: 120_000 });
  await page.getByTestId('model').selectOption('own');
  await page.getByTestId('own-mean').fill(prep.mean.join(','));

  // Caffe: prototxt, caffemodel and the effort profile, picked together.
  await page.getByTestId('own-files').setInputFiles([prototxt, caffemodel, profile]);
  let state = await run(page);
  expect(state.error).toBeUndefined();
  // The model's 10 classes on a 3x32x32 input: the CIFAR-10 picker appears once it has loaded.
  await expect(page.getByTestId('cifar-index')).toBeVisible();
  await page.getByTestId('cifar-index').fill('7');
  state = await run(page);
  expect(state.error).toBeUndefined();
  const caffe = state.last!;
  expect(caffe.model).toBe('own');
  expect(caffe.image).toBe('test_batch.bin#7');
  for (const [variant, scale] of [['dense', 0], ['dynamic', 1]] as const) {
    const node = await nodeOwnPrediction({ model: prototxt, weights: caffemodel, profile }, prep, caffe.image, scale);
    expect(caffe[variant].top5.map((c) => c.index), `${variant} top-5`).toEqual(node.top5);
    caffe[variant].top5.forEach((c, i) => expect(Math.abs(c.probability - node.probabilities[i]), `${variant} p[${i}]`).toBeLessThanOrEqual(1e-4));
  }
  expect(caffe.dynamic.macs.executed).toBeLessThan(caffe.dynamic.macs.dense);

  // The same network as ONNX (weights inside), with the same profile: the same predictions.
  const dir = mkdtempSync(join(tmpdir(), 'dyve-own-'));
  const onnx = join(dir, 'cifar10_quick.onnx');
  writeFileSync(onnx, exportOnnx(await loadNetwork(prototxt, { kind: 'file', path: caffemodel })));
  await page.getByTestId('own-files').setInputFiles([onnx, profile]);
  state = await run(page);
  expect(state.error).toBeUndefined();
  const fromOnnx = state.last!;
  expect(fromOnnx.image).toBe('test_batch.bin#7');
  for (const variant of ['dense', 'dynamic'] as const) {
    expect(fromOnnx[variant].top5.map((c) => c.index), `ONNX ${variant} top-5`).toEqual(caffe[variant].top5.map((c) => c.index));
    fromOnnx[variant].top5.forEach((c, i) => expect(Math.abs(c.probability - caffe[variant].top5[i].probability)).toBeLessThanOrEqual(1e-5));
  }
  expect(fromOnnx.dynamic.macs).toEqual(caffe.dynamic.macs);

  // A prototxt without its weights: the page names what is missing.
  await page.getByTestId('own-files').setInputFiles([prototxt]);
  state = await run(page);
  expect(state.error).toContain('needs exactly one weights file');
  await expect(page.getByTestId('status')).toContainText('cifar10_quick.prototxt needs exactly one weights file');
  expect(errors).toEqual([]);
});
