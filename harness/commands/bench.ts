import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpuTimeTally, type DispatchRecord } from '../../src/records/dispatches.js';
import { describeChoice, openBackend, type AutoChoice, type OpenedBackend } from '../../src/select-backend.js';
import { parseTuning } from '../../src/backends/webgpu/pipelines.js';
import { DyveError } from '../../src/errors.js';
import { evaluate, type Evaluation } from '../../src/evaluation/evaluate.js';
import type { PairedDrop } from '../../src/evaluation/paired-drop.js';
import { benchJson, type BenchJson } from '../bench-json.js';

export type { BenchJson } from '../bench-json.js';
import { loadProfile } from '../../src/effort/load-profile.js';
import { DENSE_PROFILE, MECHANISMS, restrictMechanisms, type EffortProfile, type Mechanism } from '../../src/effort/profile.js';
import { formatShape, shapeSize, type Network } from '../../src/ir/network.js';
import type { ZooEntry } from '../../src/zoo/zoo.js';
import { machineDescription } from '../machine.js';
import { availableCores, intFlag, parseFlags, threadsFlag, type FlagValues } from '../flags.js';
import { DATA_HELP, DATA_OPTIONS, dataFlags, MODEL_HELP, MODEL_OPTIONS, openDataset, openModel, seedFlag } from '../model-options.js';
import { checkOutputFiles } from '../output-paths.js';
import { grouped, meanCount, percent, si } from '../terminal/format.js';
import { ProgressBar } from '../terminal/progress.js';
import { renderTable } from '../terminal/table.js';

export const BENCH_HELP = `dyve bench --model NAME|FILE.prototxt|FILE.onnx [options]

Runs a model over a dataset: top-1, top-5, images, MACs, total scalar ops and images/s.

${MODEL_HELP}

${DATA_HELP}

Effort:
      --effort dense|calibrated|neuron|exact|FILE.json
                            the DyVEDeep knobs per layer: dense (default: every mechanism off),
                            the zoo model's calibrated profile (models/NAME/effort.json: tile
                            mode, calibrated on time for the CPU; every backend runs it, and
                            on WebGPU a notice says 'dyve calibrate --backend webgpu' makes one
                            timed on the device), its per-neuron profile (effort-neuron.json),
                            its exact-SPET profile (effort-exact.json), or a profile file
      --mechanisms spet,sdss,sfma   keep only these mechanisms of the profile (ablations)
      --compare dense               also run dense on the same batches, interleaved: wall-time
                            speed-up measured side by side (a non-dense profile always gets
                            top-1 agreement with dense and, on labelled images, its top-1 drop
                            with one standard error). Times, with or without it, start after
                            one untimed batch per profile (the backend's plans built, WebGPU's
                            pipelines compiled)

Run:
      --backend auto|cpu|cpu-reference|wasm|webgpu
                            auto (default) = WebGPU on a hardware adapter, else the WebAssembly
                            SIMD kernels on one thread per core (a software adapter such as
                            lavapipe or SwiftShader is slower than WebAssembly), with a
                            one-line notice of what it chose and why; cpu = fast TypeScript
                            kernels; cpu-reference = the plain loops every fast path is tested
                            against; wasm = WebAssembly SIMD kernels; webgpu = WGSL compute
                            shaders (fails without an adapter). WebGPU counts MACs (atomics in
                            the dynamic kernels), not the other scalar ops
      --threads N           CPU backends: worker threads, batches split by image, N >= 1
                            (default: auto one per core; others the machine's cores when
                            --batch > 1, else 1). More than the cores available runs on the
                            cores, with a notice
      --tune KERNEL:WG=N,PX=N[;...]   WebGPU: override constants per kernel (workgroup size,
                            positions per invocation), e.g. 'dynamic/convolution:WG=32'
      --trace FILE          WebGPU: write every layer's dispatches (kernel, direct or indirect,
                            workgroups requested and executed, MACs, GPU milliseconds) summed
                            over the run, and the dispatches per batch run (dense's too with
                            --compare), as JSON. GPU time comes from timestamp queries where the
                            device has them: each dispatch then runs in its own compute pass
                            (dense and DyVEDeep alike, so --compare stays side by side)
      --batch B             images per run, B >= 1 (default: auto the fastest measured for what
                            it chose, autoBatch in harness/commands/bench.ts; others 1)
      --layers              print a per-layer table (WebGPU with --trace: GPU ms per run, dense's
                            beside them with --compare)
      --json FILE           write the results as JSON (its folder must exist: checked first)
      --predictions FILE    write every image's top-1 class, one per line in data set order
      --quiet               no progress bar
  -h, --help                this help

Examples:
  dyve bench --model cifar10-quick
  dyve bench --model squeezenet-dc --limit 100 --layers
  dyve bench --model vgg16 --weights synthetic --limit 2
  dyve bench --model cifar10-quick --effort calibrated --compare dense --layers
  dyve bench --model cifar10-quick --backend webgpu --effort calibrated --compare dense --trace trace.json
  dyve bench --model net.prototxt --weights net.caffemodel --dataset ./images --resize 256x256 --crop 227 --mean 104,117,123 --channels bgr
  dyve export --model cifar10-quick --onnx q.onnx && dyve bench --model q.onnx --dataset cifar10 --mean DATA/cifar10/mean.binaryproto --channels rgb --effort models/cifar10-quick/effort.json`;

