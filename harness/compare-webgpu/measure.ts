/**
 * Times the engines of `dyve compare --webgpu` one after the other in one runtime (Chromium's
 * page or Node), on the same images. Portable (no Node built-ins).
 *
 * Per engine: the cold start (from the engine's creation to the end of its first inference, one
 * image: device, pipeline and shader compilation, weight upload included), then image by image at
 * batch 1, then one untimed batch at the large batch (a new batch size builds new plans and
 * shaders in every engine) and timed large batches. Each timing is the wall time of the engine's
 * call, input upload and output read-back included. A per-engine wall-clock budget ends each
 * phase early (after at least one run), so a software adapter's slow engines fit the command's
 * minutes; the rows say how many images were timed. Engines run one after the other (TF.js holds
 * one backend at a time), not interleaved.
 */
import { argmax } from '../../src/evaluation/top-k.js';
import { onGpu, openCompareEngine, type CompareEngine, type EngineSources, type WebGpuEngineName } from './engines.js';
import type { GpuCallCounter } from './gpu-calls.js';

/** One engine at one batch, as measured (predictions go back to the caller to check against the reference). */
export interface MeasuredRow {
  readonly runtime: string;
  readonly engine: WebGpuEngineName;
  readonly batch: number;
  readonly msPerImage: number;
  readonly imagesPerSecond: number;
  readonly coldStartMs: number;
  /** GPU calls per inference (one call of `batch` images); null for the WebAssembly rows or where uncounted. */
  readonly dispatchesPerInference: number | null;
  readonly submitsPerInference: number | null;
  /** Images timed, from `firstImage` on; their predicted classes. */
  readonly images: number;
  readonly firstImage: number;
  readonly predictions: number[];
  /** DyVEDeep: the profile that ran. */
  readonly profile?: string;
}

/** An engine that could not run here, and the exact error. */
export interface EngineFailure {
  readonly runtime: string;
  readonly engine: WebGpuEngineName;
  readonly error: string;
}

export interface MeasureOptions {
  readonly runtime: string;
  readonly engines: readonly WebGpuEngineName[];
  readonly sources: EngineSources;
  /** Preprocessed images back to back, `block` floats each. */
  readonly input: Float32Array;
  readonly block: number;
  readonly classes: number;
  /** Images timed at batch 1 (images 1.., image 0 is the cold start's). */
  readonly imagesBatch1: number;
  readonly largeBatch: number;
  /** Images timed at the large batch (whole batches, from image 0). */
  readonly imagesLarge: number;
  /** Wall-clock budget of one engine, ms. */
  readonly engineBudgetMs: number;
  readonly counter: GpuCallCounter | null;
  readonly log?: (line: string) => void;
}

export interface MeasureResult {
  readonly rows: MeasuredRow[];
  readonly failures: EngineFailure[];
}

/** How far past the budget a large batch may be estimated (from batch 1) and still be tried. */
const LARGE_BATCH_REACH = 2;

/** Sums of one engine at one batch. */
interface Tally {
  ms: number;
  runs: number;
  images: number;
  dispatches: number;
  submits: number;
  predictions: number[];
}

/**
 * `call`'s result, or an error when it has not answered within `ms` (a hung engine: seen once
 * with TF.js WebGPU on Dawn after our engines' devices, a readback that never resolved). The
 * call itself cannot be cancelled; the engines after it still run.
 */
