import { writeFileSync } from 'node:fs';
import { DyveError } from '../../src/errors.js';
import { ChromiumSession } from '../bench-gpu/chromium-session.js';
import { GPU_ENGINES, type GpuRow } from '../bench-gpu/measure.js';
import { hostRuntime, measureHere, probeHere, RUNTIMES, runDenoChild, type ChildReport, type ModelPlan, type RuntimeInfo, type RuntimeName } from '../bench-gpu/runtimes.js';
import { intFlag, listFlag, numberFlag, parseFlags } from '../flags.js';
import { machineDescription } from '../machine.js';
import { checkOutputFile } from '../output-paths.js';
import { percent } from '../terminal/format.js';
import { ProgressBar } from '../terminal/progress.js';
import { renderTable } from '../terminal/table.js';

export const BENCH_GPU_HELP = `dyve bench-gpu [--allow-software] [options]     (npm run bench:gpu -- [options])

The WebGPU rows of both zoo models in one command of a few minutes, for a machine with a GPU:
cifar10-quick and squeezenet-dc, dense (dyvedeep-webgpu-dense) and DyVEDeep
(dyvedeep-webgpu-dynamic: the shipped calibrated profile, models/NAME/effort.json, tile mode,
what --effort calibrated runs; squeezenet-dc's turns nothing on), in every runtime here: Node
(Dawn, the 'webgpu' package), Deno (its binary from the 'deno' dev dependency) and headless Chromium (Debian's, Vulkan; the demo's vite
server). Per runtime it names the adapter; on a software / fallback adapter (lavapipe,
SwiftShader: a CPU) it stops with exit code 1 unless --allow-software.

Per model, runtime and engine: cold start (the first inference after the backend is created,
pipeline compilation included; dense first, so DyVEDeep's shared kernels may come from the
runtime's caches; a driver's on-disk shader cache, e.g. Mesa's, is left as a user would have it), ms/image at batch 1, images/s at a large batch (cifar10-quick 64,
squeezenet-dc 8), top-1 over the timed images (their first pass), dispatches and queue submissions per
inference (one run of the batch), and the GPU time inside the dispatches per image, in all and
per layer in the JSON (up to 5 more runs of the batch with every dispatch timed by timestamp queries,
a compute pass each; '-' where the device has no 'timestamp-query'). Dense and DyVEDeep alternate run by run. A wall-clock budget
stops each phase early (after one run per engine; the large batch is left out where one batch
alone would overrun it: squeezenet-dc in Chromium on a software adapter) and the output says
what ran; squeezenet-dc
uses the odd ImageNet samples (its profile was calibrated on the even ones).

Options:
      --allow-software      measure on a software adapter too (npm run bench:gpu --allow-software
                            works as well: npm passes it as npm_config_allow_software)
      --runtimes LIST       of node,deno,chromium (default: all; one without an adapter or not
                            installed is skipped with the reason)
      --models LIST         of cifar10-quick,squeezenet-dc (default: both)
      --budget SECONDS      wall-clock the whole command aims at, > 0 (default 240)
      --images N            most images timed at batch 1 and at the large batch per engine, N >= 1
                            (default 100 and 256 for cifar10-quick, 8 and 32 for squeezenet-dc)
      --large-batch B       the large batch for every model, B >= 1
      --min-seconds S       each phase (batch 1, the large batch) goes over its images again,
                            engines still alternating, until it has run S seconds, within the
                            budget (default 2; 0: each image once). A GPU runs cifar10-quick's
                            100 images in a tenth of a second: one pass alone is noise. The rows'
                            images count every timed run's; top-1 is the first pass's
      --json FILE           the rows as JSON (default reports/bench-gpu.json; its folder must exist)
      --data DIR            data directory (default $DYVE_DATA, else ../shared/data)
      --quiet               no progress bars
  -h, --help                this help

Examples:
  npm run bench:gpu
  npm run bench:gpu -- --allow-software --runtimes node,chromium
  dyve bench-gpu --models cifar10-quick --budget 60 --json reports/gpu-cifar.json`;

