/**
 * Layer sensitivity: what each DyVEDeep knob setting saves in one layer, and how far it moves the
 * network's output — the first step of calibration. Measured on a few probe images from their
 * stored dense blobs: every candidate runs the layer alone (cheap) and is ranked by the error of
 * the layer's own output; the best of those then run the rest of the network, densely, to measure
 * the error of the logits (what decides top-1, and comparable across layers).
 */
import { runLayer } from '../backends/cpu/cpu-backend.js';
import { isWeighted, shapeSize, type Layer, type Network } from '../ir/network.js';
import { hasEffort, type LayerEffort, type SdssKnobs, type SfmaKnobs, type SpetKnobs } from '../effort/effort.js';
import { type Mechanism } from '../effort/profile.js';
import { feedsRelu } from '../ir/relu-reach.js';

/** One knob setting of one layer, measured on the probe images. */
export interface LayerOption {
  readonly effort: LayerEffort;
  /** Ops saved (MACs + overheads), as a fraction of the whole network's dense ops. */
  readonly saved: number;
  /** Relative error of the network's logits vs dense, ||z' - z|| / ||z||, on the probe images. */
  readonly error: number;
}

/** The Pareto front of one layer: options sorted by `saved`, each with a larger error than the last. */
export interface LayerSensitivity {
  readonly layer: string;
  readonly front: readonly LayerOption[];
  /** Options measured on the layer alone (mechanisms alone and combined). */
  readonly measured: number;
}

/** The dense run of the probe images that sensitivities start from. */
export interface Probe {
  readonly batch: number;
  /** Every blob of the dense run. */
  readonly blobs: ReadonlyMap<string, Float32Array>;
  /** The whole network's dense ops on the probe. */
  readonly networkOps: number;
}

/** Options of one layer whose logits error is measured (the best by the layer's own error). */
const OUTPUT_CHECKS = 16;

/** The blob top-1 is read from before any final Softmax (monotone, so the same decision). */
export function logitsBlob(net: Network): string {
  const last = net.layers.at(-1);
  return last && last.params.type === 'Softmax' ? last.bottoms[0] : net.outputName;
}

/** The logits when `layer` (index `index`) outputs `output` instead of its dense blob. */
function logitsWith(net: Network, index: number, output: Float32Array, probe: Probe): Float32Array {
  const logits = logitsBlob(net);
  const blobs = new Map(probe.blobs);
  blobs.set(net.layers[index].tops[0], output);
  for (const layer of net.layers.slice(index + 1)) {
    if (blobs.get(logits) !== probe.blobs.get(logits)) break;
    const inputs = layer.bottoms.map((b) => blobs.get(b) as Float32Array);
    runLayer(layer, inputs, probe.batch, { kernels: 'fast' }).outputs.forEach((o, j) => blobs.set(layer.tops[j], o));
  }
  return blobs.get(logits) as Float32Array;
}

/** Up to `n` options of a front, spread evenly over it, the most aggressive included. */
function spread<T>(front: readonly T[], n: number): T[] {
  if (front.length <= n) return [...front];
  return Array.from({ length: n }, (_, i) => front[Math.round(((i + 1) * (front.length - 1)) / n)]);
}

/**
 * Candidate knobs per mechanism, mildest first. SPET thresholds and SDSS deltas scale with the
 * standard deviation of the layer's dense output, so one grid fits layers of any magnitude.
 */
function candidates(mechanism: Mechanism, sigma: number): LayerEffort[] {
  switch (mechanism) {
    case 'spet': {
      const exact: SpetKnobs = { mode: 'exact', fraction: 0.5 };
      const heuristic = [0.5, 0.25].flatMap((fraction) =>
        [-1, -0.5, -0.25, 0, 0.25, 0.5].map((k): SpetKnobs => ({ mode: 'threshold', fraction, threshold: round(k * sigma) })),
      );
      return [exact, ...heuristic].map((spet) => ({ spet }));
    }
    case 'sdss': {
      const s2 = [0, 0.05, 0.1, 0.2, 0.4].map((k): SdssKnobs => ({ stride: 2, delta: round(k * sigma) }));
      const s3 = [0, 0.1].map((k): SdssKnobs => ({ stride: 3, delta: round(k * sigma) }));
      return [...s2, ...s3].map((sdss) => ({ sdss }));
    }
    case 'sfma':
      return [1e-3, 1e-2, 0.05, 0.2].map((epsilon): SfmaKnobs => ({ epsilon })).map((sfma) => ({ sfma }));
  }
}

