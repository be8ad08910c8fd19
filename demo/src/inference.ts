/**
 * What the page computes: one image through dense and DyVEDeep (the same backend, the same
 * input), and the accuracy-vs-ops sweep of the effort scale over a small image set.
 */
import {
  classProbabilities, DENSE_PROFILE, evaluate, inMemoryDataset, scaleEffort, shapeSize, toNetworkInput, topK,
  type Backend, type EffortProfile, type LayerCounters, type LayerDecisions,
} from '../../src/browser.js';
import type { DemoImage } from './images.js';
import { calibratedProfile, type DemoModel } from './models.js';

/** One class of a top-5 list. */
export interface Ranked {
  readonly index: number;
  readonly name: string;
  readonly probability: number;
}

/** One run of one image. */
export interface Classification {
  readonly top5: readonly Ranked[];
  /** Milliseconds of the backend run (a warm plan: shader compilation excluded). */
  readonly ms: number;
  readonly macs: { readonly dense: number; readonly executed: number };
  /** Every scalar op the backend counted (MACs + other ops). */
  readonly ops: number;
  readonly layers: readonly LayerCounters[];
  /** Where each mechanism acted (DyVEDeep runs). */
  readonly decisions?: readonly LayerDecisions[];
}

const warm = new WeakMap<Backend, Set<string>>();

/** The top-5 of the image whose scores are `output[offset .. offset + classes)`. */
function rankTop5(model: DemoModel, output: Float32Array, offset: number, classes: number): Ranked[] {
  const p = classProbabilities(model.net, output, offset, classes);
  return topK(p, 0, classes, 5).map((index) => ({ index, name: model.classNames[index] ?? `class ${index}`, probability: p[index] }));
}

/**
 * Classifies one image with `profile`. The first run of a (model, profile, trace) plan builds
 * pipelines and buffers; it is run once untimed so the time shown is inference only.
 */
export async function classify(backend: Backend, model: DemoModel, image: DemoImage, profile: EffortProfile, trace: boolean): Promise<Classification> {
  const input = toNetworkInput(image.image, model.preprocess, model.net.inputShape, { name: image.id });
  const options = { effort: profile, traceDecisions: trace };
  const key = `${model.name}|${JSON.stringify(profile.layers)}|${trace}`;
  const seen = warm.get(backend) ?? new Set<string>();
  warm.set(backend, seen);
  if (!seen.has(key)) {
    await backend.run(model.net, input, 1, options);
    seen.add(key);
  }
  const start = performance.now();
  const result = await backend.run(model.net, input, 1, options);
  const ms = performance.now() - start;
  const top5 = rankTop5(model, result.output, 0, result.output.length);
  const dense = result.counters.reduce((s, c) => s + c.macsDense, 0);
  const executed = result.counters.reduce((s, c) => s + c.macsExecuted, 0);
  const ops = result.counters.reduce((s, c) => s + c.macsExecuted + c.otherOps, 0);
  return { top5, ms, macs: { dense, executed }, ops, layers: result.counters, decisions: result.decisions };
}

/** One point of the accuracy-vs-ops curve. */
export interface SweepPoint {
  readonly scale: number;
  readonly images: number;
  /** Top-1 against the labels; null when the images are unlabelled. */
  readonly top1: number | null;
  /** Fraction of images whose top-1 equals dense. */
  readonly agreement: number;
  /** Executed MACs / dense MACs. */
  readonly macsFraction: number;
  /** Seconds in the backend's runs. */
  readonly seconds: number;
  /** Each image's top-5, in image order. */
  readonly top5: readonly (readonly Ranked[])[];
}

/** Options of {@link sweepEffort}. */
export interface SweepOptions {
  /**
   * Images per backend run (default 1). A CPU backend on worker threads splits each run's batch
   * by image over its workers: the batch is what keeps them all busy.
   */
  readonly batch?: number;
  /** Images done of the current scale, after each run. */
  readonly onProgress?: (scale: number, done: number, total: number) => void;
}

/**
 * Runs `images` at every effort scale (0 = dense, 1 = calibrated), `options.batch` images per
 * backend run, and reports accuracy and work; `onPoint` sees each point as it is measured.
 */
export async function sweepEffort(
  backend: Backend, model: DemoModel, images: readonly DemoImage[], scales: readonly number[], onPoint: (p: SweepPoint) => void,
  options: SweepOptions = {},
): Promise<SweepPoint[]> {
  const block = shapeSize(model.net.inputShape);
  const inputs = new Float32Array(images.length * block);
  images.forEach((img, i) => toNetworkInput(img.image, model.preprocess, model.net.inputShape, { name: img.id, out: inputs, offset: i * block }));
  const labelled = images.every((img) => img.label >= 0);
  const dataset = inMemoryDataset({
    name: `${images.length} images`, inputShape: model.net.inputShape, inputs,
    ...(labelled && { labels: images.map((img) => img.label) }), ids: images.map((img) => img.id),
  });
  const batch = Math.max(1, Math.min(images.length, options.batch ?? 1));
  const output = model.net.blobShapes.get(model.net.outputName);
  const classes = output ? shapeSize(output) : 0;
  // One evaluation per scale; the top-5 of every image comes from the runs' own outputs.
  const measure = async (scale: number) => {
    const top5: Ranked[][] = [];
    const r = await evaluate(model.net, dataset, backend, {
      effort: scale === 0 ? DENSE_PROFILE : scaleEffort(calibratedProfile(model), scale), batch,
      onResult: (result) => {
        for (let at = 0; at < result.output.length; at += classes) top5.push(rankTop5(model, result.output, at, classes));
      },
      onProgress: (done, total) => options.onProgress?.(scale, done, total),
    });
    return { r, top5 };
  };
  const dense = await measure(0);
  const points: SweepPoint[] = [];
  for (const scale of scales) {
    const { r, top5 } = scale === 0 ? dense : await measure(scale);
    const agree = r.predictions.reduce((n, p, i) => n + (p === dense.r.predictions[i] ? 1 : 0), 0);
    const point = {
      scale, images: r.images, top1: r.top1, agreement: agree / r.images, macsFraction: r.macs.executed / r.macs.dense, seconds: r.seconds, top5,
    };
    points.push(point);
    onPoint(point);
  }
  return points;
}