/** Default counts per model: batch 1, large batch, and whether it evaluates odd positions. */
const MODEL_PLANS: Readonly<Record<string, Omit<ModelPlan, 'model' | 'minSeconds'>>> = {
  'cifar10-quick': { largeBatch: 64, maxImages: 100, maxLargeImages: 256, odd: false },
  'squeezenet-dc': { largeBatch: 8, maxImages: 8, maxLargeImages: 32, odd: true },
};

/**
 * Shares of the budget, per runtime and model: each stage gets its weight's part of the time left
 * when it starts, so a stage that finishes early leaves the rest to the later ones. From this
 * project's 2-core machine on its software adapters (2026-12-03, --allow-software): squeezenet-dc
 * needs about 4x cifar10-quick's time for a cold start, a few images and one batch of 8 in Node
 * and Deno (lavapipe); Chromium (SwiftShader) runs both models 5-10x slower than Node.
 */
const STAGE_WEIGHT: Readonly<Record<RuntimeName, Readonly<Record<string, number>>>> = {
  node: { 'cifar10-quick': 1, 'squeezenet-dc': 4 },
  deno: { 'cifar10-quick': 1, 'squeezenet-dc': 4 },
  chromium: { 'cifar10-quick': 3, 'squeezenet-dc': 6 },
};

const RUNTIME_LABEL: Readonly<Record<RuntimeName, string>> = { node: 'Node (Dawn)', deno: 'Deno (wgpu)', chromium: 'Chromium' };

/** What `--json` holds. */
export interface BenchGpuJson {
  command: string;
  date: string;
  machine: string;
  allowSoftware: boolean;
  budgetSeconds: number;
  wallSeconds: number;
  runtimes: RuntimeInfo[];
  /** What ran per runtime and model, in words (counts, whether the budget cut them). */
  runs: string[];
  rows: GpuRow[];
}


/** `npm run bench:gpu --allow-software` (no `--`): npm keeps the flag as its own config, in the environment. */
function npmAllowSoftware(): boolean {
  const v = process.env['npm_config_allow_software'];
  return v !== undefined && v !== 'false';
}

function softwareMessage(infos: readonly RuntimeInfo[]): string {
  const which = infos.map((i) => `${RUNTIME_LABEL[i.runtime]}: software adapter ${i.adapter}`).join('; ');
  return `${which}: these numbers would measure the CPU; pass --allow-software to run anyway (npm run bench:gpu -- --allow-software)`;
}

/** The rows as a text table. */
export function formatGpuRows(rows: readonly GpuRow[]): string {
  const fixed = (x: number) => x.toFixed(x < 0.1 ? 4 : x < 10 ? 2 : 1);
  return renderTable(
    [{ header: 'runtime' }, { header: 'model' }, { header: 'engine' }, { header: 'batch', align: 'right' }, { header: 'images', align: 'right' },
      { header: 'ms/image', align: 'right' }, { header: 'GPU ms/image', align: 'right' }, { header: 'images/s', align: 'right' }, { header: 'top-1', align: 'right' },
      { header: 'cold start ms', align: 'right' }, { header: 'dispatches', align: 'right' }, { header: 'submits', align: 'right' }],
    rows.map((r) => [r.runtime, r.model, r.engine, String(r.batch), String(r.images), fixed(r.msPerImage), r.gpuMsPerImage === null ? '-' : fixed(r.gpuMsPerImage), fixed(r.imagesPerSecond),
      percent(r.top1), r.coldStartMs.toFixed(0), String(Math.round(r.dispatchesPerInference * 10) / 10), String(Math.round(r.submitsPerInference * 10) / 10)]),
  );
}

/**
 * Each runtime's adapter: this process's, a Deno child's (`--probe`), Chromium's (the session is
 * kept open for the measurement). A runtime that is not installed or has no adapter is marked
 * skipped, with the reason.
 */