/** The dispatches of one layer's kernel, summed over every run of a bench (`--trace`). */
export interface TraceEntry {
  layer: string;
  kernel: string;
  mode: 'direct' | 'indirect';
  dispatches: number;
  workgroupsRequested: number;
  workgroupsExecuted: number;
  macs: number;
  /** Milliseconds on the GPU, summed (timestamp queries; absent where the device has none). */
  gpuMs?: number;
}

/** A mean per run (WebGPU: dispatches per inference of one batch). */
class PerRun {
  runs = 0;
  private total = 0;

  add(value: number): void {
    this.runs++;
    this.total += value;
  }

  get mean(): number {
    return this.runs > 0 ? this.total / this.runs : 0;
  }
}

/** Sums dispatch records by (layer, kernel, mode), in first-seen order. */
export class TraceCollector {
  private readonly entries = new Map<string, TraceEntry>();

  add(records: readonly DispatchRecord[]): void {
    for (const r of records) {
      const key = `${r.layer}|${r.kernel}|${r.mode}`;
      let e = this.entries.get(key);
      if (!e) {
        e = { layer: r.layer, kernel: r.kernel, mode: r.mode, dispatches: 0, workgroupsRequested: 0, workgroupsExecuted: 0, macs: 0 };
        this.entries.set(key, e);
      }
      e.dispatches++;
      e.workgroupsRequested += r.workgroupsRequested;
      e.workgroupsExecuted += r.workgroupsExecuted;
      e.macs += r.macs;
      if (r.gpuNs !== undefined) e.gpuMs = (e.gpuMs ?? 0) + r.gpuNs / 1e6;
    }
  }

  get list(): TraceEntry[] {
    return [...this.entries.values()];
  }
}

/** The profile named by --effort (dense by default), restricted by --mechanisms. */
export async function effortFor(
  net: Network, values: Record<string, string | boolean | undefined>, entry?: ZooEntry,
): Promise<{ profile: EffortProfile; label: string }> {
  const arg = typeof values.effort === 'string' ? values.effort : 'dense';
  let profile = arg === 'dense' ? DENSE_PROFILE : await loadProfile(zooProfilePath(arg, entry), net);
  let label = arg;
  if (typeof values.mechanisms === 'string') {
    const keep = values.mechanisms.split(',').map((m) => m.trim()).filter((m) => m !== '');
    for (const m of keep) {
      if (!(MECHANISMS as readonly string[]).includes(m)) throw new DyveError(`--mechanisms: unknown mechanism '${m}' (known: ${MECHANISMS.join(', ')})`);
    }
    profile = restrictMechanisms(profile, keep as Mechanism[]);
    label = `${arg} [${keep.join('+') || 'none'}]`;
  }
  return { profile, label };
}

