/**
 * The JSON contract of a bench run (`dyve bench --json`, `npm run bench:browser`): built from an
 * evaluation by the same code in Node, Deno and the browser. Later issues add fields, never rename.
 */
import type { Evaluation } from '../src/evaluation/evaluate.js';
import type { PairedDrop } from '../src/evaluation/paired-drop.js';

/** The JSON written by `dyve bench --json` and the browser benchmark. */
export interface BenchJson {
  model: string;
  backend: string;
  /** The WebGPU adapter that ran it, null on the CPU. */
  adapter: string | null;
  effort: string;
  images: number;
  top1: number | null;
  top5: number | null;
  macs: { dense: number; executed: number };
  ops: { total: number };
  seconds: number;
  layers: LayerJson[];
  /** Top-1 agreement with dense (non-dense profiles). */
  agreement?: number;
  /**
   * Dense on the same images (non-dense profiles): its top-1, every scalar op it executed, and
   * (labelled images) the top-1 drop image by image with its standard error.
   */
  dense?: { top1: number | null; opsTotal: number; drop?: PairedDrop };
  /** With --compare: dense and dynamic inference seconds measured side by side. */
  compare?: { denseSeconds: number; dynamicSeconds: number; speedup: number };
  weights: string;
  synthetic: boolean;
  dataset: string;
  batch: number;
  /** CPU backends: worker threads (batches split by image); null on WebGPU. */
  threads?: number | null;
  /** When `--backend auto` chose the backend: why; null when the backend was named. */
  auto?: string | null;
  imagesPerSecond: number;
  wallSeconds: number;
  machine: string;
  /** WebGPU: compute dispatches per run (one batch) of the evaluated profile, from the scheduler's record. */
  dispatchesPerRun?: number;
  /** WebGPU with a dense baseline: the same for dense. */
  denseDispatchesPerRun?: number;
  /** WebGPU: the dispatches of the profile's layers per run, divided by their number (absent for dense). */
  dispatchesPerDynamicLayer?: number;
  /** WebGPU with --trace and timestamp queries: milliseconds per run inside the dispatches, on the GPU. */
  gpuMsPerRun?: number;
  /** The same for the dense baseline. */
  denseGpuMsPerRun?: number;
}

export interface LayerJson {
  name: string;
  type: string;
  /** WebGPU with --trace and timestamp queries: ms per run in the layer's dispatches, and dense's with a baseline. */
  gpuMsPerRun?: number;
  denseGpuMsPerRun?: number;
  macsDense: number;
  macsExecuted: number;
  otherOps: number;
  spet?: { neurons: number; terminated: number; fraction: number };
  sdss?: { outputs: number; interpolated: number; fraction: number };
  sfma?: { maps: number; approximated: number; fraction: number };
}

/** What a bench run knows besides its evaluation. */
export interface BenchMeta {
  model: string;
  backend: string;
  adapter: string | null;
  effort: string;
  weights: string;
  synthetic: boolean;
  dataset: string;
  batch: number;
  threads?: number | null;
  /** Why `auto` chose the backend, or null when it was named. */
  auto?: string | null;
  machine: string;
  dispatchesPerRun?: number;
  denseDispatchesPerRun?: number;
  dispatchesPerDynamicLayer?: number;
  gpuMsPerRun?: number;
  denseGpuMsPerRun?: number;
  /** Per layer, the same (layers without a timed dispatch absent). */
  gpuMsPerRunByLayer?: ReadonlyMap<string, number>;
  denseGpuMsPerRunByLayer?: ReadonlyMap<string, number>;
}

const fraction = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

/** The bench JSON of an evaluation (with `compare` when it had a dense baseline and asked for it). */
export function benchJson(result: Evaluation, meta: BenchMeta, compareDense = result.baseline !== undefined): BenchJson {
  const compare = compareDense && result.baseline
    ? { denseSeconds: result.baseline.seconds, dynamicSeconds: result.seconds, speedup: result.baseline.seconds / result.seconds }
    : undefined;
  return {
    model: meta.model,
    backend: meta.backend,
    adapter: meta.adapter,
    effort: meta.effort,
    images: result.images,
    top1: result.top1,
    top5: result.top5,
    macs: result.macs,
    ops: result.ops,
    seconds: result.seconds,
    layers: result.layers.map((l) => {
      const m = l.mechanisms;
      return {
        name: l.name, type: l.type,
        ...(meta.gpuMsPerRunByLayer?.has(l.name) && { gpuMsPerRun: meta.gpuMsPerRunByLayer.get(l.name) }),
        ...(meta.denseGpuMsPerRunByLayer?.has(l.name) && { denseGpuMsPerRun: meta.denseGpuMsPerRunByLayer.get(l.name) }),
        macsDense: l.macsDense, macsExecuted: l.macsExecuted, otherOps: l.otherOps,
        ...(m?.spet && { spet: { ...m.spet, fraction: fraction(m.spet.terminated, m.spet.neurons) } }),
        ...(m?.sdss && { sdss: { ...m.sdss, fraction: fraction(m.sdss.interpolated, m.sdss.outputs) } }),
        ...(m?.sfma && { sfma: { ...m.sfma, fraction: fraction(m.sfma.approximated, m.sfma.maps) } }),
      };
    }),
    ...(result.baseline && { agreement: result.baseline.agreement, dense: {
      top1: result.baseline.top1, opsTotal: result.baseline.opsTotal, ...(result.baseline.drop && { drop: result.baseline.drop }),
    } }),
    ...(compare && { compare }),
    weights: meta.weights,
    synthetic: meta.synthetic,
    dataset: meta.dataset,
    batch: meta.batch,
    ...(meta.threads !== undefined && { threads: meta.threads }),
    ...(meta.auto !== undefined && { auto: meta.auto }),
    imagesPerSecond: result.images / result.seconds,
    wallSeconds: result.wallSeconds,
    machine: meta.machine,
    ...(meta.dispatchesPerRun !== undefined && { dispatchesPerRun: meta.dispatchesPerRun }),
    ...(meta.denseDispatchesPerRun !== undefined && { denseDispatchesPerRun: meta.denseDispatchesPerRun }),
    ...(meta.dispatchesPerDynamicLayer !== undefined && { dispatchesPerDynamicLayer: meta.dispatchesPerDynamicLayer }),
    ...(meta.gpuMsPerRun !== undefined && { gpuMsPerRun: meta.gpuMsPerRun }),
    ...(meta.denseGpuMsPerRun !== undefined && { denseGpuMsPerRun: meta.denseGpuMsPerRun }),
  };
}