async function probeRuntimes(runtimes: readonly RuntimeName[], childArgs: readonly string[]): Promise<{ infos: RuntimeInfo[]; chromium: ChromiumSession | null }> {
  const infos: RuntimeInfo[] = [];
  let chromium: ChromiumSession | null = null;
  for (const runtime of runtimes) {
    if (runtime === hostRuntime()) {
      infos.push(await probeHere());
    } else if (runtime === 'deno') {
      const { report, status } = await runDenoChild([...childArgs, '--probe']);
      infos.push(report?.runtimes[0] ?? { runtime, version: 'Deno', adapter: null, software: false, skipped: status });
    } else {
      try {
        chromium = await ChromiumSession.open();
      } catch (err) {
        if (!(err instanceof DyveError)) throw err;
        infos.push({ runtime, version: 'Chromium', adapter: null, software: false, skipped: err.message });
        continue;
      }
      try {
        infos.push(await chromium.probe());
      } catch (err) {
        await chromium.close();
        chromium = null;
        infos.push({ runtime, version: 'Chromium', adapter: null, software: false, skipped: `the page's adapter probe failed: ${(err as Error).message.split('\n')[0]}` });
      }
    }
  }
  for (const info of infos) if (info.adapter === null && !info.skipped) info.skipped = 'no WebGPU adapter';
  return { infos, chromium };
}

