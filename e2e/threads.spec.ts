/**
 * The demo page's CPU threads: the page is cross-origin isolated (the servers' COOP / COEP
 * headers), the sweep's batches run on Web Workers with the same numbers as one thread and as
 * Node, the old backend's workers are terminated when the settings change, and the production
 * build (vite build + vite preview) bundles the worker and runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page, type Worker } from '@playwright/test';
import { build, preview } from 'vite';
import { launchChromium } from '../harness/browser/chromium.js';
import { nodePrediction } from './node-reference.js';

/** The page's `window.dyveDemo` (demo/src/main.ts), as much as these tests read. */
interface Demo {
  backend: string;
  crossOriginIsolated: boolean;
  threads: number;
  workers: number;
  opened: number;
  error?: string;
  sweep?: {
    threads: number | null;
    workersReplied: number;
    batch: number;
    points: { scale: number; macsFraction: number; agreement: number; top1: number | null; top5: { index: number; probability: number }[][] }[];
  };
}
type Sweep = NonNullable<Demo['sweep']>;

const demo = (page: Page) => page.evaluate(() => (window as unknown as { dyveDemo: Demo }).dyveDemo);

/** CIFAR-10 test images per sweep: odd, so two workers get unequal slices (4 + 3). */
const IMAGES = 7;

async function open(page: Page, url: string): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('run')).toBeEnabled({ timeout: 120_000 });
  return errors;
}

/** Sets the backend and thread controls and waits for the page to have reopened its backend if it had to. */
async function settings(page: Page, choice: string, threads: number): Promise<Demo> {
  await page.getByTestId('backend-choice').selectOption(choice);
  await page.getByTestId('cpu-threads').selectOption(String(threads));
  await page.waitForFunction(([c, t]) => {
    const d = (window as unknown as { dyveDemo: Demo }).dyveDemo;
    const button = document.getElementById('run') as HTMLButtonElement;
    return d.error !== undefined || (d.threads === t && d.workers === (t > 1 ? t : 0) && !button.disabled && d.backend === c);
  }, [choice === 'auto' ? 'wasm' : choice, threads] as const, { timeout: 60_000 });
  const state = await demo(page);
  expect(state.error).toBeUndefined();
  return state;
}

/** Sweeps the first IMAGES CIFAR-10 test images on cifar10-quick. */
async function sweep(page: Page): Promise<Sweep> {
  await page.evaluate(() => { (window as unknown as { dyveDemo: Demo }).dyveDemo.sweep = undefined; });
  await page.getByTestId('model').selectOption('cifar10-quick');
  await page.getByTestId('sweep-count').fill(String(IMAGES));
  await page.getByTestId('sweep').click();
  await page.waitForFunction(() => {
    const d = (window as unknown as { dyveDemo: Demo }).dyveDemo;
    return d.sweep !== undefined || d.error !== undefined;
  }, null, { timeout: 120_000 });
  const state = await demo(page);
  expect(state.error).toBeUndefined();
  expect(state.sweep!.points.map((p) => p.scale)).toEqual([0, 0.5, 1, 1.5, 2]);
  return state.sweep!;
}

/** Same classes in the same order, probabilities within `tol`, the same work and accuracy. */
function expectSameSweep(a: Sweep, b: Sweep, tol: number): void {
  a.points.forEach((p, s) => {
    const q = b.points[s];
    expect([p.macsFraction, p.agreement, p.top1], `scale ${p.scale}`).toEqual([q.macsFraction, q.agreement, q.top1]);
    expect(p.top5).toHaveLength(IMAGES);
    p.top5.forEach((top, i) => {
      expect(top.map((c) => c.index), `scale ${p.scale} image ${i}`).toEqual(q.top5[i].map((c) => c.index));
      top.forEach((c, k) => expect(Math.abs(c.probability - q.top5[i][k].probability), `scale ${p.scale} image ${i} p[${k}]`).toBeLessThanOrEqual(tol));
    });
  });
}