async function within<T>(ms: number, what: string, call: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  try {
    return await Promise.race([call(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long one call (creation, or one inference) may take, in engine budgets, before it counts as hung. */
const HUNG_AFTER_BUDGETS = 2;

const errorText = (err: unknown): string => (err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err)).split('\n')[0];

/** Measures one engine; the engine is closed before this returns. */
async function measureEngine(o: MeasureOptions, name: WebGpuEngineName): Promise<MeasuredRow[]> {
  const counted = onGpu(name) ? o.counter : null;
  const calls = () => ({ d: counted?.dispatches() ?? 0, s: counted?.submits() ?? 0 });
  const slice = (first: number, n: number) => o.input.slice(first * o.block, (first + n) * o.block);
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const limit = HUNG_AFTER_BUDGETS * o.engineBudgetMs;
  let engine: CompareEngine | undefined;
  let hung = false;
  const run = async (input: Float32Array, n: number): Promise<Float32Array> => {
    try {
      return await within(limit, `${name}'s run of ${n} image${n === 1 ? '' : 's'}`, () => engine!.run(input, n));
    } catch (err) {
      hung = /did not answer/.test((err as Error).message);
      throw err;
    }
  };
  try {
    engine = await within(limit, `${name}'s creation`, () => openCompareEngine(name, o.sources));
    await run(slice(0, 1), 1);
    const coldStartMs = elapsed();
    const timed = async (first: number, n: number, t: Tally) => {
      const before = calls();
      const t0 = performance.now();
      const scores = await run(slice(first, n), n);
      t.ms += performance.now() - t0;
      const after = calls();
      t.runs++;
      t.images += n;
      t.dispatches += after.d - before.d;
      t.submits += after.s - before.s;
      for (let i = 0; i < n; i++) t.predictions.push(argmax(scores, i * o.classes, o.classes));
    };
    const single: Tally = { ms: 0, runs: 0, images: 0, dispatches: 0, submits: 0, predictions: [] };
    // A third of the budget left for batch 1, after the cold start.
    const singleEnd = elapsed() + (o.engineBudgetMs - elapsed()) / 3;
    for (let i = 1; i <= o.imagesBatch1 && (i === 1 || elapsed() < singleEnd); i++) await timed(i, 1, single);
    const b = o.largeBatch;
    const large: Tally = { ms: 0, runs: 0, images: 0, dispatches: 0, submits: 0, predictions: [] };
    const batches = Math.max(1, Math.floor(o.imagesLarge / b));
    // Batch 1's speed overstates a large batch's time (per-inference costs spread over the batch),
    // so it only rules out a batch far past the budget; otherwise the untimed batch runs and its
    // own time decides how many timed ones fit.
    const estimateMs = b * (single.ms / single.images);
    if (elapsed() < o.engineBudgetMs && elapsed() + estimateMs <= LARGE_BATCH_REACH * o.engineBudgetMs) {
      const w0 = performance.now();
      await run(slice(0, b), b);
      let batchMs = performance.now() - w0;
      for (let k = 0; k < batches && (k === 0 || elapsed() + batchMs <= o.engineBudgetMs); k++) {
        const before = large.ms;
        await timed(k * b, b, large);
        batchMs = large.ms - before;
      }
    } else {
      o.log?.(`${o.runtime} ${name}: no batch of ${b} (about ${(estimateMs / 1000).toFixed(0)} s at the batch-1 speed, past the engine's budget)`);
    }
    const rows: MeasuredRow[] = [];
    for (const [batch, t, first] of [[1, single, 1], [b, large, 0]] as const) {
      if (t.runs === 0) continue;
      rows.push({
        runtime: o.runtime, engine: name, batch, msPerImage: t.ms / t.images, imagesPerSecond: (1000 * t.images) / t.ms, coldStartMs,
        dispatchesPerInference: counted ? t.dispatches / t.runs : null, submitsPerInference: counted ? t.submits / t.runs : null,
        images: t.images, firstImage: first, predictions: t.predictions, ...(engine.profile() !== undefined && { profile: engine.profile() }),
      });
    }
    return rows;
  } finally {
    // A hung engine's close could hang too: it is left to the process's end.
    if (!hung) await engine?.close();
  }
}

/** Measures every engine in turn; an engine that fails is reported with its error, the others go on. */
export async function measureEngines(o: MeasureOptions): Promise<MeasureResult> {
  const rows: MeasuredRow[] = [];
  const failures: EngineFailure[] = [];
  for (const name of o.engines) {
    o.log?.(`${o.runtime}: ${name}`);
    try {
      rows.push(...(await measureEngine(o, name)));
    } catch (err) {
      failures.push({ runtime: o.runtime, engine: name, error: errorText(err) });
      o.log?.(`${o.runtime} ${name}: cannot run: ${errorText(err)}`);
    }
  }
  return { rows, failures };
}
