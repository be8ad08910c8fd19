/**
 * `dyve compare --webgpu`: dyvedeep's WebGPU kernels beside TensorFlow.js WebGPU and
 * onnxruntime-web WebGPU on the same adapter, images and weights, in headless Chromium and in
 * Node (Dawn), with the WebAssembly rows for reference; every engine's predictions checked
 * against dyvedeep's CPU reference backend on the same images.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { DyveError } from '../../src/errors.js';
import { loadProfile } from '../../src/effort/load-profile.js';
import type { EffortProfile } from '../../src/effort/profile.js';
import { argmax } from '../../src/evaluation/top-k.js';
import { shapeSize } from '../../src/ir/network.js';
import { openBackend } from '../../src/select-backend.js';
import { ChromiumSession } from '../bench-gpu/chromium-session.js';
import { probeHere } from '../bench-gpu/runtimes.js';
import { measureInChromium, PAGE_PREBUNDLE } from '../compare-webgpu/chromium.js';
import { onGpu, WEBGPU_ENGINE_NAMES, type WebGpuEngineName } from '../compare-webgpu/engines.js';
import { countGpuCalls } from '../compare-webgpu/gpu-calls.js';
import { measureEngines, type EngineFailure, type MeasuredRow } from '../compare-webgpu/measure.js';
import { installNavigatorGpu, nodeSources } from '../compare-webgpu/node-sources.js';
import { intFlag, listFlag, numberFlag, type FlagValues } from '../flags.js';
import { machineDescription } from '../machine.js';
import { openDataset, openModel } from '../model-options.js';
import { percent } from '../terminal/format.js';
import { renderMarkdownTable, renderTable } from '../terminal/table.js';

export const COMPARE_WEBGPU_HELP = `dyve compare --webgpu --model cifar10-quick|squeezenet-dc [options]

WebGPU side by side, on the same adapter, images and weights: dyvedeep's WebGPU backend dense
(dyvedeep-webgpu-dense) and DyVEDeep with the zoo model's shipped profile
(dyvedeep-webgpu-dynamic: effort.json; where the WebGPU backend runs no tile mode yet, its
per-neuron effort-neuron.json, as dyve bench --backend webgpu --effort calibrated does), TensorFlow.js
WebGPU on a graph built from our IR (tfjs-webgpu), onnxruntime-web's WebGPU execution provider on
dyve export's ONNX graph (onnxruntime-web-webgpu), and for reference the WebAssembly rows on one
thread (dyvedeep-dense: our wasm kernels, tfjs-wasm, onnxruntime-web). In headless Chromium
(Debian's, --enable-unsafe-webgpu) and in Node (Dawn, the webgpu package); an engine that cannot
run in a runtime is listed with its exact error.

Per engine, one after the other: cold start (creation to the end of the first one-image
inference: device, shader and pipeline compilation, weight upload), ms/image at batch 1 (image
by image), images/s at the large batch (after one untimed batch), WebGPU dispatches and queue
submissions per inference (counted at GPUComputePassEncoder.dispatchWorkgroups and
GPUQueue.submit, for every engine alike), top-1, and how many predictions agree with dyvedeep's
CPU reference backend, run dense, on the same images (DyVEDeep's rows: its approximation). A
per-engine budget cuts each phase short (after one run); the rows say how many images were timed.

Options:
      --model NAME          cifar10-quick or squeezenet-dc (the page loads zoo models only)
      --runtimes LIST       of chromium,node (default both)
      --engines LIST        a subset of ${WEBGPU_ENGINE_NAMES.join(',')}
      --images-b1 N         images timed at batch 1, N >= 1 (default 24 cifar10-quick, 2 squeezenet-dc)
      --large-batch B       the large batch, B >= 1 (default 64 cifar10-quick, 4 squeezenet-dc)
      --images-large N      images timed at the large batch, whole batches (default one batch)
      --engine-budget S     seconds each engine may take, > 0 (default 60)
      --json FILE           write { model, machine, rows, failures } (its folder must exist)
      --data DIR            data directory (default $DYVE_DATA, else ../shared/data)
      --quiet               no progress lines

squeezenet-dc uses the odd ImageNet samples (its profile was calibrated on the even ones).

Examples:
  dyve compare --webgpu --model cifar10-quick --json reports/compare-webgpu-cifar10-quick.json
  dyve compare --webgpu --model squeezenet-dc --runtimes chromium --engines dyvedeep-webgpu-dense,tfjs-webgpu`;

export const COMPARE_WEBGPU_RUNTIMES = ['chromium', 'node'] as const;
type Runtime = (typeof COMPARE_WEBGPU_RUNTIMES)[number];

/** One row of `dyve compare --webgpu --json`: `dyve compare`'s row contract plus the WebGPU fields. */
export interface WebGpuCompareRow {
  engine: WebGpuEngineName;
  runtime: Runtime;
  /** Threads of the engine's CPU work: 1 (the WebAssembly rows run on one thread; the GPU rows drive the device from one). */
  threads: number;
  batch: number;
  msPerImage: number;
  imagesPerSecond: number;
  top1: number | null;
  coldStartMs: number;
  /** The WebGPU adapter in words; null for the WebAssembly rows. */
  adapter: string | null;
  dispatchesPerInference: number | null;
  submitsPerInference: number | null;
  images: number;
  /** Fraction of the timed images whose predicted class is the CPU reference's (dense: DyVEDeep's rows show its approximation). */
  agreement: number;
  /** Timed images whose class differs from the reference's: index, engine's class, reference's class. */
  disagreements: { image: number; predicted: number; reference: number }[];
  /** DyVEDeep: the profile that ran. */
  profile?: string;
}