test('without WebGPU: cross-origin isolated, the sweep on 2 worker threads equals 1 thread and Node', async () => {
  const browser = await launchChromium(false);
  try {
    const page = await browser.newPage({ baseURL: test.info().project.use.baseURL, viewport: { width: 1280, height: 900 } });
    const workers: Worker[] = [];
    const closed = new Set<Worker>();
    page.on('worker', (w) => { workers.push(w); w.on('close', () => closed.add(w)); });
    const errors = await open(page, '/');
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(page.getByTestId('isolation')).toContainText('Cross-origin isolated (COOP / COEP): yes');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    test.skip(cores < 2, `the browser reports ${cores} logical processor(s): the control offers no second thread`);
    expect((await demo(page)).threads).toBe(Math.min(cores, 4));

    // The TypeScript kernels, chosen (auto would pick WebAssembly here): Node runs the same ones.
    const two = await settings(page, 'cpu', 2);
    expect(two.backend).toBe('cpu');
    const twoWorkers = workers.filter((w) => !closed.has(w));
    expect(twoWorkers).toHaveLength(2);
    const parallel = await sweep(page);
    // Both workers ran slices (measured for each run, not assumed): the backend's count, and
    // the page's own record of the workers that returned results.
    expect(parallel.threads).toBe(2);
    expect(parallel.workersReplied).toBe(2);
    expect(parallel.batch).toBe(IMAGES);
    await expect(page.getByTestId('threads')).toContainText('last sweep ran on 2 threads (batches of 7 images, split by image)');

    // One thread: the old backend's workers are terminated, the page's thread runs the sweep.
    const one = await settings(page, 'cpu', 1);
    expect(one.workers).toBe(0);
    await expect.poll(() => twoWorkers.every((w) => closed.has(w))).toBe(true);
    expect(workers.filter((w) => !closed.has(w))).toHaveLength(0);
    const single = await sweep(page);
    expect(single.threads).toBe(1);
    expect(single.workersReplied).toBe(0);
    await expect(page.getByTestId('threads')).toContainText("last sweep ran on 1 thread (the page's)");

    expectSameSweep(parallel, single, 1e-6);
    // The same TypeScript kernels as Node, image by image (Node runs one image at a time).
    for (const p of parallel.points) {
      for (let i = 0; i < IMAGES; i++) {
        const node = await nodePrediction('cifar10-quick', `test_batch.bin#${i}`, p.scale);
        expect(p.top5[i].map((c) => c.index), `Node: scale ${p.scale} image ${i}`).toEqual(node.top5);
        p.top5[i].forEach((c, k) => expect(Math.abs(c.probability - node.probabilities[k])).toBeLessThanOrEqual(1e-6));
      }
    }
  } finally {
    await browser.close();
  }
});

test('the built page (vite build, vite preview): isolated, the bundled worker runs the wasm sweep', async ({ page }) => {
  const outDir = mkdtempSync(join(tmpdir(), 'dyve-demo-build-'));
  const configFile = 'demo/vite.config.ts';
  try {
    await build({ configFile, logLevel: 'error', build: { outDir, emptyOutDir: true } });
    const server = await preview({ configFile, logLevel: 'error', build: { outDir }, preview: { port: 0, strictPort: false } });
    try {
      const url = server.resolvedUrls?.local[0];
      expect(url).toBeDefined();
      const response = await page.request.get(url!);
      expect(response.headers()['cross-origin-embedder-policy']).toBe('require-corp');
      expect(response.headers()['cross-origin-opener-policy']).toBe('same-origin');
      const errors = await open(page, url!);
      expect(errors).toEqual([]);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      test.skip(cores < 2, `the browser reports ${cores} logical processor(s)`);
      // The CPU chosen on a page that may have WebGPU (the backend control, not the fallback), with
      // the WebAssembly kernels: the bundled worker instantiates its own copy.
      await settings(page, 'wasm', 2);
      await expect(page.getByTestId('backend')).toContainText('CPU backend (WebAssembly SIMD kernels), as chosen');
      const parallel = await sweep(page);
      expect(parallel.threads).toBe(2);
      expect(parallel.workersReplied).toBe(2);
      await expect(page.getByTestId('threads')).toContainText('last sweep ran on 2 threads');
    } finally {
      await server.close();
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
