import { writeFileSync } from 'node:fs';
import { shapeSize, type Network } from '../../src/ir/network.js';
import { DyveError } from '../../src/errors.js';
import { loadProfile } from '../../src/effort/load-profile.js';
import { DENSE_PROFILE, type EffortProfile } from '../../src/effort/profile.js';
import { layerMacs } from '../../src/ir/layer-metrics.js';
import { ENGINE_NAMES, type Engine, type EngineName } from '../compare/engine.js';
import { median, timedPass, top1, type ImageSet, type Pass } from '../compare/measure.js';
import { openOurEngine } from '../compare/our-engines.js';
import { machineDescription } from '../machine.js';
import { availableCores, intFlag, numberFlag, parseFlags, threadsFlag, type FlagValues } from '../flags.js';
import { DATA_HELP, DATA_OPTIONS, dataFlags, MODEL_HELP, MODEL_OPTIONS, openDataset, openModel, seedFlag } from '../model-options.js';
import { checkOutputFiles } from '../output-paths.js';
import { percent } from '../terminal/format.js';
import { renderMarkdownTable, renderTable } from '../terminal/table.js';

export const COMPARE_HELP = `dyve compare --model NAME|FILE.prototxt|FILE.onnx [options]

In one run, on the same images and weights: dyvedeep dense and DyVEDeep (the calibrated profile)
on the WebAssembly kernels and worker threads, and the peers onnxruntime-node (native, CPU
provider), onnxruntime-web (wasm) and TensorFlow.js (wasm backend, XNNPACK), the peers fed the
same network (an ONNX export of our IR; a TF.js graph built from it). Prints and writes (--json)
ms/image at batch 1, images/s at batch 64, threads, top-1, achieved GFLOP/s (2 x MACs / time:
dense MACs for the peers, executed MACs for DyVEDeep), ratios to onnxruntime-node and, for
DyVEDeep's engines, the speed-up over dyvedeep-dense paired round by round (median, range).
Engines run interleaved in rounds; each figure is the median over the rounds. In a round each
engine goes over its images again until it has run --min-seconds (top-1 from the first pass).

${MODEL_HELP}

${DATA_HELP.replace(/\n *--limit N .*/, '')}

Compare:
      --threads N           threads of every engine, N >= 1 (default: the machine's cores; more
                            than the cores available runs on the cores, with a notice).
                            dyvedeep splits batches by image, and one image's large dense layers
                            by output channels (its dynamic layers run on one thread)
      --engines LIST        a subset of ${ENGINE_NAMES.join(',')}
      --effort FILE.json    dyvedeep-dynamic's profile (default: the zoo model's calibrated
                            effort.json, tile mode); dyvedeep-neuron runs the zoo model's
                            per-neuron effort-neuron.json
      --kernels wasm|fast   dyvedeep's CPU kernels (default wasm)
      --images-b1 N         images of the batch-1 pass, N >= 1 (default 256 CIFAR-10 / 16 ImageNet)
      --images-b64 N        images of the batch-64 pass, also the top-1 set, N >= 1 (default
                            1024 / 64)
      --rounds R            interleaved rounds, R >= 1 (default 5)
      --min-seconds S       in each round, each engine's pass (batch 1, batch 64) goes over its
                            images again until it has run S seconds, S >= 0 (default 1; 0 =
                            once): a fast engine's pass of a fraction of a second moved by 20 %
                            from round to round on a shared machine
      --json FILE           write { model, machine, rows: [...] } (its folder must exist)
      --quiet               no progress lines
      --webgpu              WebGPU side by side instead (dyvedeep, TF.js and onnxruntime-web on
                            WebGPU in Chromium and Node): dyve compare --webgpu --help
  -h, --help                this help

Examples:
  dyve compare --model cifar10-quick --threads 1
  dyve compare --model squeezenet-dc --threads 2 --json reports/compare-squeezenet.json`;