export interface WebGpuCompareJson {
  model: string;
  machine: string;
  date: string;
  runtimes: { runtime: Runtime; version: string; adapter: string | null; skipped?: string }[];
  rows: WebGpuCompareRow[];
  /** Engines that could not run in a runtime, with the exact error. */
  failures: EngineFailure[];
  setup: { imagesBatch1: number; largeBatch: number; imagesLarge: number; engineBudgetSeconds: number; dataset: string };
}

const DEFAULTS: Readonly<Record<string, { imagesBatch1: number; largeBatch: number; odd: boolean }>> = {
  'cifar10-quick': { imagesBatch1: 24, largeBatch: 64, odd: false },
  'squeezenet-dc': { imagesBatch1: 2, largeBatch: 4, odd: true },
};


function toBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** Runs `dyve compare --webgpu`, returning its JSON. */
export async function runCompareWebGpu(values: FlagValues, log: (line: string) => void): Promise<WebGpuCompareJson> {
  for (const flag of ['threads', 'kernels', 'rounds', 'images-b64', 'effort', 'limit']) {
    if (values[flag] !== undefined) throw new DyveError(`--${flag} does not apply to compare --webgpu (see dyve compare --webgpu --help)`);
  }
  const model = typeof values.model === 'string' ? values.model : undefined;
  if (!model || !DEFAULTS[model]) throw new DyveError(`compare --webgpu runs a zoo model the page can load: --model ${Object.keys(DEFAULTS).join(' or ')}`);
  const plan = DEFAULTS[model];
  const runtimes = listFlag(values.runtimes, 'runtimes', COMPARE_WEBGPU_RUNTIMES) ?? [...COMPARE_WEBGPU_RUNTIMES];
  const engines = listFlag(values.engines, 'engines', WEBGPU_ENGINE_NAMES) ?? [...WEBGPU_ENGINE_NAMES];
  const imagesBatch1 = intFlag(values, 'images-b1', plan.imagesBatch1, { min: 1 });
  const largeBatch = intFlag(values, 'large-batch', plan.largeBatch, { min: 1 });
  const imagesLarge = Math.max(largeBatch, largeBatch * Math.floor(intFlag(values, 'images-large', largeBatch, { min: 1 }) / largeBatch));
  const engineBudgetSeconds = numberFlag(values, 'engine-budget', 60, { min: 0, above: true });
  const data = typeof values.data === 'string' ? values.data : undefined;

  const opened = await openModel({ model, data });
  const entry = opened.entry!;
  const net = opened.net;
  const count = Math.max(imagesBatch1 + 1, imagesLarge);
  const { dataset, description } = await openDataset(opened, { limit: String(count), ...(plan.odd && { positions: 'odd' }) });
  const { input, labels } = await dataset.batch(0, dataset.size);
  if (dataset.size < count) throw new DyveError(`compare --webgpu: ${model} needs ${count} images, the data set has ${dataset.size}`);
  const block = shapeSize(net.inputShape);
  const classes = shapeSize(net.blobShapes.get(net.outputName)!);
  const shipped = await loadProfile(join(entry.folder, 'effort.json'), net);
  const neuronFile = join(entry.folder, 'effort-neuron.json');
  const neuron: EffortProfile | null = existsSync(neuronFile) ? await loadProfile(neuronFile, net) : null;

  // The reference: dyvedeep's plain CPU backend, image by image, on every image any engine times.
  log(`# CPU reference on ${count} images`);
  const reference = new Int32Array(count);
  {
    const ref = await openBackend('cpu-reference');
    for (let i = 0; i < count; i++) {
      const out = (await ref.backend.run(net, input.subarray(i * block, (i + 1) * block), 1)).output;
      reference[i] = argmax(out, 0, classes);
    }
    ref.close();
  }

  const measured: MeasuredRow[] = [];
  const failures: EngineFailure[] = [];
  const infos: WebGpuCompareJson['runtimes'] = [];
  const adapters = new Map<Runtime, string | null>();
  const common = { engines, imagesBatch1, largeBatch, imagesLarge, engineBudgetMs: 1000 * engineBudgetSeconds };
  for (const runtime of runtimes) {
    if (runtime === 'chromium') {
      let session: ChromiumSession;
      try {
        session = await ChromiumSession.open([...PAGE_PREBUNDLE]);
      } catch (err) {
        infos.push({ runtime, version: 'Chromium', adapter: null, skipped: (err as Error).message });
        continue;
      }
      try {
        const probe = await session.probe();
        const result = await measureInChromium(session, model, { ...common, imagesBase64: toBase64(input.subarray(0, count * block)) }, (line) => log(`# ${line}`));
        infos.push({ runtime, version: probe.version, adapter: result.adapter });
        adapters.set(runtime, result.adapter);
        measured.push(...result.rows);
        failures.push(...result.failures);
      } catch (err) {
        infos.push({ runtime, version: 'Chromium', adapter: null, skipped: `the page failed: ${(err as Error).message.split('\n')[0]}` });
      } finally {
        await session.close();
      }
    } else {
      const { gpu, restore } = await installNavigatorGpu();
      try {
        const adapter = await gpu.requestAdapter();
        const adapterName = adapter ? (await probeHere()).adapter : null;
        const counter = adapter ? await countGpuCalls(gpu) : null;
        try {
          const onnx = (await import('../../src/formats/onnx/export-onnx.js')).exportOnnx(net);
          const result = await measureEngines({
            runtime: 'node', ...common, sources: nodeSources(net, () => onnx, shipped, neuron), input, block, classes, counter,
            log: (line) => log(`# ${line}`),
          });
          infos.push({ runtime, version: `Node ${process.version} (Dawn)`, adapter: adapterName });
          adapters.set(runtime, adapterName);
          measured.push(...result.rows);
          failures.push(...result.failures);
        } finally {
          counter?.restore();
        }
      } finally {
        restore();
      }
    }
  }

  const rows: WebGpuCompareRow[] = measured.map((m) => {
    const disagreements: WebGpuCompareRow['disagreements'] = [];
    let correct = 0;
    let labelled = 0;
    m.predictions.forEach((p, k) => {
      const image = m.firstImage + k;
      if (p !== reference[image]) disagreements.push({ image, predicted: p, reference: reference[image] });
      if (labels[image] >= 0) {
        labelled++;
        if (p === labels[image]) correct++;
      }
    });
    return {
      engine: m.engine, runtime: m.runtime as Runtime, threads: 1, batch: m.batch, msPerImage: m.msPerImage, imagesPerSecond: m.imagesPerSecond,
      top1: labelled > 0 ? correct / labelled : null, coldStartMs: m.coldStartMs, adapter: onGpu(m.engine) ? adapters.get(m.runtime as Runtime) ?? null : null,
      dispatchesPerInference: m.dispatchesPerInference, submitsPerInference: m.submitsPerInference, images: m.images,
      agreement: (m.predictions.length - disagreements.length) / m.predictions.length, disagreements, ...(m.profile !== undefined && { profile: m.profile }),
    };
  });
  return {
    model: opened.label, machine: machineDescription(), date: new Date().toISOString(), runtimes: infos, rows, failures,
    setup: { imagesBatch1, largeBatch, imagesLarge, engineBudgetSeconds, dataset: description },
  };
}