/**
 * WebGPU: the notice for a profile whose layers were chosen by their time on a CPU (`dyve
 * calibrate` timing on the wasm kernels, as the shipped profiles are): what pays there says little
 * about a GPU (BENCHMARKS.md); null for any other profile.
 */
export function cpuTimedNotice(profile: EffortProfile): string | null {
  const c = profile.calibration as { objective?: unknown; clock?: unknown; machine?: unknown } | undefined;
  // Profiles written before `clock` existed were all timed on the wasm kernels.
  if (Object.keys(profile.layers).length === 0 || c?.objective !== 'time' || (c.clock ?? 'wasm') !== 'wasm') return null;
  const machine = typeof c.machine === 'string' ? ` (${c.machine})` : '';
  return `dyve bench: this profile's layers were chosen by their time on a CPU's wasm kernels${machine}; what pays on WebGPU can differ: 'dyve calibrate --backend webgpu' chooses by this device's own time`;
}

/**
 * The zoo's shipped profiles by name: `calibrated` = effort.json (tile mode, calibrated on time
 * for the CPU), `neuron` = effort-neuron.json (the paper's per-neuron decisions), `exact` =
 * effort-exact.json.
 */
const ZOO_PROFILES: Readonly<Record<string, string>> = { calibrated: 'effort.json', neuron: 'effort-neuron.json', exact: 'effort-exact.json' };

function zooProfilePath(arg: string, entry?: ZooEntry): string {
  const file = ZOO_PROFILES[arg];
  if (file === undefined) return arg;
  if (!entry) throw new DyveError(`--effort ${arg} names a zoo model's shipped profile; give a profile file for a model outside the zoo`);
  const path = join(entry.folder, file);
  if (!existsSync(path)) throw new DyveError(`model '${entry.name}' ships no ${arg} profile (${path}); run dyve calibrate to make one`);
  return path;
}

/**
 * The batch `auto` runs when --batch is not given: the one that evaluated a data set fastest on
 * what it chose. Measured on this project's 2-core x86 machine (2026-12-03, WebAssembly on 2
 * threads, `dyve bench --backend wasm --threads 2 --batch B`, two interleaved rounds, images/s):
 * cifar10-quick 64: 752 / 1185, 128: 1059 / 1265, 256: 1338 / 1300, 512: 1277 / 1172;
 * squeezenet-dc 8: 18.4 / 17.7, 32: 17.8 / 18.4, 128: 18.9 / 20.0 (flat). So 256 images, at most
 * AUTO_BATCH_BYTES of input per batch, which keeps a large-input model's batches (and progress
 * steps) small where a larger batch gains nothing. WebGPU on a hardware adapter: 64, unmeasured
 * (no such adapter here yet).
 */
export function autoBatch(backend: AutoChoice['backend'], net: Network): number {
  if (backend === 'webgpu') return 64;
  return Math.max(1, Math.min(256, Math.floor(AUTO_BATCH_BYTES / (4 * shapeSize(net.inputShape)))));
}

/** The most input bytes `auto`'s default batch holds (see autoBatch). */
const AUTO_BATCH_BYTES = 32 * 2 ** 20;

/** What a run executes on, in a few words: `wasm x2, batch 64`. */
function pathLabel(backend: string, threads: number | null, batch: number): string {
  return `${backend}${threads && threads > 1 ? ` x${threads}` : ''}, batch ${batch}`;
}

/**
 * Opens the backend of --backend (default auto) with --threads and --batch, or auto's choices for
 * those not given; prints auto's one-line notice (backend, threads, batch, why) to stderr.
 */
