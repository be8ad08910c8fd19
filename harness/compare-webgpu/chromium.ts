/**
 * `dyve compare --webgpu` in headless Chromium: bench-gpu's session (the demo's vite server,
 * Debian's Chromium with WebGPU on) runs page-entry.ts in the page on the zoo model the demo's
 * loader reads from /data/, with the images sent from Node.
 */
import type { ChromiumSession } from '../bench-gpu/chromium-session.js';
import type { PageModel, PageRequest, PageResult } from './page-entry.js';

/** Packages the page imports by name (bundled as the server starts). */
export const PAGE_PREBUNDLE = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'] as const;

/** The demo's loader, as far as the page uses it (demo/src/models.ts). */
interface DemoModels {
  loadDemoModel(name: string): Promise<PageModel>;
}

/** Measures the engines of `request` on the zoo model `model` in the session's page. */
export function measureInChromium(
  session: ChromiumSession, model: string, request: Omit<PageRequest, 'root'>, log: (line: string) => void,
): Promise<PageResult> {
  return session.evaluate(async ({ root, logName, model, ...rest }) => {
    // The demo's loader from the server's root (a name in a variable: nothing to resolve here).
    const demoModels = '/src/models.ts';
    const [entry, models] = (await Promise.all([
      import(/* @vite-ignore */ `/@fs${root}/harness/compare-webgpu/page-entry.ts`), import(/* @vite-ignore */ demoModels),
    ])) as [typeof import('./page-entry.js'), DemoModels];
    const loaded = await models.loadDemoModel(model);
    const pageLog = (window as unknown as Record<string, (line: string) => Promise<void>>)[logName];
    return entry.comparePage({ ...rest, root }, loaded, (line) => void pageLog(line));
  }, { ...request, model }, log);
}
