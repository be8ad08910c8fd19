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

/** One timed pass. */
export interface Pass {
  readonly seconds: number;
  readonly images: number;
  readonly predictions: Int32Array;
  /** MACs executed over the pass, when the engine counts them. */
  readonly macs?: number;
  /** Threads that worked (on the pass's last run). */
  readonly threadsUsed: number;
}

/** Runs every image of `set` through `engine` in batches of `batch`, timing the engine calls only. */
export async function timedPass(engine: Engine, set: ImageSet, batch: number): Promise<Pass> {
  const predictions = new Int32Array(set.count);
  const macsBefore = engine.executedMacs?.();
  let seconds = 0;
  for (let start = 0; start < set.count; start += batch) {
    const n = Math.min(batch, set.count - start);
    const input = set.inputs.slice(start * set.block, (start + n) * set.block);
    const t0 = performance.now();
    const scores = await engine.run(input, n);
    seconds += engine.lastRunSeconds?.() ?? (performance.now() - t0) / 1000;
    const classes = scores.length / n;
    for (let i = 0; i < n; i++) predictions[start + i] = argmax(scores, i * classes, classes);
  }
  const macsAfter = engine.executedMacs?.();
  return {
    seconds, images: set.count, predictions, threadsUsed: engine.threadsUsed?.() ?? engine.threads,
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