export async function openBenchBackend(
  values: Record<string, string | boolean | undefined>, net: Network,
): Promise<{ backendHandle: OpenedBackend; batch: number; threads: number | null }> {
  const backendName = typeof values.backend === 'string' ? values.backend : 'auto';
  const tuning = typeof values.tune === 'string' ? { tuning: parseTuning(values.tune) } : {};
  if (backendName === 'auto') {
    const explicit = threadsFlag(values, undefined);
    const explicitThreads = explicit === undefined ? {} : { threads: explicit };
    const backendHandle = await openBackend('auto', { ...explicitThreads, ...tuning, announce: false });
    const choice = backendHandle.choice!;
    const batch = intFlag(values, 'batch', autoBatch(choice.backend, net), { min: 1 });
    console.error(describeChoice(choice, batch));
    return { backendHandle, batch, threads: choice.backend === 'webgpu' ? null : choice.threads };
  }
  const batch = intFlag(values, 'batch', 1, { min: 1 });
  const threads = threadsFlag(values, batch > 1 ? availableCores() : 1);
  const backendHandle = await openBackend(backendName, { threads, ...tuning });
  return { backendHandle, batch, threads: backendName === 'webgpu' ? null : threads };
}

/**
 * Checks bench's numeric flags before anything is opened (the backend's checks them again when it
 * opens, where the --threads notice is printed).
 *
 * @throws DyveError naming the flag and its allowed range.
 */
export function checkBenchFlags(values: FlagValues): void {
  dataFlags(values);
  seedFlag(values);
  intFlag(values, 'batch', undefined, { min: 1 });
  threadsFlag(values, undefined, () => {});
}

/** Runs a bench from parsed flags; shared by `dyve bench` and `dyve benchmarks`. */
export async function runBench(values: Record<string, string | boolean | undefined>): Promise<BenchJson> {
  const opened = await openModel(values);
  const { profile, label: effortLabel } = await effortFor(opened.net, values, opened.entry);
  if (values.compare !== undefined && values.compare !== 'dense') throw new DyveError(`--compare takes 'dense', found '${String(values.compare)}'`);
  const { dataset, description } = await openDataset(opened, values);
  const { backendHandle, batch, threads } = await openBenchBackend(values, opened.net);
  const { backend } = backendHandle;
  const dense = Object.keys(profile.layers).length === 0;
  const notice = backend.name === 'webgpu' ? cpuTimedNotice(profile) : null;
  if (notice) console.error(notice);
  const progress = new ProgressBar(`${opened.label} [${pathLabel(backend.name, threads, batch)}]`, !values.quiet);
  const trace = new TraceCollector();
  const denseTrace = new TraceCollector();
  const dispatches = new PerRun();
  const denseDispatches = new PerRun();
  // The profile's own layers: their dispatches per run, per layer (DyVEDeep's cost in dispatches).
  const dynamicLayers = new Set(Object.keys(profile.layers));
  const perDynamicLayer = new PerRun();
  const gpuTimes = new GpuTimeTally();
  const denseGpuTimes = new GpuTimeTally();
  // --trace times every dispatch on the GPU (both profiles alike: the side-by-side ratio stays fair).
  const timeDispatches = typeof values.trace === 'string';
  let result: Evaluation;
  try {
    result = await evaluate(opened.net, dataset, backend, {
      batch, effort: profile, baseline: dense ? undefined : DENSE_PROFILE, onProgress: (d, t) => progress.update(d, t), timeDispatches, warmUp: true,
      onResult: (r, baseline) => {
        if (!r.dispatches) return;
        (baseline ? denseDispatches : dispatches).add(r.dispatches.length);
        if (!baseline && dynamicLayers.size > 0) perDynamicLayer.add(r.dispatches.filter((d) => dynamicLayers.has(d.layer)).length / dynamicLayers.size);
        (baseline ? denseTrace : trace).add(r.dispatches);
        (baseline ? denseGpuTimes : gpuTimes).add(r.dispatches);
      },
    });
  } finally {
    backendHandle.close();
  }
  if (typeof values.trace === 'string') {
    if (trace.list.length === 0) throw new DyveError(`--trace records GPU dispatches: the ${backend.name} backend has none (use --backend webgpu)`);
    const file = {
      model: opened.label, adapter: backendHandle.adapter, effort: dense ? 'dense' : effortLabel, images: result.images, batch,
      dispatchesPerRun: dispatches.mean, ...(denseDispatches.runs > 0 && { denseDispatchesPerRun: denseDispatches.mean }),
      gpuTime: gpuTimes.runs > 0 ? 'timestamp queries, one compute pass per dispatch' : 'none: the device has no timestamp-query',
      dispatches: trace.list, ...(denseTrace.list.length > 0 && { denseDispatches: denseTrace.list }),
    };
    writeFileSync(values.trace, `${JSON.stringify(file, null, 2)}\n`);
  }
  if (typeof values.predictions === 'string') writeFileSync(values.predictions, result.predictions.join('\n') + (result.images > 0 ? '\n' : ''));
  const gpuRun = gpuTimes.perRun;
  const denseGpuRun = denseGpuTimes.perRun;
  return benchJson(result, {
    model: opened.label,
    backend: backend.name,
    adapter: backend.name === 'webgpu' ? backendHandle.adapter : null,
    effort: dense ? 'dense' : effortLabel,
    weights: opened.weightsLabel,
    synthetic: opened.net.synthetic,
    dataset: `${description}, input ${formatShape(opened.net.inputShape)}`,
    batch,
    threads: backend.name === 'webgpu' ? null : threads,
    auto: backendHandle.choice?.reason ?? null,
    machine: machineDescription(),
    ...(dispatches.runs > 0 && { dispatchesPerRun: dispatches.mean }),
    ...(denseDispatches.runs > 0 && { denseDispatchesPerRun: denseDispatches.mean }),
    ...(perDynamicLayer.runs > 0 && { dispatchesPerDynamicLayer: perDynamicLayer.mean }),
    ...(gpuRun && { gpuMsPerRun: gpuRun.total, gpuMsPerRunByLayer: gpuRun.byLayer }),
    ...(denseGpuRun && { denseGpuMsPerRun: denseGpuRun.total, denseGpuMsPerRunByLayer: denseGpuRun.byLayer }),
  }, values.compare === 'dense');
}

