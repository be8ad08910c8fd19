import type { Backend, LayerCounters } from '../backends/backend.js';
import type { Dataset } from '../data/dataset.js';
import { shapeSize, type Network } from '../ir/network.js';
import { argmax, rankOfLabel } from './top-k.js';

export interface EvaluateOptions {
  /** Images per backend run. */
  readonly batch?: number;
  /** Called after every batch with images done and total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Accuracy, work and time of a network over a dataset. */
export interface Evaluation {
  readonly images: number;
  /** Fractions in [0, 1]; null when the data is unlabelled or the weights are synthetic. */
  readonly top1: number | null;
  readonly top5: number | null;
  /** Predicted class (top-1) per image. */
  readonly predictions: Int32Array;
  /** Per layer, summed over all images. */
  readonly layers: readonly LayerCounters[];
  readonly macs: { readonly dense: number; readonly executed: number };
  /** Every scalar op executed: MACs plus all other ops. */
  readonly ops: { readonly total: number };
  /** Seconds inside backend runs (inference only: image decoding and preprocessing excluded). */
  readonly seconds: number;
  /** Seconds of the whole evaluation, data loading included. */
  readonly wallSeconds: number;
}

/**
 * Runs every image of `dataset` through `net` on `backend` in batches and scores the outputs
 * against the labels. Counters are summed from what the backend reports for each run.
 */
export async function evaluate(net: Network, dataset: Dataset, backend: Backend, options: EvaluateOptions = {}): Promise<Evaluation> {
  const batchSize = Math.max(1, options.batch ?? 1);
  const total = dataset.size;
  const outputShape = net.blobShapes.get(net.outputName);
  const classes = outputShape ? shapeSize(outputShape) : 0;
  const predictions = new Int32Array(total);
  const layers = new Map<string, LayerCounters>();
  let top1 = 0;
  let top5 = 0;
  let labelled = 0;
  let seconds = 0;
  const wallStart = performance.now();
  for (let start = 0; start < total; start += batchSize) {
    const count = Math.min(batchSize, total - start);
    const { input, labels } = await dataset.batch(start, count);
    const t0 = performance.now();
    const result = await backend.run(net, input, count);
    seconds += (performance.now() - t0) / 1000;
    for (const c of result.counters) {
      const acc = layers.get(c.name);
      if (acc) {
        acc.macsDense += c.macsDense;
        acc.macsExecuted += c.macsExecuted;
        acc.otherOps += c.otherOps;
      } else {
        layers.set(c.name, { ...c });
      }
    }
    for (let i = 0; i < count; i++) {
      const offset = i * classes;
      predictions[start + i] = argmax(result.output, offset, classes);
      const label = labels[i];
      if (label < 0) continue;
      labelled++;
      const rank = rankOfLabel(result.output, offset, classes, label);
      if (rank === 0) top1++;
      if (rank < 5) top5++;
    }
    options.onProgress?.(start + count, total);
  }
  const layerList = [...layers.values()];
  const dense = layerList.reduce((s, l) => s + l.macsDense, 0);
  const executed = layerList.reduce((s, l) => s + l.macsExecuted, 0);
  const other = layerList.reduce((s, l) => s + l.otherOps, 0);
  const scored = labelled > 0 && !net.synthetic;
  return {
    images: total,
    top1: scored ? top1 / labelled : null,
    top5: scored ? top5 / labelled : null,
    predictions,
    layers: layerList,
    macs: { dense, executed },
    ops: { total: executed + other },
    seconds,
    wallSeconds: (performance.now() - wallStart) / 1000,
  };
}
