/**
 * One model's WebGPU rows in one runtime (`dyve bench-gpu`): dense and DyVEDeep side by side on
 * two backends of the same adapter. Portable (no Node built-ins): the same code measures in Node,
 * in Deno and inside the Chromium page, so the runtimes' rows differ only by the runtime.
 *
 * Per engine: cold start (the first run after the backend is created: pipeline compilation,
 * weight upload, plan building), then image by image at batch 1, then batch by batch at the large
 * batch, the two engines interleaved run by run so that a drift of the machine hits both alike.
 * Every timing is the wall time of `backend.run` (upload, one submission, read-back included).
 * A wall-clock budget stops each phase early (after at least one run per engine; the large batch
 * is left out when even one batch would overrun it), so the command fits its few minutes on a
 * software adapter and measures more where runs are fast.
 */
import type { Backend } from '../../src/backends/backend.js';
import { DENSE_PROFILE, type EffortProfile } from '../../src/effort/profile.js';
import { argmax } from '../../src/evaluation/top-k.js';
import { shapeSize, type Network } from '../../src/ir/network.js';
import { GpuTimeTally } from '../../src/records/dispatches.js';

/** The engines, named as `dyve compare --webgpu` names them. */
export const GPU_ENGINES = ['dyvedeep-webgpu-dense', 'dyvedeep-webgpu-dynamic'] as const;
export type GpuEngine = (typeof GPU_ENGINES)[number];

/** One row of `reports/bench-gpu.json`. */
export interface GpuRow {
  readonly runtime: string;
  readonly adapter: string;
  readonly model: string;
  readonly engine: GpuEngine;
  readonly batch: number;
  /** Mean wall time of a run per image, over the timed runs. */
  readonly msPerImage: number;
  readonly imagesPerSecond: number;
  /** Top-1 over the timed images (null without labels). */
  readonly top1: number | null;
  /** The engine's first run (batch 1) after its backend was created: compilation included. */
  readonly coldStartMs: number;
  /** GPU dispatches per inference (one `backend.run` of `batch` images), from the scheduler's record. */
  readonly dispatchesPerInference: number;
  /** Queue submissions per inference (counted at GPUQueue.submit). */
  readonly submitsPerInference: number;
  /** Images timed (an image timed again in a later pass counts again). */
  readonly images: number;
  /** Large batch: whether one untimed batch ran first (plan at that batch built before timing). */
  readonly warmUp: boolean;
  /**
   * GPU time per image inside the dispatches, from more runs of the batch with every dispatch
   * timed (timestamp queries, a compute pass each; not among the wall-timed runs); null where the
   * device has no 'timestamp-query'.
   */
  readonly gpuMsPerImage: number | null;
  /** The same per layer (its dispatches summed), in execution order; null likewise. */
  readonly gpuMsPerImageByLayer: Readonly<Record<string, number>> | null;
}

/** An opened WebGPU backend: the backend, its device (for the submission count) and adapter. */
export interface OpenedGpu {
  readonly backend: Backend;
  readonly device: GPUDevice;
  readonly adapter: string;
  close(): void;
}

/** What {@link measureModel} needs. */
export interface ModelMeasurement {
  readonly runtime: string;
  readonly model: string;
  readonly net: Network;
  /** Preprocessed images, back to back, and their labels (-1 when unknown). */
  readonly input: Float32Array;
  readonly labels: Int32Array;
  /** The DyVEDeep profile: the model's shipped calibrated one (effort.json, tile mode). */
  readonly dynamic: EffortProfile;
  readonly largeBatch: number;
  /** Most images timed at batch 1, and at the large batch (whole batches). */
  readonly maxImages: number;
  readonly maxLargeImages: number;
  /** Each phase goes over its images again, engines alternating, until it has run this long (within the budget). */
  readonly minPhaseMs: number;
  /** Wall-clock budget of the whole measurement (both engines, every phase), ms. */
  readonly budgetMs: number;
  readonly open: () => Promise<OpenedGpu>;
  readonly onProgress?: (done: number, total: number) => void;
}

/** The rows of one model and a line saying what ran. */
export interface ModelResult {
  readonly rows: GpuRow[];
  readonly summary: string;
}

/** How far past its budget a model's first large batch may take it (later models get less). */
const LARGE_BATCH_GRACE = 1.25;

/** Counts GPUQueue.submit calls on the prototype of `device.queue` (every queue of the runtime). */
function countSubmits(device: GPUDevice): { readonly count: () => number; readonly restore: () => void } {
  const proto = Object.getPrototypeOf(device.queue) as { submit: GPUQueue['submit'] };
  const original = proto.submit;
  let n = 0;
  // The parameter's type as each runtime declares it (an Iterable in @webgpu/types, an array in Deno's).
  proto.submit = function submit(this: GPUQueue, buffers: Parameters<GPUQueue['submit']>[0]) {
    n++;
    return original.call(this, buffers);
  };
  return { count: () => n, restore: () => { proto.submit = original; } };
}