/** The top-1 drop from dense with its standard error, and the images behind it. */
function dropText(d: PairedDrop): string {
  return `top-1 ${d.dropPP.toFixed(2)} pp lower than dense (± ${d.standardErrorPP.toFixed(2)} pp, one standard error over these ` +
    `${grouped(d.images)} images: ${grouped(d.lost)} right only on dense, ${grouped(d.gained)} only with this profile)`;
}

/** Human-readable summary of a bench. */
export function formatBench(r: BenchJson, withLayers: boolean): string {
  const ratio = r.macs.executed > 0 ? r.macs.dense / r.macs.executed : 1;
  const lines = [
    `model     ${r.model}, weights ${r.weights}${r.synthetic ? ' — SYNTHETIC weights: no accuracy' : ''}`,
    `data      ${r.dataset}`,
    `backend   ${r.backend}${r.adapter ? ` (${r.adapter})` : ''}, batch ${r.batch}${r.threads ? `, ${r.threads} thread${r.threads > 1 ? 's' : ''}` : ''}, effort ${r.effort}${r.auto ? ` — chosen by auto: ${r.auto}` : ''}`,
    `images    ${r.images}`,
    `top-1     ${percent(r.top1)}`,
    `top-5     ${percent(r.top5)}`,
    `MACs      ${si(r.macs.executed)} executed of ${si(r.macs.dense)} dense (${ratio.toFixed(2)}x reduction), ${grouped(r.macs.dense / Math.max(1, r.images))} per image`,
    `total ops ${si(r.ops.total)} (MACs + every other scalar op)`,
    ...(r.dense ? [`dense     top-1 ${percent(r.dense.top1)} on the same images; ${(r.dense.opsTotal / r.ops.total).toFixed(2)}x more total ops than this run`] : []),
    ...(r.dense?.drop ? [`drop      ${dropText(r.dense.drop)}`] : []),
    ...(r.agreement !== undefined ? [`agreement ${percent(r.agreement)} of top-1 predictions equal dense`] : []),
    ...(r.compare ? [`compare   dense ${r.compare.denseSeconds.toFixed(2)} s, dynamic ${r.compare.dynamicSeconds.toFixed(2)} s, side by side: ${r.compare.speedup.toFixed(2)}x speed-up`] : []),
    ...(r.dispatchesPerRun !== undefined
      ? [`dispatch  ${meanCount(r.dispatchesPerRun)} per run${r.denseDispatchesPerRun !== undefined ? ` (dense ${meanCount(r.denseDispatchesPerRun)})` : ''}, one batch each${
        r.dispatchesPerDynamicLayer !== undefined ? `; ${meanCount(r.dispatchesPerDynamicLayer)} per layer of the profile` : ''}`]
      : []),
    ...(r.gpuMsPerRun !== undefined
      ? [`gpu time  ${r.gpuMsPerRun.toFixed(3)} ms per run in the dispatches${r.denseGpuMsPerRun !== undefined ? ` (dense ${r.denseGpuMsPerRun.toFixed(3)} ms: ${(r.denseGpuMsPerRun / r.gpuMsPerRun).toFixed(2)}x)` : ''}, timestamp queries (one compute pass per dispatch)`]
      : []),
    `time      ${r.seconds.toFixed(2)} s inference (${r.wallSeconds.toFixed(2)} s with data loading and a warm-up batch), ${r.imagesPerSecond.toFixed(r.imagesPerSecond < 10 ? 2 : 1)} images/s`,
    `machine   ${r.machine}`,
  ];
  if (withLayers) {
    const total = r.layers.reduce((s, l) => s + l.macsExecuted + l.otherOps, 0);
    const pct = (x?: { fraction: number }) => (x ? percent(x.fraction, 1) : '');
    // GPU time columns where --trace timed the dispatches (dense's with a baseline).
    const timed = r.gpuMsPerRun !== undefined;
    const timedDense = r.denseGpuMsPerRun !== undefined;
    const ms = (v?: number) => (v === undefined ? '' : v.toFixed(3));
    lines.push('', renderTable(
      [{ header: 'layer' }, { header: 'type' }, { header: 'MACs dense', align: 'right' }, { header: 'MACs executed', align: 'right' },
        { header: 'other ops', align: 'right' }, { header: 'share', align: 'right' }, { header: 'SPET stop', align: 'right' },
        { header: 'SDSS interp', align: 'right' }, { header: 'SFMA maps', align: 'right' },
        ...(timed ? [{ header: 'GPU ms/run', align: 'right' as const }] : []), ...(timedDense ? [{ header: 'dense GPU ms/run', align: 'right' as const }] : [])],
      r.layers.map((l) => [l.name, l.type, grouped(l.macsDense), grouped(l.macsExecuted), grouped(l.otherOps),
        `${((100 * (l.macsExecuted + l.otherOps)) / Math.max(1, total)).toFixed(1)} %`, pct(l.spet), pct(l.sdss), pct(l.sfma),
        ...(timed ? [ms(l.gpuMsPerRun)] : []), ...(timedDense ? [ms(l.denseGpuMsPerRun)] : [])]),
    ));
  }
  return lines.join('\n');
}

/** `dyve bench`. */
export async function benchCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
      ...MODEL_OPTIONS, ...DATA_OPTIONS,
      backend: { type: 'string' }, batch: { type: 'string' }, threads: { type: 'string' }, layers: { type: 'boolean' }, json: { type: 'string' },
      effort: { type: 'string' }, mechanisms: { type: 'string' }, compare: { type: 'string' }, trace: { type: 'string' }, tune: { type: 'string' },
      predictions: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(BENCH_HELP);
    return;
  }
  checkBenchFlags(values);
  checkOutputFiles(values, ['json', 'trace', 'predictions']);
  const result = await runBench(values);
  console.log(formatBench(result, values.layers === true));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}