/** One row of the JSON (`dyve compare --json`). */
export interface CompareRow {
  engine: EngineName;
  threads: number;
  batch: number;
  msPerImage: number;
  imagesPerSecond: number;
  top1: number | null;
  gflops: number;
  /** imagesPerSecond / onnxruntime-node's at the same batch (when it ran). */
  ratioToOnnxruntimeNode: number | null;
  /**
   * DyVEDeep's engines (when dyvedeep-dense ran): dyvedeep-dense's time / this engine's, paired
   * round by round (the rounds interleave the engines, so a pair saw the same machine), the
   * median and the range over the rounds.
   */
  speedupVsDense: { median: number; min: number; max: number } | null;
  /** Threads that really worked (dyvedeep: 1 when no layer of an image was large enough to split). */
  threadsUsed: number;
  /** Times a pass went over its images to run --min-seconds (median over the rounds). */
  repeats?: number;
}

export interface CompareJson {
  model: string;
  machine: string;
  rows: CompareRow[];
  /** Images of each pass, rounds, the minimum time of a pass, and the dense MACs of one image. */
  setup: { imagesBatch1: number; imagesBatch64: number; rounds: number; minSeconds?: number; denseMacsPerImage: number; kernels: string };
}

type Values = FlagValues;

/** Peers are dev dependencies, loaded only here. */
async function openPeer(name: EngineName, values: { threads: number; onnx: () => Uint8Array; net: Network }): Promise<Engine> {
  const wrap = (engine: { run(input: Float32Array, batch: number): Promise<Float32Array>; close(): Promise<void> }): Engine => ({
    name, threads: values.threads, run: (input, batch) => engine.run(input, batch), close: () => engine.close(),
  });
  try {
    if (name === 'onnxruntime-node' || name === 'onnxruntime-web') {
      const { openOnnxRuntime } = await import('../peers/onnxruntime.js');
      return wrap(await openOnnxRuntime(name === 'onnxruntime-node' ? 'node' : 'web', values.onnx(), values.threads));
    }
    const { openTfjsWasm } = await import('../peers/tfjs-wasm.js');
    return wrap(await openTfjsWasm(values.net, values.threads));
  } catch (err) {
    if (err instanceof DyveError) throw err;
    throw new DyveError(`cannot start ${name}: ${(err as Error).message}`);
  }
}

/** Copies the first `count` images of a dataset into memory (decoded and preprocessed once). */
async function imageSet(dataset: Awaited<ReturnType<typeof openDataset>>['dataset'], count: number, block: number): Promise<ImageSet> {
  const n = Math.min(count, dataset.size);
  const { input, labels } = await dataset.batch(0, n);
  return { inputs: input, labels, count: n, block };
}

/** The first `count` images of a set (views, no copy). */
function firstImages(set: ImageSet, count: number): ImageSet {
  const n = Math.min(count, set.count);
  return { ...set, count: n, inputs: set.inputs.subarray(0, n * set.block), labels: set.labels.subarray(0, n) };
}

