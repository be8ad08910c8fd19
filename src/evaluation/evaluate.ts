import { type Backend, type RunResult } from '../backends/backend.js';
import { CpuBackend } from '../backends/cpu/cpu-backend.js';
import { NumericError } from '../errors.js';
import { sumCounters, type LayerCounters } from '../records/counters.js';
import type { Dataset } from '../data/dataset-types.js';
import { addMechanismStats } from '../records/counters.js';
import type { EffortProfile } from '../effort/profile.js';
import { checkMemoryNeed } from '../ir/memory-need.js';
import { shapeSize, type Network } from '../ir/network.js';
import { pairedDrop, type PairedDrop, type TopOneCorrect } from './paired-drop.js';
import { argmax, rankOfLabel } from './top-k.js';

export interface EvaluateOptions {
  /** Images per backend run. */
  readonly batch?: number;
  /** The effort profile to evaluate; absent = dense. */
  readonly effort?: EffortProfile;
  /**
   * A second profile (normally dense) run on the same batches, interleaved with the first so
   * both see the same machine conditions: gives top-1 agreement and side-by-side times.
   */
  readonly baseline?: EffortProfile;
  /** Called after every batch with images done and total. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Called with every run's result: the evaluated profile's (`baseline` false) and, with a
   * baseline, the baseline's (`baseline` true): traces, dispatch counts.
   */
  readonly onResult?: (result: RunResult, baseline: boolean) => void;
  /** GPU backends: time every dispatch, both profiles' (RunOptions.timeDispatches). */
  readonly timeDispatches?: boolean;
  /**
   * Run the first batch once per profile before the timed runs, its result dropped: a backend
   * builds its plan for a batch size and profile on first use (WebGPU: pipelines compiled, buffers
   * made), which a short timing would otherwise carry. Off by default (accuracy alone needs none).
   */
  readonly warmUp?: boolean;
}

/** Accuracy, work and time of a network over a dataset. */
export interface Evaluation {
  readonly images: number;
  /** Fractions in [0, 1]; null when the data is unlabelled or the weights are synthetic. */
  readonly top1: number | null;
  readonly top5: number | null;
  /** Predicted class (top-1) per image. */
  readonly predictions: Int32Array;
  /** Per image: 1 top-1 right, 0 wrong, -1 unlabelled (all -1 with synthetic weights). */
  readonly correct: TopOneCorrect;
  /** Per layer, summed over all images. */
  readonly layers: readonly LayerCounters[];
  readonly macs: { readonly dense: number; readonly executed: number };
  /** Every scalar op executed: MACs plus all other ops. */
  readonly ops: { readonly total: number };
  /** Seconds inside backend runs (inference only: image decoding and preprocessing excluded). */
  readonly seconds: number;
  /** Seconds of the whole evaluation, data loading (and any baseline runs) included. */
  readonly wallSeconds: number;
  /** With a baseline: its results on the same images. */
  readonly baseline?: {
    readonly seconds: number;
    readonly top1: number | null;
    readonly predictions: Int32Array;
    /** Every scalar op the baseline executed. */
    readonly opsTotal: number;
    /** Fraction of images whose top-1 class equals the baseline's. */
    readonly agreement: number;
    /** The top-1 drop from the baseline, image by image, with its standard error (null: nothing scored). */
    readonly drop: PairedDrop | null;
  };
}

/** Accumulates accuracy and counters over batches. */
class Tally {
  top1 = 0;
  top5 = 0;
  labelled = 0;
  seconds = 0;
  readonly layers = new Map<string, LayerCounters>();
  readonly correct: TopOneCorrect;
  constructor(readonly predictions: Int32Array) {
    this.correct = new Int8Array(predictions.length).fill(-1);
  }

  addCounters(counters: readonly LayerCounters[]): void {
    for (const c of counters) {
      const acc = this.layers.get(c.name);
      this.layers.set(c.name, acc ? sumCounters(acc, c) : { ...c, mechanisms: addMechanismStats(c.mechanisms, undefined) });
    }
  }

  addScores(output: Float32Array, labels: Int32Array, start: number, classes: number): void {
    for (let i = 0; i < labels.length; i++) {
      const offset = i * classes;
      this.predictions[start + i] = argmax(output, offset, classes);
      if (labels[i] < 0) continue;
      this.labelled++;
      const rank = rankOfLabel(output, offset, classes, labels[i]);
      this.correct[start + i] = rank === 0 ? 1 : 0;
      if (rank === 0) this.top1++;
      if (rank < 5) this.top5++;
    }
  }
}

