/**
 * The demo page in Chromium: both models on WebGPU (SwiftShader here), predictions equal to the
 * Node CPU path on the same images, charts and heat maps drawn, the effort sweep, and the CPU
 * fallback of a browser launched without WebGPU.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { launchChromium } from '../harness/browser/chromium.js';
import { nodePrediction } from './node-reference.js';

/** The page's `window.dyveDemo` (demo/src/main.ts), as much as the tests read. */
interface Demo {
  backend: string;
  adapter: string | null;
  fallback: string | null;
  runs: number;
  error?: string;
  last?: {
    image: string;
    scale: number;
    dense: { top5: { index: number; probability: number }[]; macs: { executed: number } };
    dynamic: { top5: { index: number; probability: number }[]; macs: { executed: number; dense: number }; decisions?: unknown[] };
  };
  sweep?: { points: { scale: number; macsFraction: number; agreement: number; top1: number | null }[] };
}

const demo = (page: Page) => page.evaluate(() => (window as unknown as { dyveDemo: Demo }).dyveDemo);

async function open(page: Page, url = '/'): Promise<Demo> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('run')).toBeEnabled({ timeout: 120_000 });
  expect(errors).toEqual([]);
  return demo(page);
}

/** Clicks Run and waits for the run to finish (or fail, which the test then reports). */
async function run(page: Page): Promise<NonNullable<Demo['last']>> {
  const before = (await demo(page)).runs;
  await page.getByTestId('run').click();
  await page.waitForFunction((n) => {
    const d = (window as unknown as { dyveDemo: Demo }).dyveDemo;
    return d.runs > n || d.error !== undefined;
  }, before, { timeout: 600_000 });
  const state = await demo(page);
  expect(state.error).toBeUndefined();
  return state.last!;
}

/**
 * The page's top-5 equals Node's: same classes in the same order, probabilities within `tol`
 * (Node runs the profile the page runs).
 */
async function expectSameAsNode(model: string, last: NonNullable<Demo['last']>, tol: number): Promise<void> {
  for (const [variant, scale] of [['dense', 0], ['dynamic', last.scale]] as const) {
    const node = await nodePrediction(model, last.image, scale);
    const page = last[variant];
    expect(page.top5.map((c) => c.index), `${model} ${last.image} ${variant} top-5`).toEqual(node.top5);
    page.top5.forEach((c, i) => expect(Math.abs(c.probability - node.probabilities[i]), `${variant} p[${i}]`).toBeLessThanOrEqual(tol));
    // Executed MACs: the GPU's dynamic decisions may differ from the CPU's on a handful of neurons.
    expect(Math.abs(page.macs.executed - node.macsExecuted) / node.macsExecuted, `${variant} MACs`).toBeLessThan(1e-3);
  }
}