/** `dyve bench-gpu` (`npm run bench:gpu`). */
export async function benchGpuCommand(args: string[]): Promise<void> {
  const start = performance.now();
  const { values } = parseFlags(args, {
    'allow-software': { type: 'boolean' }, runtimes: { type: 'string' }, models: { type: 'string' }, budget: { type: 'string' },
    images: { type: 'string' }, 'large-batch': { type: 'string' }, 'min-seconds': { type: 'string' }, json: { type: 'string' }, data: { type: 'string' },
    // A Deno child of this command: --probe asks only for its adapter (written to --json); --child
    // leaves the adapter lines to the parent.
    probe: { type: 'boolean' }, child: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(BENCH_GPU_HELP);
    return;
  }
  const allowSoftware = values['allow-software'] === true || npmAllowSoftware();
  const host = hostRuntime();
  const runtimes = listFlag(values.runtimes, 'runtimes', RUNTIMES) ?? (host === 'deno' ? ['deno'] : [...RUNTIMES]);
  if (host === 'deno' && runtimes.some((r) => r !== 'deno')) throw new DyveError('under Deno, bench-gpu measures Deno only: run it with Node for the other runtimes');
  const models = listFlag(values.models, 'models', Object.keys(MODEL_PLANS)) ?? Object.keys(MODEL_PLANS);
  const images = intFlag(values, 'images', undefined, { min: 1 });
  const largeBatch = intFlag(values, 'large-batch', undefined, { min: 1 });
  const budgetSeconds = numberFlag(values, 'budget', 240, { min: 0, above: true });
  const minSeconds = numberFlag(values, 'min-seconds', 2, { min: 0 });
  const json = typeof values.json === 'string' ? values.json : 'reports/bench-gpu.json';
  checkOutputFile('--json', json);
  const data = typeof values.data === 'string' ? values.data : undefined;
  const plans: ModelPlan[] = models.map((model) => {
    const p = MODEL_PLANS[model];
    const b = largeBatch ?? p.largeBatch;
    return { model, ...p, largeBatch: b, maxImages: images ?? p.maxImages, maxLargeImages: images === undefined ? p.maxLargeImages : Math.max(b, images), minSeconds };
  });
  // The flags a Deno child gets: the same counts, its share of the budget set later.
  const childArgs = [
    '--models', models.join(','), ...(images !== undefined ? ['--images', String(images)] : []), ...(largeBatch !== undefined ? ['--large-batch', String(largeBatch)] : []),
    '--min-seconds', String(minSeconds), ...(data !== undefined ? ['--data', data] : []), ...(values.quiet ? ['--quiet'] : []), ...(allowSoftware ? ['--allow-software'] : []), '--child',
  ];

  // Every runtime's adapter first: a software one stops the command before anything is measured.
  const probed = await probeRuntimes(runtimes, childArgs);
  const { infos, chromium } = probed;
  try {
    if (values.probe) {
      writeFileSync(json, `${JSON.stringify({ runtimes: infos } satisfies ChildReport)}\n`);
      return;
    }
    const software = infos.filter((i) => !i.skipped && i.software);
    if (software.length > 0 && !allowSoftware) throw new DyveError(softwareMessage(software));
    for (const info of values.child ? [] : infos) {
      console.error(`dyvedeep: ${RUNTIME_LABEL[info.runtime]}, ${info.version}: ${info.skipped ? `not measured (${info.skipped})` : `adapter ${info.adapter}${info.software ? ' — a software adapter: these numbers measure the CPU (--allow-software)' : ''}`}`);
    }
    const runnable = infos.filter((i) => !i.skipped);
    if (runnable.length === 0) throw new DyveError(`no runtime here has a WebGPU adapter (${infos.map((i) => `${RUNTIME_LABEL[i.runtime]}: ${i.skipped}`).join('; ')})`);

    const deadline = start + 1000 * budgetSeconds;
    let weightLeft = runnable.reduce((s, i) => s + plans.reduce((t, p) => t + STAGE_WEIGHT[i.runtime][p.model], 0), 0);
    const share = (weight: number) => {
      const ms = Math.max(0, deadline - performance.now()) * (weight / weightLeft);
      weightLeft -= weight;
      return ms;
    };
    const rows: GpuRow[] = [];
    const runs: string[] = [];
    for (const info of runnable) {
      const weight = (p: ModelPlan) => STAGE_WEIGHT[info.runtime][p.model];
      if (info.runtime !== host && info.runtime === 'deno') {
        const budget = share(plans.reduce((s, p) => s + weight(p), 0));
        const { report, status } = await runDenoChild([...childArgs, '--budget', String(Math.max(1, budget / 1000))]);
        if (report?.rows?.length) {
          rows.push(...report.rows);
          runs.push(...(report.runs ?? []), ...(status === 'ok' ? [] : [`deno: ${status} after writing its rows`]));
        } else {
          info.skipped = status;
          runs.push(`deno: no rows (${status})`);
        }
        continue;
      }
      for (const plan of plans) {
        const budget = share(weight(plan));
        const progress = new ProgressBar(`${info.runtime} ${plan.model}`, !values.quiet, process.stderr, 'run');
        const onProgress = (d: number, t: number) => progress.update(d, t);
        if (info.runtime !== 'chromium') {
          const result = await measureHere(plan, budget, data, onProgress);
          rows.push(...result.rows);
          runs.push(result.summary);
          continue;
        }
        // The page can crash or lose its device: the other runtimes' rows are kept, and the output says what failed.
        try {
          const result = await chromium!.measure(plan, budget, onProgress);
          rows.push(...result.rows);
          runs.push(result.summary);
        } catch (err) {
          const why = (err as Error).message.split('\n')[0];
          runs.push(`chromium ${plan.model}: failed (${why})`);
          console.error(`dyvedeep: Chromium, ${plan.model}: failed: ${why}`);
        }
      }
    }
    const report: BenchGpuJson = {
      command: `dyve bench-gpu${args.length ? ` ${args.join(' ')}` : ''}${allowSoftware && values['allow-software'] !== true ? ' (--allow-software from npm)' : ''}`,
      date: new Date().toISOString(),
      machine: machineDescription(),
      allowSoftware,
      budgetSeconds,
      wallSeconds: (performance.now() - start) / 1000,
      runtimes: infos,
      runs,
      rows,
    };
    writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(formatGpuRows(rows));
    console.log('');
    for (const info of infos) console.log(`${RUNTIME_LABEL[info.runtime].padEnd(12)} ${info.version}: ${info.skipped ? `not measured (${info.skipped})` : info.adapter}`);
    for (const run of runs) console.log(`ran: ${run}`);
    console.log(`engines: ${GPU_ENGINES.join(', ')} (dense; DyVEDeep with the shipped calibrated profile, effort.json). ${report.wallSeconds.toFixed(0)} s in all, budget ${budgetSeconds} s; wrote ${json}`);
  } finally {
    await chromium?.close();
  }
}