/**
 * The error for image `i` of a batch (dataset index `start + i`) whose scores went non-finite,
 * naming the first layer whose output did, found by running that image again on the TypeScript
 * kernels with every layer observed.
 */
function nonFinite(net: Network, input: Float32Array, i: number, start: number, effort: EffortProfile | undefined): NumericError {
  const size = shapeSize(net.inputShape);
  let first: string | undefined;
  new CpuBackend().runSync(net, input.subarray(i * size, (i + 1) * size), 1, {
    effort,
    onLayer: (layer, _inputs, outputs) => {
      if (first === undefined && outputs.some((o) => o.some((v) => !Number.isFinite(v)))) first = `${layer.name}' (${layer.params.type})`;
    },
  });
  const where = first ? `; the first layer whose output does is '${first}` : '';
  return new NumericError(`image ${start + i}: the network's scores are not finite (NaN or infinite)${where}: check the weights and the input`);
}

/**
 * Runs every image of `dataset` through `net` on `backend` in batches and scores the outputs
 * against the labels. Counters are summed from what the backend reports for each run.
 */
export async function evaluate(net: Network, dataset: Dataset, backend: Backend, options: EvaluateOptions = {}): Promise<Evaluation> {
  const batchSize = Math.max(1, options.batch ?? 1);
  const total = dataset.size;
  // The batch multiplies every blob: checked before the first batch is read and allocated.
  if (total > 0) checkMemoryNeed(net, Math.min(batchSize, total));
  const outputShape = net.blobShapes.get(net.outputName);
  const classes = outputShape ? shapeSize(outputShape) : 0;
  const main = new Tally(new Int32Array(total));
  const base = options.baseline ? new Tally(new Int32Array(total)) : undefined;
  const wallStart = performance.now();
  const runOptions = options.timeDispatches ? { timeDispatches: true } : {};
  if (options.warmUp && total > 0) {
    const { input, labels } = await dataset.batch(0, Math.min(batchSize, total));
    for (const effort of base ? [options.effort, options.baseline] : [options.effort]) await backend.run(net, input, labels.length, { effort, ...runOptions });
  }
  let batchIndex = 0;
  for (let start = 0; start < total; start += batchSize, batchIndex++) {
    const { input, labels } = await dataset.batch(start, Math.min(batchSize, total - start));
    const count = labels.length;
    const runs: [Tally, EffortProfile | undefined][] = [[main, options.effort]];
    // Alternate which profile runs first, so neither always meets a warmer cache.
    if (base) runs[batchIndex % 2 === 0 ? 'push' : 'unshift']([base, options.baseline]);
    for (const [tally, effort] of runs) {
      const t0 = performance.now();
      const result = await backend.run(net, input, count, { effort, ...runOptions });
      tally.seconds += (performance.now() - t0) / 1000;
      const bad = result.output.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw nonFinite(net, input, Math.floor(bad / classes), start, effort);
      tally.addCounters(result.counters);
      tally.addScores(result.output, labels, start, classes);
      options.onResult?.(result, tally !== main);
    }
    options.onProgress?.(start + count, total);
  }
  const layers = [...main.layers.values()];
  const dense = layers.reduce((s, l) => s + l.macsDense, 0);
  const executed = layers.reduce((s, l) => s + l.macsExecuted, 0);
  const other = layers.reduce((s, l) => s + l.otherOps, 0);
  const scored = main.labelled > 0 && !net.synthetic;
  let agreement = 0;
  if (base) for (let i = 0; i < total; i++) if (base.predictions[i] === main.predictions[i]) agreement++;
  return {
    images: total,
    top1: scored ? main.top1 / main.labelled : null,
    top5: scored ? main.top5 / main.labelled : null,
    predictions: main.predictions,
    correct: scored ? main.correct : main.correct.fill(-1),
    layers,
    macs: { dense, executed },
    ops: { total: executed + other },
    seconds: main.seconds,
    wallSeconds: (performance.now() - wallStart) / 1000,
    baseline: base && {
      seconds: base.seconds,
      top1: scored ? base.top1 / base.labelled : null,
      predictions: base.predictions,
      opsTotal: [...base.layers.values()].reduce((sum, l) => sum + l.macsExecuted + l.otherOps, 0),
      agreement: total > 0 ? agreement / total : 1,
      drop: scored ? pairedDrop(base.correct, main.correct) : null,
    },
  };
}