/** Six significant digits: profiles stay readable and identical across runs. */
function round(v: number): number {
  return Number(v.toPrecision(6));
}

/** Whether `mechanism` applies to `layer` of `net`. */
export function applicable(net: Network, layer: Layer, mechanism: Mechanism): boolean {
  if (mechanism === 'spet') return isWeighted(layer) && feedsRelu(net, layer);
  if (layer.params.type !== 'Convolution') return false;
  // SDSS needs a map to sample: more than one position.
  return mechanism === 'sfma' || shapeSize(layer.outputShapes[0]) > layer.outputShapes[0].c;
}

/** The options of a Pareto front with nothing strictly better in both saved and error. */
export function paretoFront(options: readonly LayerOption[]): LayerOption[] {
  const sorted = [...options].sort((a, b) => a.error - b.error || b.saved - a.saved);
  const front: LayerOption[] = [];
  for (const o of sorted) if (o.saved > (front.at(-1)?.saved ?? 0)) front.push(o);
  return front;
}

function relativeError(dense: Float32Array, dynamic: Float32Array, rectified: boolean): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < dense.length; i++) {
    const a = rectified && dense[i] < 0 ? 0 : dense[i];
    const b = rectified && dynamic[i] < 0 ? 0 : dynamic[i];
    num += (a - b) * (a - b);
    den += a * a;
  }
  if (num === 0) return 0;
  return den > 0 ? Math.sqrt(num / den) : Infinity;
}

/**
 * Measures every candidate setting of `mechanisms` on `layer`, each mechanism alone, then every
 * combination of the mechanisms' own Pareto options (by the layer's own output error); the best
 * of those are measured on the logits.
 */
export function layerSensitivity(net: Network, layer: Layer, probe: Probe, mechanisms: readonly Mechanism[]): LayerSensitivity {
  const { blobs, batch, networkOps } = probe;
  const index = net.layers.indexOf(layer);
  const denseLogits = blobs.get(logitsBlob(net)) as Float32Array;
  const inputs = layer.bottoms.map((b) => blobs.get(b) as Float32Array);
  const dense = blobs.get(layer.tops[0]) as Float32Array;
  const rectified = feedsRelu(net, layer);
  const base = runLayer(layer, inputs, batch, { kernels: 'fast' }).counters;
  const denseOps = base.macsExecuted + base.otherOps;
  let sum = 0;
  let sq = 0;
  for (const v of dense) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / dense.length;
  const sigma = Math.sqrt(Math.max(sq / dense.length - mean * mean, 1e-12));

  let measured = 0;
  const outputs = new Map<LayerEffort, Float32Array>();
  const measure = (effort: LayerEffort): LayerOption => {
    measured++;
    const r = runLayer(layer, inputs, batch, { kernels: 'fast', effort, rectified: rectified && effort.sdss !== undefined });
    const ops = r.counters.macsExecuted + r.counters.otherOps;
    outputs.set(effort, r.outputs[0]);
    return { effort, saved: (denseOps - ops) / networkOps, error: relativeError(dense, r.outputs[0], rectified) };
  };
  const alone = mechanisms.filter((m) => applicable(net, layer, m)).map((m) => paretoFront(candidates(m, sigma).map(measure)));
  // Every combination of the mechanisms' front options (one or none of each), beyond the singles.
  let combos: LayerEffort[] = [{}];
  for (const front of alone) combos = combos.flatMap((c) => [c, ...front.map((o) => ({ ...c, ...o.effort }))]);
  const multi = combos.filter((c) => Object.keys(c).length > 1).map(measure);
  const local = paretoFront([...alone.flat(), ...multi].filter((o) => hasEffort(o.effort)));
  const checked = spread(local, OUTPUT_CHECKS).map((o) => ({
    ...o,
    error: relativeError(denseLogits, logitsWith(net, index, outputs.get(o.effort) as Float32Array, probe), false),
  }));
  return { layer: layer.name, front: paretoFront(checked), measured };
}
