/**
 * `dyve bench-gpu` in headless Chromium: the demo's vite server (models and images under /data/,
 * the TypeScript sources transformed on the fly) and Debian's Chromium with WebGPU on. The page is
 * a blank one at the server's origin; the measurement is harness/bench-gpu/measure.ts imported
 * into it, on models and images loaded by the demo's own loaders (demo/src/models.ts, images.ts).
 */
import { DyveError } from '../../src/errors.js';
import { packageFile, packageRoot } from '../../src/package-root.js';
import type { RgbImage } from '../../src/data/image-decode.js';
import type { Preprocess } from '../../src/data/preprocess.js';
import type { EffortProfile } from '../../src/effort/profile.js';
import type { Network } from '../../src/ir/network.js';
import type { ModelResult } from './measure.js';
import type { ModelPlan, RuntimeInfo } from './runtimes.js';

type Browser = import('@playwright/test').Browser;
type Page = import('@playwright/test').Page;
type ViteServer = import('vite').ViteDevServer;

/** The page's headers: as the demo's (cross-origin isolated: precise timers). */
const PAGE_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The parts of the demo's loaders the page uses (demo/src/models.ts, images.ts; typed here: demo/ is not compiled with the harness). */
interface DemoModels {
  loadDemoModel(name: string): Promise<{ net: Network; preprocess: Preprocess; dataset: string }>;
  calibratedProfile(model: unknown): EffortProfile;
}
interface DemoImages {
  cifarImage(index: number): Promise<DemoImage>;
  imagenetSample(): Promise<{ files: string[] }>;
  imagenetImage(file: string): Promise<DemoImage>;
}
interface DemoImage {
  readonly id: string;
  readonly image: RgbImage;
  readonly label: number;
}

/** What the page function gets. */
interface PageArgs {
  readonly root: string;
  readonly plan: ModelPlan;
  readonly budgetMs: number;
}

/** An open Chromium page on the demo's server; {@link close} releases both. */
export class ChromiumSession {
  private constructor(private readonly server: ViteServer, private readonly browser: Browser, private readonly page: Page) {}

  /**
   * Starts the server and Chromium (WebGPU on); throws a DyveError saying what is missing.
   * `prebundle`: packages the page imports by name, bundled as the server starts (vite would
   * otherwise find them mid-run and reload the page).
   */
  static async open(prebundle: readonly string[] = []): Promise<ChromiumSession> {
    let vite: typeof import('vite');
    let chromium: typeof import('../browser/chromium.js');
    try {
      [vite, chromium] = await Promise.all([import('vite'), import('../browser/chromium.js')]);
    } catch (err) {
      throw new DyveError(`Chromium needs the dev dependencies vite and @playwright/test (npm install): ${(err as Error).message}`);
    }
    const server = await vite.createServer({
      configFile: packageFile('demo/vite.config.ts'), logLevel: 'error', server: { port: 0, hmr: false, watch: null },
      ...(prebundle.length > 0 && { optimizeDeps: { include: [...prebundle] } }),
    });
    await server.listen();
    let browser: Browser;
    try {
      browser = await chromium.launchChromium(true);
    } catch (err) {
      await server.close();
      throw new DyveError(`Chromium (${chromium.CHROMIUM_PATH}) did not start: ${(err as Error).message.split('\n')[0]}`);
    }
    const base = server.resolvedUrls?.local[0];
    if (!base) {
      await browser.close();
      await server.close();
      throw new DyveError('the vite server did not report its address');
    }
    const page = await browser.newPage();
    const url = `${base}__dyve-bench-gpu.html`;
    await page.route(url, (route) => route.fulfill({ contentType: 'text/html', headers: PAGE_HEADERS, body: '<!doctype html><title>dyve bench-gpu</title>' }));
    await page.goto(url);
    return new ChromiumSession(server, browser, page);
  }

