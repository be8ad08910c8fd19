import { writeFileSync } from 'node:fs';
import { DyveError } from '../../src/errors.js';
import { packageFile } from '../../src/package-root.js';
import type { BenchJson } from '../bench-json.js';
import { intFlag, parseFlags, type FlagValues } from '../flags.js';
import { machineDescription } from '../machine.js';
import { checkOutputFiles } from '../output-paths.js';
import { ProgressBar } from '../terminal/progress.js';
import { formatBench } from './bench.js';

export const BROWSER_BENCH_HELP = `dyve browser-bench [options]        (npm run bench:browser -- [options])

Runs the benchmark inside headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) on the
page demo/bench.html, served by vite with the data directory, and prints / writes the JSON of
dyve bench, naming the browser's WebGPU adapter. Needs the dev dependencies (vite, @playwright/test).

Options:
      --model cifar10-quick|squeezenet-dc   (default cifar10-quick)
      --effort dense|calibrated|SCALE   dense (default), the calibrated profile, or an effort
                            scale, a finite number >= 0 (0 = dense, 1 = calibrated, 2 = twice
                            as aggressive)
      --compare dense       also run dense on the same batches, interleaved (side-by-side speed-up)
      --limit N             images, N >= 1 (default 1000 CIFAR-10 test images / 100 ImageNet samples)
      --batch B             images per run, B >= 1 (default 1)
      --backend webgpu|cpu|auto   the page's backend (default webgpu)
      --no-webgpu           launch Chromium without --enable-unsafe-webgpu (no adapter: use
                            with --backend auto to measure the CPU fallback)
      --data DIR            the data directory (default $DYVE_DATA, else ../shared/data)
      --layers              print a per-layer table
      --json FILE           write the results as JSON
      --quiet               no progress bar
  -h, --help                this help

Examples:
  npm run bench:browser
  dyve browser-bench --model cifar10-quick --effort calibrated --compare dense --limit 500 --json reports/browser.json
  dyve browser-bench --model squeezenet-dc --effort calibrated --compare dense --limit 20`;

/** What demo/src/bench.ts publishes as `window.dyveBench`. */
interface PageState {
  done: boolean;
  progress: [number, number];
  result?: BenchJson;
  error?: string;
}
const pageState = () => (window as unknown as { dyveBench?: PageState }).dyveBench;

/** Optional dev dependencies, loaded only by this command. */
async function devDependencies() {
  try {
    const [vite, chromium] = await Promise.all([import('vite'), import('../browser/chromium.js')]);
    return { vite, chromium };
  } catch (err) {
    throw new DyveError(`the browser benchmark needs the dev dependencies vite and @playwright/test (npm install): ${(err as Error).message}`);
  }
}

/** The models the page serves (demo/src/models.ts). */
const PAGE_MODELS = ['cifar10-quick', 'squeezenet-dc'];
const PAGE_BACKENDS = ['webgpu', 'cpu', 'auto'];

/**
 * Checks what the page is sent before Chromium starts: the page would clamp a bad count to 1 or
 * fail inside the browser, far from the flag.
 *
 * @throws DyveError naming the flag and what it takes.
 */
export function checkBrowserBenchFlags(values: FlagValues): void {
  const pick = (key: string, allowed: readonly string[]) => {
    const v = values[key];
    if (typeof v === 'string' && !allowed.includes(v)) throw new DyveError(`--${key} takes ${allowed.join(' or ')}, found '${v}'`);
  };
  pick('model', PAGE_MODELS);
  pick('backend', PAGE_BACKENDS);
  pick('compare', ['dense']);
  intFlag(values, 'limit', undefined, { min: 1 });
  intFlag(values, 'batch', undefined, { min: 1 });
  const effort = values.effort;
  if (typeof effort === 'string' && effort !== 'dense' && effort !== 'calibrated') {
    const scale = effort.trim() === '' ? Number.NaN : Number(effort);
    if (!(Number.isFinite(scale) && scale >= 0)) throw new DyveError(`--effort takes dense, calibrated or a scale, a finite number >= 0; found '${effort}'`);
  }
}

/** Runs the browser benchmark with parsed flags; shared by `dyve browser-bench` and `dyve benchmarks --browser`. */
export async function runBrowserBench(values: FlagValues): Promise<BenchJson> {
  checkBrowserBenchFlags(values);
  const { vite, chromium } = await devDependencies();
  if (typeof values.data === 'string') process.env['DYVE_DATA'] = values.data;
  const params = new URLSearchParams();
  for (const key of ['model', 'effort', 'compare', 'limit', 'batch', 'backend']) {
    if (typeof values[key] === 'string') params.set(key, values[key] as string);
  }
  // No file watching: an edit to the sources while a long run goes on must not reload the page.
  const server = await vite.createServer({
    configFile: packageFile('demo/vite.config.ts'), logLevel: 'error', server: { port: 0, hmr: false, watch: null },
  });
  await server.listen();
  const browser = await chromium.launchChromium(values['no-webgpu'] !== true);
  const progress = new ProgressBar(String(values.model ?? 'cifar10-quick'), !values.quiet);
  try {
    const page = await browser.newPage();
    const base = server.resolvedUrls?.local[0];
    if (!base) throw new DyveError('the vite server did not report its address');
    await page.goto(`${base}bench.html?${params}`);
    let state: PageState | undefined;
    while (!state?.done) {
      await new Promise((r) => setTimeout(r, 250));
      state = (await page.evaluate(`(${pageState})()`).catch((err: Error) => {
        throw new DyveError(`the benchmark page was lost (crashed or reloaded): ${err.message}`);
      })) as PageState | undefined;
      if (state?.progress[1]) progress.update(state.progress[0], state.progress[1]);
    }
    if (state.error) throw new DyveError(`in the browser: ${state.error}`);
    const result = state.result;
    if (!result) throw new DyveError('the benchmark page finished without a result');
    // The page knows only its user agent; the host names the machine.
    return { ...result, machine: `${machineDescription()}; in headless Chromium ${browser.version()}` };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** `dyve browser-bench` (`npm run bench:browser`). */
export async function browserBenchCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    model: { type: 'string' }, effort: { type: 'string' }, compare: { type: 'string' }, limit: { type: 'string' }, batch: { type: 'string' },
    backend: { type: 'string' }, 'no-webgpu': { type: 'boolean' }, data: { type: 'string' }, layers: { type: 'boolean' },
    json: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(BROWSER_BENCH_HELP);
    return;
  }
  checkOutputFiles(values, ['json']);
  const result = await runBrowserBench(values);
  console.log(formatBench(result, values.layers === true));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}