/** Sums of one engine at one batch. */
interface Tally {
  ms: number;
  runs: number;
  images: number;
  correct: number;
  labelled: number;
  dispatches: number;
  submits: number;
}

const emptyTally = (): Tally => ({ ms: 0, runs: 0, images: 0, correct: 0, labelled: 0, dispatches: 0, submits: 0 });

/**
 * Runs `n` images from `first` on one engine; adds to `tally` when given (its top-1 only when
 * `score`: an image's first pass). Returns the wall ms.
 */
async function runOnce(
  m: ModelMeasurement, gpu: OpenedGpu, profile: EffortProfile, first: number, n: number, submits: () => number, tally?: Tally, score = true,
): Promise<number> {
  const block = shapeSize(m.net.inputShape);
  const classes = shapeSize(m.net.blobShapes.get(m.net.outputName)!);
  const input = m.input.subarray(first * block, (first + n) * block);
  const before = submits();
  const start = performance.now();
  const r = await gpu.backend.run(m.net, input, n, { effort: profile });
  const ms = performance.now() - start;
  if (tally) {
    tally.ms += ms;
    tally.runs++;
    tally.images += n;
    tally.dispatches += r.dispatches?.length ?? 0;
    tally.submits += submits() - before;
    for (let i = 0; score && i < n; i++) {
      const label = m.labels[first + i];
      if (label < 0) continue;
      tally.labelled++;
      if (argmax(r.output, i * classes, classes) === label) tally.correct++;
    }
  }
  return ms;
}

/**
 * Runs of `n` images from `first` with every dispatch timed on the GPU (up to 5, within a quarter
 * of the phase minimum, at least one): ms per image, in all and per layer, averaged over the runs.
 */
async function gpuTimes(
  m: ModelMeasurement, gpu: OpenedGpu, profile: EffortProfile, first: number, n: number,
): Promise<Pick<GpuRow, 'gpuMsPerImage' | 'gpuMsPerImageByLayer'>> {
  const block = shapeSize(m.net.inputShape);
  const input = m.input.subarray(first * block, (first + n) * block);
  const tally = new GpuTimeTally();
  const start = performance.now();
  do {
    tally.add((await gpu.backend.run(m.net, input, n, { effort: profile, timeDispatches: true })).dispatches ?? []);
  } while (tally.runs > 0 && tally.runs < 5 && performance.now() - start < m.minPhaseMs / 4);
  const run = tally.perRun;
  if (!run) return { gpuMsPerImage: null, gpuMsPerImageByLayer: null };
  return { gpuMsPerImage: run.total / n, gpuMsPerImageByLayer: Object.fromEntries([...run.byLayer].map(([layer, ms]) => [layer, ms / n])) };
}

/**
 * Measures dense and DyVEDeep on one model: cold start, batch 1, large batch (see the file's
 * comment). Needs `max(maxImages + 1, maxLargeImages)` images in `input`.
 */