  /** The browser's adapter, probed in the page. */
  async probe(): Promise<RuntimeInfo> {
    const probe = await this.page.evaluate(async (root: string) => {
      const { probeAdapter } = (await import(/* @vite-ignore */ `/@fs${root}/src/backends/webgpu/gpu-context.ts`)) as typeof import('../../src/backends/webgpu/gpu-context.js');
      return probeAdapter();
    }, packageRoot());
    return { runtime: 'chromium', version: `headless Chromium ${this.browser.version()}`, adapter: probe?.name ?? null, software: probe?.software ?? false };
  }

  /** Measures one model in the page; `onProgress` is called from it. */
  async measure(plan: ModelPlan, budgetMs: number, onProgress: (done: number, total: number) => void): Promise<ModelResult> {
    const name = `dyveBenchGpuProgress${plan.model.replace(/\W/g, '')}`;
    await this.page.exposeFunction(name, onProgress);
    const args: PageArgs & { name: string } = { root: packageRoot(), plan, budgetMs, name };
    return this.page.evaluate(async ({ root, plan, budgetMs, name }) => {
      // Imported in the page, through vite: the demo's loaders from its root, the rest by path.
      const demoModule = (name: string) => `/src/${name}.ts`;
      const [{ measureModel }, api, models, images] = (await Promise.all([
        import(/* @vite-ignore */ `/@fs${root}/harness/bench-gpu/measure.ts`), import(/* @vite-ignore */ `/@fs${root}/src/browser.ts`),
        import(/* @vite-ignore */ demoModule('models')), import(/* @vite-ignore */ demoModule('images')),
      ])) as [typeof import('./measure.js'), typeof import('../../src/browser.js'), DemoModels, DemoImages];
      const model = await models.loadDemoModel(plan.model);
      const need = Math.max(plan.maxImages + 1, plan.largeBatch * Math.max(1, Math.floor(plan.maxLargeImages / plan.largeBatch)));
      const list: DemoImage[] = [];
      if (model.dataset === 'cifar10') {
        for (let i = 0; i < need; i++) list.push(await images.cifarImage(plan.odd ? 2 * i + 1 : i));
      } else {
        const files = (await images.imagenetSample()).files.filter((_, i) => !plan.odd || i % 2 === 1).slice(0, need);
        for (const file of files) list.push(await images.imagenetImage(file));
      }
      const block = api.shapeSize(model.net.inputShape);
      const input = new Float32Array(list.length * block);
      list.forEach((img, i) => api.toNetworkInput(img.image, model.preprocess, model.net.inputShape, { name: img.id, out: input, offset: i * block }));
      const progress = (window as unknown as Record<string, (d: number, t: number) => Promise<void>>)[name];
      return measureModel({
        runtime: 'chromium', model: plan.model, net: model.net, input, labels: Int32Array.from(list, (img) => img.label),
        dynamic: models.calibratedProfile(model), largeBatch: plan.largeBatch, maxImages: plan.maxImages,
        maxLargeImages: plan.maxLargeImages, minPhaseMs: 1000 * plan.minSeconds, budgetMs, onProgress: (d, t) => void progress(d, t),
        open: async () => {
          const o = await api.openBackend('webgpu');
          const gpu = o.backend as import('../../src/backends/webgpu/webgpu-backend.js').WebGpuBackend;
          return { backend: gpu, device: gpu.device, adapter: o.adapter ?? gpu.adapterName, close: () => o.close() };
        },
      });
    }, args);
  }

  /**
   * Runs `fn` in the page with `args` and the package root (`fn` travels as source: it can use
   * nothing from this module but its arguments); `log` is callable from the page as `window[logName]`.
   */
  async evaluate<A extends object, R>(fn: (args: A & { root: string; logName: string }) => Promise<R>, args: A, log: (line: string) => void): Promise<R> {
    const logName = `dyveLog${++this.logs}`;
    await this.page.exposeFunction(logName, log);
    // Playwright types the argument as it arrives (unboxed); these arguments are plain JSON.
    const run = fn as (args: unknown) => Promise<R>;
    return this.page.evaluate(run, { ...args, root: packageRoot(), logName } as unknown);
  }

  private logs = 0;

  async close(): Promise<void> {
    await this.browser.close();
    await this.server.close();
  }
}