const COLUMNS = [
  { header: 'runtime' }, { header: 'engine' }, { header: 'batch', align: 'right' }, { header: 'images', align: 'right' },
  { header: 'ms/image', align: 'right' }, { header: 'images/s', align: 'right' }, { header: 'cold start ms', align: 'right' },
  { header: 'dispatches', align: 'right' }, { header: 'submits', align: 'right' }, { header: 'top-1', align: 'right' },
  { header: 'agrees with CPU', align: 'right' }, { header: 'vs tfjs-webgpu', align: 'right' },
] as const;

function cells(r: WebGpuCompareJson): string[][] {
  const fixed = (x: number) => x.toFixed(x < 10 ? 2 : 1);
  const calls = (x: number | null) => (x === null ? '' : String(Math.round(x * 10) / 10));
  return r.rows.map((row) => {
    const tfjs = r.rows.find((t) => t.engine === 'tfjs-webgpu' && t.runtime === row.runtime && t.batch === row.batch);
    return [
      row.runtime, row.engine + (row.profile ? ` (${row.profile})` : ''), String(row.batch), String(row.images), fixed(row.msPerImage), fixed(row.imagesPerSecond),
      row.coldStartMs.toFixed(0), calls(row.dispatchesPerInference), calls(row.submitsPerInference), percent(row.top1),
      `${row.images - row.disagreements.length}/${row.images}`, tfjs ? `${(row.imagesPerSecond / tfjs.imagesPerSecond).toFixed(2)}x` : '',
    ];
  });
}

function notes(r: WebGpuCompareJson): string[] {
  return [
    ...r.runtimes.map((i) => `${i.runtime}: ${i.version}, ${i.skipped ? `not measured (${i.skipped})` : `adapter ${i.adapter ?? 'none'}`}`),
    ...r.failures.map((f) => `${f.runtime}: ${f.engine} cannot run: ${f.error}`),
  ];
}

/** The rows as a Markdown table with the notes under it (BENCHMARKS.md). */
export function compareWebGpuMarkdown(r: WebGpuCompareJson): string {
  return `${renderMarkdownTable(COLUMNS, cells(r))}\n\n${notes(r).map((n) => `- ${n}`).join('\n')}`;
}

/** What `dyve compare --webgpu` prints. */
export function formatCompareWebGpu(r: WebGpuCompareJson): string {
  const s = r.setup;
  return `model   ${r.model}; ${s.dataset}; batch 1: up to ${s.imagesBatch1} images, batch ${s.largeBatch}: up to ${s.imagesLarge}; budget ${s.engineBudgetSeconds} s per engine
machine ${r.machine}

${renderTable(COLUMNS, cells(r))}

${notes(r).join('\n')}`;
}