export async function measureModel(m: ModelMeasurement): Promise<ModelResult> {
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const images = m.labels.length;
  const profiles: Record<GpuEngine, EffortProfile> = { 'dyvedeep-webgpu-dense': DENSE_PROFILE, 'dyvedeep-webgpu-dynamic': m.dynamic };
  const maxPairs = Math.max(1, Math.min(m.maxImages, images - 1));
  const maxBatches = Math.max(1, Math.floor(Math.min(m.maxLargeImages, images) / m.largeBatch));
  if (images < m.largeBatch || images < 2) throw new Error(`bench-gpu: ${m.model} needs at least ${Math.max(2, m.largeBatch)} images, got ${images}`);
  const total = 2 + 2 * maxPairs + 2 * maxBatches;
  let done = 0;
  const step = () => m.onProgress?.(++done, total);
  const opened: Partial<Record<GpuEngine, OpenedGpu>> = {};
  let counter: ReturnType<typeof countSubmits> | undefined;
  try {
    const cold: Partial<Record<GpuEngine, number>> = {};
    for (const engine of GPU_ENGINES) {
      const gpu = await m.open();
      opened[engine] = gpu;
      counter ??= countSubmits(gpu.device);
      cold[engine] = await runOnce(m, gpu, profiles[engine], 0, 1, counter.count);
      step();
    }
    const submits = counter!.count;
    // Batch 1: images 1.. (image 0 was the cold run), engines alternating, until the phase's share
    // of the budget (a third of what is left) is spent; again from image 1 while the phase is
    // shorter than its minimum.
    const single = { 'dyvedeep-webgpu-dense': emptyTally(), 'dyvedeep-webgpu-dynamic': emptyTally() };
    const singleBudget = (m.budgetMs - elapsed()) / 3;
    const singleStart = elapsed();
    const singleMore = () => elapsed() - singleStart < singleBudget;
    let pairs = 0;
    while (pairs === 0 || (singleMore() && (pairs < maxPairs || elapsed() - singleStart < m.minPhaseMs))) {
      const image = 1 + (pairs % maxPairs);
      const first = pairs < maxPairs;
      pairs++;
      for (const engine of GPU_ENGINES) {
        await runOnce(m, opened[engine]!, profiles[engine], image, 1, submits, single[engine], first);
        if (first) step();
      }
    }
    done = 2 + 2 * maxPairs;
    // Large batch: one untimed batch per engine first when the estimate (batch-1 speed) says that
    // it and a timed batch fit what is left; then timed batches, alternating, until the budget.
    const b = m.largeBatch;
    let pairMs = b * GPU_ENGINES.reduce((s, e) => s + single[e].ms / single[e].images, 0);
    const warmUp = elapsed() + 2 * pairMs <= m.budgetMs;
    // A first batch far past the budget (SqueezeNet on a software adapter in Chromium: minutes)
    // is left out, and the summary says so, rather than the command running past its minutes.
    const estimate = pairMs;
    const largeFits = elapsed() + pairMs <= LARGE_BATCH_GRACE * m.budgetMs;
    if (warmUp) for (const engine of GPU_ENGINES) await runOnce(m, opened[engine]!, profiles[engine], 0, b, submits);
    const large = { 'dyvedeep-webgpu-dense': emptyTally(), 'dyvedeep-webgpu-dynamic': emptyTally() };
    const largeStart = elapsed();
    let batches = 0;
    while (largeFits && (batches === 0 || (elapsed() + pairMs <= m.budgetMs && (batches < maxBatches || elapsed() - largeStart < m.minPhaseMs)))) {
      const pairStart = elapsed();
      const first = batches < maxBatches;
      for (const engine of GPU_ENGINES) {
        await runOnce(m, opened[engine]!, profiles[engine], (batches % maxBatches) * b, b, submits, large[engine], first);
        if (first) step();
      }
      pairMs = elapsed() - pairStart;
      batches++;
    }
    m.onProgress?.(total, total);
    const rows: GpuRow[] = [];
    for (const engine of GPU_ENGINES) {
      const adapter = opened[engine]!.adapter;
      for (const [batch, t] of [[1, single[engine]], [b, large[engine]]] as const) {
        if (t.runs === 0) continue;
        const gpuTime = await gpuTimes(m, opened[engine]!, profiles[engine], batch === 1 ? 1 : 0, batch);
        rows.push({
          runtime: m.runtime, adapter, model: m.model, engine, batch,
          msPerImage: t.ms / t.images,
          imagesPerSecond: (1000 * t.images) / t.ms,
          top1: t.labelled > 0 ? t.correct / t.labelled : null,
          coldStartMs: cold[engine]!,
          dispatchesPerInference: t.dispatches / t.runs,
          submitsPerInference: t.submits / t.runs,
          images: t.images,
          warmUp: batch === 1 ? true : warmUp,
          ...gpuTime,
        });
      }
    }
    const cut = [
      ...(pairs < maxPairs ? [`${pairs} of ${maxPairs} images at batch 1`] : []),
      ...(largeFits && batches < maxBatches ? [`${batches} of ${maxBatches} batches`] : []),
    ];
    // Runs past the distinct images: the passes --min-seconds asked for.
    const passes = (runs: number, distinct: number) => (runs > distinct ? ` (${(runs / distinct).toFixed(1)} passes over ${distinct})` : '');
    const largePart = largeFits
      ? `${batches} batch${batches === 1 ? '' : 'es'} of ${b}${passes(batches, maxBatches)}${warmUp ? ' (after one untimed batch)' : ' (no untimed batch first: the budget did not allow one)'}`
      : `no batch of ${b} (one per engine would take about ${(estimate / 1000).toFixed(0)} s at the batch-1 speed, past the budget: its rows are left out)`;
    const summary = `${m.runtime} ${m.model}: cold start + ${pairs} image${pairs === 1 ? '' : 's'}${passes(pairs, maxPairs)} at batch 1 + ${largePart} per engine, ${(elapsed() / 1000).toFixed(1)} s` +
      `${cut.length > 0 ? ` (budget ${(m.budgetMs / 1000).toFixed(0)} s: ${cut.join(', ')})` : ''}`;
    return { rows, summary };
  } finally {
    counter?.restore();
    for (const gpu of Object.values(opened)) gpu?.close();
  }
}