/** Runs `dyve compare`, returning its JSON. */
export async function runCompare(values: Values, log: (line: string) => void): Promise<CompareJson> {
  if (values.limit !== undefined) throw new DyveError('--limit does not apply to compare: --images-b1 and --images-b64 set the images of each pass');
  dataFlags(values);
  seedFlag(values);
  const threads = threadsFlag(values, availableCores());
  const rounds = intFlag(values, 'rounds', 5, { min: 1 });
  const minSeconds = numberFlag(values, 'min-seconds', 1, { min: 0 });
  const imagesB1 = intFlag(values, 'images-b1', undefined, { min: 1 });
  const imagesB64 = intFlag(values, 'images-b64', undefined, { min: 1 });
  const kernels = typeof values.kernels === 'string' ? values.kernels : 'wasm';
  if (kernels !== 'wasm' && kernels !== 'fast') throw new DyveError(`--kernels takes wasm or fast, found '${kernels}'`);
  const wanted = typeof values.engines === 'string' ? values.engines.split(',').map((e) => e.trim()) : [...ENGINE_NAMES];
  for (const e of wanted) if (!(ENGINE_NAMES as readonly string[]).includes(e)) throw new DyveError(`--engines: unknown engine '${e}' (known: ${ENGINE_NAMES.join(', ')})`);

  const opened = await openModel(values);
  const net = opened.net;
  const cifar = opened.entry?.dataset === 'cifar10';
  const n1 = imagesB1 ?? (cifar ? 256 : 16);
  const n64 = imagesB64 ?? (cifar ? 1024 : 64);
  const { dataset } = await openDataset(opened, { ...values, limit: String(Math.max(n1, n64)) });
  const block = shapeSize(net.inputShape);
  const all = await imageSet(dataset, Math.max(n1, n64), block);
  const set1 = firstImages(all, n1);
  const set64 = firstImages(all, n64);
  const denseMacs = net.layers.reduce((s, l) => s + layerMacs(l), 0);

  // DyVEDeep's profiles: --effort (default: the zoo's tile-mode effort.json) and, for
  // dyvedeep-neuron, the zoo's per-neuron effort-neuron.json.
  const profiles = new Map<EngineName, EffortProfile>([['dyvedeep-dense', DENSE_PROFILE]]);
  if (wanted.includes('dyvedeep-dynamic')) {
    const file = typeof values.effort === 'string' ? values.effort : opened.entry ? `${opened.entry.folder}/effort.json` : undefined;
    if (!file) throw new DyveError('--effort FILE.json is required for dyvedeep-dynamic with a model outside the zoo');
    profiles.set('dyvedeep-dynamic', await loadProfile(file, net));
  }
  if (wanted.includes('dyvedeep-neuron')) {
    if (!opened.entry) throw new DyveError('dyvedeep-neuron runs a zoo model\'s effort-neuron.json: leave it out of --engines for a model outside the zoo');
    profiles.set('dyvedeep-neuron', await loadProfile(`${opened.entry.folder}/effort-neuron.json`, net));
  }
  // Imported only when an ONNX peer runs: the generated ONNX schema is a large module, and a
  // larger heap makes every garbage collection of the timed runs slower (measured: the split
  // batch-1 path of squeezenet-dc ran ~40 % slower with it loaded).
  const onnxBytes = wanted.some((e) => e.startsWith('onnxruntime')) ? (await import('../../src/formats/onnx/export-onnx.js')).exportOnnx(net) : undefined;
  const onnx = (): Uint8Array => {
    if (!onnxBytes) throw new DyveError('internal: the ONNX graph was not exported');
    return onnxBytes;
  };

  const engines: Engine[] = [];
  try {
    for (const name of wanted as EngineName[]) {
      log(`# starting ${name} (${threads} thread${threads > 1 ? 's' : ''})`);
      const ours = profiles.get(name);
      engines.push(ours ? await openOurEngine(name, net, ours, threads, kernels) : await openPeer(name, { threads, onnx, net }));
    }
    // Warm-up, not timed: compile, allocate, page in, and let the JITs reach their top tier (the
    // batch-1 path of a split image took ~30 images to settle, so the whole batch-1 set runs once).
    const warm = firstImages(set64, 64);
    for (const e of engines) {
      await timedPass(e, set1, 1);
      await timedPass(e, warm, 64);
    }
    const passes = new Map<string, Pass[]>();
    const record = (e: Engine, batch: number, p: Pass) => {
      const key = `${e.name}|${batch}`;
      passes.set(key, [...(passes.get(key) ?? []), p]);
    };
    for (let r = 0; r < rounds; r++) {
      for (const e of engines) {
        log(`# round ${r + 1}/${rounds}: ${e.name}`);
        record(e, 1, await timedPass(e, set1, 1, minSeconds));
        record(e, 64, await timedPass(e, set64, 64, minSeconds));
      }
    }
    const rows: CompareRow[] = [];
    for (const batch of [1, 64]) {
      for (const e of engines) {
        const list = passes.get(`${e.name}|${batch}`)!;
        const seconds = median(list.map((p) => p.seconds));
        const images = list[0].images;
        const macs = list[0].macs ?? denseMacs * images;
        rows.push({
          engine: e.name, threads: e.threads, batch,
          msPerImage: (1000 * seconds) / images,
          imagesPerSecond: images / seconds,
          top1: top1(list[0].predictions, (batch === 1 ? set1 : set64).labels),
          gflops: (2 * macs) / seconds / 1e9,
          ratioToOnnxruntimeNode: null,
          speedupVsDense: null,
          threadsUsed: list[0].threadsUsed,
          repeats: median(list.map((p) => p.repeats)),
        });
      }
    }
    for (const row of rows) {
      const ort = rows.find((r) => r.engine === 'onnxruntime-node' && r.batch === row.batch);
      row.ratioToOnnxruntimeNode = ort ? row.imagesPerSecond / ort.imagesPerSecond : null;
      const dense = passes.get(`dyvedeep-dense|${row.batch}`);
      if (dense && row.engine.startsWith('dyvedeep-')) {
        const own = passes.get(`${row.engine}|${row.batch}`)!;
        const paired = own.map((p, r) => dense[r].seconds / p.seconds);
        row.speedupVsDense = { median: median(paired), min: Math.min(...paired), max: Math.max(...paired) };
      }
    }
    return {
      model: opened.label,
      machine: machineDescription(),
      rows,
      setup: { imagesBatch1: set1.count, imagesBatch64: set64.count, rounds, minSeconds, denseMacsPerImage: denseMacs, kernels },
    };
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
}

/** The columns of the printed and the Markdown table. */
const COLUMNS = [
  { header: 'engine' }, { header: 'threads', align: 'right' }, { header: 'batch', align: 'right' }, { header: 'ms/image', align: 'right' },
  { header: 'images/s', align: 'right' }, { header: 'top-1', align: 'right' }, { header: 'GFLOP/s', align: 'right' }, { header: 'vs onnxruntime-node', align: 'right' },
  { header: 'vs dyvedeep-dense (rounds)', align: 'right' }] as const;

/** A paired speed-up: its median, with the range over the rounds when there were several. */
function speedupCell(s: CompareRow['speedupVsDense']): string {
  if (!s) return '';
  return s.min === s.max ? `${s.median.toFixed(2)}x` : `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
}

function compareCells(r: CompareJson): string[][] {
  return r.rows.map((row) => [
    row.engine, row.threadsUsed === row.threads ? String(row.threads) : `${row.threadsUsed} (of ${row.threads})`, String(row.batch),
    row.msPerImage.toFixed(row.msPerImage < 10 ? 3 : 1), row.imagesPerSecond.toFixed(1), percent(row.top1), row.gflops.toFixed(1),
    row.ratioToOnnxruntimeNode === null ? '' : `${row.ratioToOnnxruntimeNode.toFixed(2)}x`, speedupCell(row.speedupVsDense),
  ]);
}

/** The rows as a Markdown table (BENCHMARKS.md). */
export function compareMarkdown(r: CompareJson): string {
  return renderMarkdownTable(COLUMNS, compareCells(r));
}

/** The table `dyve compare` prints. */
export function formatCompare(r: CompareJson): string {
  const table = renderTable(COLUMNS, compareCells(r));
  return `model   ${r.model}; ${r.setup.imagesBatch1} images at batch 1, ${r.setup.imagesBatch64} at batch 64 (top-1 set), median of ${r.setup.rounds} interleaved rounds${r.setup.minSeconds ? ` (each pass repeated to at least ${r.setup.minSeconds} s)` : ''}; dyvedeep kernels: ${r.setup.kernels}
machine ${r.machine}

${table}`;
}

/** `dyve compare`. */
export async function compareCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    ...MODEL_OPTIONS, ...DATA_OPTIONS,
    threads: { type: 'string' }, engines: { type: 'string' }, effort: { type: 'string' }, kernels: { type: 'string' },
    'images-b1': { type: 'string' }, 'images-b64': { type: 'string' }, rounds: { type: 'string' }, 'min-seconds': { type: 'string' },
    json: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
    webgpu: { type: 'boolean' }, runtimes: { type: 'string' }, 'large-batch': { type: 'string' }, 'images-large': { type: 'string' },
    'engine-budget': { type: 'string' },
  });
  if (values.webgpu) {
    const gpu = await import('./compare-webgpu.js');
    if (values.help) {
      console.log(gpu.COMPARE_WEBGPU_HELP);
      return;
    }
    checkOutputFiles(values, ['json']);
    const result = await gpu.runCompareWebGpu(values, values.quiet ? () => {} : (line) => console.error(line));
    console.log(gpu.formatCompareWebGpu(result));
    if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  for (const flag of ['runtimes', 'large-batch', 'images-large', 'engine-budget'] as const) {
    if (values[flag] !== undefined) throw new DyveError(`--${flag} applies to compare --webgpu only`);
  }
  if (values.help) {
    console.log(COMPARE_HELP);
    return;
  }
  checkOutputFiles(values, ['json']);
  const result = await runCompare(values, values.quiet ? () => {} : (line) => console.error(line));
  console.log(formatCompare(result));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}