// Chromium's adapter here is SwiftShader, a software one that `auto` passes over: WebGPU is chosen.
test.describe('on WebGPU', () => {
  test('cifar10-quick: predictions equal the Node CPU path, charts and heat maps render', async ({ page }) => {
    const state = await open(page, '/?backend=webgpu');
    expect(state.backend).toBe('webgpu');
    await expect(page.getByTestId('backend')).toContainText('WebGPU:');
    await page.getByTestId('model').selectOption('cifar10-quick');
    for (const index of [0, 1, 7]) {
      await page.getByTestId('cifar-index').fill(String(index));
      const last = await run(page);
      expect(last.image).toBe(`test_batch.bin#${index}`);
      await expectSameAsNode('cifar10-quick', last, 1e-4);
      expect(last.dynamic.macs.executed).toBeLessThan(last.dynamic.macs.dense);
    }
    // One bar pair per Convolution / InnerProduct layer.
    await expect(page.locator('#layer-chart rect.bar-dynamic')).toHaveCount(5);
    await expect(page.locator('#dynamic ol.top5 li')).toHaveCount(5);
    // Heat maps: one row per dynamic layer of the shipped profile (SPET, SDSS and SFMA maps), each
    // canvas drawn with some colour.
    const dynamicLayers = Object.keys(JSON.parse(readFileSync('models/cifar10-quick/effort.json', 'utf8')).layers).length;
    expect(dynamicLayers).toBeGreaterThan(0);
    await expect(page.locator('.decision-row')).toHaveCount(dynamicLayers);
    const coloured = await page.locator('canvas.heat-map').evaluateAll((canvases) => canvases.map((c) => {
      const canvas = c as HTMLCanvasElement;
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] < 250 || px[i + 1] < 250 || px[i + 2] < 250) n++;
      return n;
    }));
    expect(coloured).toHaveLength(3 * dynamicLayers);
    expect(coloured.filter((n) => n > 100).length).toBeGreaterThanOrEqual(dynamicLayers);
    await page.screenshot({ path: test.info().outputPath('cifar10-quick.png'), fullPage: true, mask: [page.locator('#preview')], maskColor: '#dee2e6' });
  });

  test('squeezenet-dc: predictions equal the Node CPU path', async ({ page }) => {
    await open(page, '/?backend=webgpu');
    await page.getByTestId('model').selectOption('squeezenet-dc');
    const file = 'n01443537_goldfish.JPEG';
    await page.getByTestId('imagenet-file').selectOption(file);
    const last = await run(page);
    expect(last.image).toBe(file);
    await expectSameAsNode('squeezenet-dc', last, 1e-3);
    await expect(page.locator('#layer-chart rect.bar-dynamic')).toHaveCount(26);
    // Its shipped tile profile is all dense (no tile setting paid for itself in calibration): the
    // DyVEDeep run is the dense one, and the page says so.
    expect(last.dynamic.macs.executed).toBe(last.dense.macs.executed);
    await expect(page.getByTestId('heat-maps')).toContainText('No mechanism is on at this effort scale.');
  });

  test('the effort sweep plots accuracy against work, dense at 100 %', async ({ page }) => {
    await open(page, '/?backend=webgpu');
    await page.getByTestId('model').selectOption('cifar10-quick');
    await run(page);
    await page.getByTestId('sweep-count').fill('40');
    await page.getByTestId('sweep').click();
    await page.waitForFunction(() => {
      const d = (window as unknown as { dyveDemo: Demo }).dyveDemo;
      return d.sweep !== undefined || d.error !== undefined;
    }, null, { timeout: 600_000 });
    const { sweep, error } = await demo(page);
    expect(error).toBeUndefined();
    const points = sweep!.points;
    expect(points.map((p) => p.scale)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(points[0].macsFraction).toBe(1);
    expect(points[0].agreement).toBe(1);
    // More effort scale, less work (never more).
    for (let i = 1; i < points.length; i++) expect(points[i].macsFraction).toBeLessThanOrEqual(points[i - 1].macsFraction);
    expect(points[4].macsFraction).toBeLessThan(points[0].macsFraction);
    await expect(page.locator('#sweep-plot circle.point')).toHaveCount(10);
    // The whole page (README's docs/demo.png comes from here). The input image is masked: the
    // data set's images are not redistributed.
    await page.screenshot({ path: test.info().outputPath('demo.png'), fullPage: true, mask: [page.locator('#preview')], maskColor: '#dee2e6' });
  });
});

test('without WebGPU the page says so and runs on WebAssembly, with the same predictions as Node', async () => {
  const browser = await launchChromium(false);
  try {
    const page = await browser.newPage({ baseURL: test.info().project.use.baseURL, viewport: { width: 1280, height: 900 } });
    const state = await open(page);
    expect(state.backend).toBe('wasm');
    expect(state.adapter).toBeNull();
    expect(state.fallback).toMatch(/no WebGPU adapter/);
    await expect(page.getByTestId('backend')).toContainText('No WebGPU here — running on the CPU backend');
    await page.getByTestId('model').selectOption('cifar10-quick');
    await page.getByTestId('cifar-index').fill('3');
    const last = await run(page);
    // auto's WebAssembly kernels (Chromium runs the relaxed-SIMD FMA build) against Node's
    // TypeScript path: the same classes, probabilities within rounding.
    await expectSameAsNode('cifar10-quick', last, 1e-4);
  } finally {
    await browser.close();
  }
});
