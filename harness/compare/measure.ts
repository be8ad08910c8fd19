/** Timing of one engine over a set of images: inference time only, predictions kept. */
import { argmax } from '../../src/evaluation/top-k.js';
import type { Engine } from './engine.js';

/** Preprocessed images with their labels (-1: unlabelled). */
export interface ImageSet {
  readonly inputs: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  /** Floats per image. */
  readonly block: number;
}

/** One timed pass (the mean of its repeats, when it went over its images more than once). */
export interface Pass {
  /** Seconds of one pass over the images. */
  readonly seconds: number;
  readonly images: number;
  /** Times it went over its images to reach the minimum time (1: once). */
  readonly repeats: number;
  readonly predictions: Int32Array;
  /** MACs executed over the pass, when the engine counts them. */
  readonly macs?: number;
  /** Threads that worked (on the pass's last run). */
  readonly threadsUsed: number;
}

/**
 * Runs every image of `set` through `engine` in batches of `batch`, timing the engine calls only;
 * again over the same images until the engine calls add up to `minSeconds` (a pass of a fraction
 * of a second is at the mercy of one hiccup of a shared machine). Predictions and MACs are the
 * first pass's, the time the mean pass's.
 */
export async function timedPass(engine: Engine, set: ImageSet, batch: number, minSeconds = 0): Promise<Pass> {
  const predictions = new Int32Array(set.count);
  const macsBefore = engine.executedMacs?.();
  let macsAfter: number | undefined;
  let seconds = 0;
  let repeats = 0;
  do {
    for (let start = 0; start < set.count; start += batch) {
      const n = Math.min(batch, set.count - start);
      const input = set.inputs.slice(start * set.block, (start + n) * set.block);
      const t0 = performance.now();
      const scores = await engine.run(input, n);
      seconds += engine.lastRunSeconds?.() ?? (performance.now() - t0) / 1000;
      if (repeats > 0) continue;
      const classes = scores.length / n;
      for (let i = 0; i < n; i++) predictions[start + i] = argmax(scores, i * classes, classes);
    }
    if (repeats++ === 0) macsAfter = engine.executedMacs?.();
  } while (seconds < minSeconds);
  return {
    seconds: seconds / repeats, images: set.count, repeats, predictions, threadsUsed: engine.threadsUsed?.() ?? engine.threads,
    ...(macsBefore !== undefined && macsAfter !== undefined && { macs: macsAfter - macsBefore }),
  };
}

/** Top-1 of predictions against labels; null when unlabelled. */
export function top1(predictions: Int32Array, labels: Int32Array): number | null {
  let labelled = 0;
  let hits = 0;
  labels.forEach((l, i) => {
    if (l < 0) return;
    labelled++;
    if (predictions[i] === l) hits++;
  });
  return labelled > 0 ? hits / labelled : null;
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
