/**
 * Layer sensitivity: what each DyVEDeep knob setting saves in one layer, and how far it moves the
 * network's output — the first step of calibration. Measured on a few probe images from their
 * stored dense blobs: every candidate runs the layer alone (cheap) and is ranked by the error of
 * the layer's own output; the best of those then run the rest of the network, densely, to measure
 * the error of the logits (what decides top-1, and comparable across layers).
 *
 * What a candidate saves is either executed ops (objective `macs`) or measured time (objective
 * `time`: the layer alone timed against its dense run on a LayerTimer's clock, the wasm kernels'
 * wall time or a WebGPU device's), and its knobs decide per neuron (mode `neuron`) or per tile
 * (mode `tile`, convolutions only).
 */
import { runLayer } from '../backends/cpu/cpu-backend.js';
import { isConvOrInnerProduct, logitsBlob, shapeSize, type Layer, type Network } from '../ir/network.js';
import { hasEffort, type LayerEffort, type SdssKnobs, type SfmaKnobs, type SpetKnobs } from '../effort/effort.js';
import { MECHANISMS, type Mechanism } from '../effort/profile.js';
import { feedsRelu, residualSum } from '../ir/relu-reach.js';
import { fitTileSpet } from './tile-thresholds.js';
import { DyveError } from '../errors.js';
import { wasmTimer, type LayerClock, type LayerTimer, type LayerTiming } from './layer-timer.js';

export type { LayerTiming };

/** How candidate knobs decide: per neuron (the paper's semantics) or per tile (DYVEDEEP.md "Tile mode"). */
export const CALIBRATION_MODES = ['neuron', 'tile'] as const;
export type CalibrationMode = (typeof CALIBRATION_MODES)[number];

/** What a candidate is credited with: executed ops (`macs`) or measured time (`time`: the wasm kernels' wall time, or a device's; layer-timer.ts). */
export const OBJECTIVES = ['time', 'macs'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** How candidates are generated and credited (defaults: neuron mode, the ops objective). */
export interface SensitivityOptions {
  readonly mode?: CalibrationMode;
  /**
   * Tile mode: the tile sizes (positions per tile) searched; every Convolution candidate carries
   * one of them (default [8]).
   */
  readonly tilePositions?: readonly number[];
  readonly objective?: Objective;
  /** Objective `time`: timed runs of each candidate and of the dense layer, interleaved (default 5). */
  readonly repeats?: number;
  /** Objective `time`: the clock (default: wall time on the wasm kernels, wasmTimer()). */
  readonly timer?: LayerTimer;
  /**
   * Why the backend the profile is for cannot run a setting (Backend.unsupported), or null: such
   * settings are left out, as the profile could not run there.
   */
  readonly unsupported?: (layer: Layer, effort: LayerEffort) => Promise<string | null>;
}

/** One knob setting of one layer, measured on the probe images. */
export interface LayerOption {
  readonly effort: LayerEffort;
  /**
   * What the search maximises, as a fraction of the whole network's dense cost on the probe:
   * ops saved (objective `macs`) or wall time saved (objective `time`; 0 where the layer does not
   * get measurably faster).
   */
  readonly saved: number;
  /** Ops saved (MACs + overheads), as a fraction of the whole network's dense ops (both objectives). */
  readonly opsSaved: number;
  /** Objective `time`: the layer's measured times on the probe batch. */
  readonly timing?: LayerTiming;
  /** Relative error of the network's logits vs dense, ||z' - z|| / ||z||, on the probe images. */
  readonly error: number;
}

/** The Pareto front of one layer: options sorted by `saved`, each with a larger error than the last. */
export interface LayerSensitivity {
  readonly layer: string;
  readonly front: readonly LayerOption[];
  /** Options measured on the layer alone (mechanisms alone and combined). */
  readonly measured: number;
  /** Settings left out because the backend cannot run them (SensitivityOptions.unsupported), and the first reason. */
  readonly skipped?: { readonly count: number; readonly reason: string };
  /** Objective `time`: the dense layer's time on the probe batch (the timer's clock), seconds. */
  readonly denseSeconds?: number;
}

/** The dense run of the probe images that sensitivities start from. */
export interface Probe {
  readonly batch: number;
  /** Every blob of the dense run. */
  readonly blobs: ReadonlyMap<string, Float32Array>;
  /** The whole network's dense ops on the probe. */
  readonly networkOps: number;
  /** Objective `time`: the whole network's dense time on the probe batch (the timer's clock), seconds. */
  readonly networkSeconds?: number;
}

/** Options of one layer whose logits error is measured (the best by the layer's own error). */
const OUTPUT_CHECKS = 16;

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
      return SFMA_EPSILONS.map((epsilon): SfmaKnobs => ({ epsilon })).map((sfma) => ({ sfma }));
  }
}

const SFMA_EPSILONS = [1e-3, 1e-2, 0.05, 0.2];

/**
 * Tile mode's SPET grid. A tile is skipped only when ALL its neurons test saturated, so the
 * per-neuron grid keeps few skips (measured: the shipped cifar10-quick profile with 8-position
 * tiles saves 1.11x MACs instead of 1.44x); smaller significant parts and thresholds up to well
 * above 0 (a tile whose prefix sums all stay below a positive level) give the search room.
 * Thresholds in units of the pre-activation's standard deviation.
 */
const TILE_SPET_FRACTIONS = [0.5, 0.375, 0.25, 0.125];
const TILE_SPET_THRESHOLDS = [-1, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5];
/**
 * Tile mode's SDSS deltas, in units of the RMS of the output the next layer sees: a whole tile is
 * interpolated only when every neuron's neighbours agree, so the useful deltas reach further.
 */
const TILE_SDSS_S2 = [0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5];
const TILE_SDSS_S3 = [0, 0.1, 0.25];
/** The checkerboard's neighbours are one step away, so its useful deltas reach further still. */
const TILE_SDSS_CHECKERBOARD = [0.1, 0.25, 0.5, 1, 1.5, 2, 3];

/**
 * Tile-mode candidates of a Convolution, mildest first, every one carrying `tile`: SPET over
 * TILE_SPET_FRACTIONS x TILE_SPET_THRESHOLDS (x `sigma`, the pre-activation's standard deviation)
 * plus exact mode; SDSS deltas scaled by `outScale` (the RMS of the output as the next layer sees
 * it); SFMA as in neuron mode (its decision is per input map in both modes).
 */
function tileCandidates(
  mechanism: Mechanism, sigma: number, outScale: number, positions: number, fit: (fraction: number, lossBudget: number) => SpetKnobs,
): LayerEffort[] {
  const tile = { positions };
  switch (mechanism) {
    case 'spet': {
      const exact = [0.5, 0.25].map((fraction): SpetKnobs => ({ mode: 'exact', fraction }));
      const heuristic = TILE_SPET_FRACTIONS.flatMap((fraction) =>
        TILE_SPET_THRESHOLDS.map((k): SpetKnobs => ({ mode: 'threshold', fraction, threshold: round(k * sigma) })),
      );
      // Thresholds fitted per output channel on the probe (tile-thresholds.ts), at a few loss budgets.
      const fitted = TILE_FIT_FRACTIONS.flatMap((fraction) => TILE_FIT_BUDGETS.map((budget) => fit(fraction, budget)));
      return [...exact, ...heuristic, ...fitted].map((spet) => ({ spet, tile }));
    }
    case 'sdss': {
      const s2 = TILE_SDSS_S2.map((k): SdssKnobs => ({ stride: 2, delta: round(k * outScale) }));
      const s3 = TILE_SDSS_S3.map((k): SdssKnobs => ({ stride: 3, delta: round(k * outScale) }));
      const checkerboard = TILE_SDSS_CHECKERBOARD.map((k): SdssKnobs => ({ stride: 2, delta: round(k * outScale), pattern: 'checkerboard' }));
      return dedupe([...s2, ...s3, ...checkerboard]).map((sdss) => ({ sdss, tile }));
    }
    case 'sfma':
      return SFMA_EPSILONS.map((epsilon): SfmaKnobs => ({ epsilon })).map((sfma) => ({ sfma, tile }));
  }
}

/** The distinct settings of a list, first occurrences (a layer whose output is all 0 scales every delta to 0). */
function dedupe<T>(list: readonly T[]): T[] {
  const seen = new Set<string>();
  return list.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Tile mode: SPET fractions and loss budgets (share of each channel's ReLU output mass) of the fitted thresholds. */
const TILE_FIT_FRACTIONS = [0.25, 0.5];
const TILE_FIT_BUDGETS = [0.005, 0.01, 0.02, 0.05];

/**
 * Tile mode: options of each mechanism's front combined with the others' (the wider grid makes
 * fronts long: the product of full fronts would be hundreds of layer runs per tile size).
 */
const TILE_COMBO_OPTIONS = 6;

/**
 * Objective `time`: a candidate whose median time ratio to dense is not at least this much below 1
 * gets no credit (the run-to-run noise of a layer on the probe batch is of this order).
 */
const MIN_TIME_GAIN = 0.02;

/** Six significant digits: profiles stay readable and identical across runs. */
function round(v: number): number {
  return Number(v.toPrecision(6));
}

/** Whether `mechanism` applies to `layer` of `net`. */
export function applicable(net: Network, layer: Layer, mechanism: Mechanism): boolean {
  if (mechanism === 'spet') return isConvOrInnerProduct(layer) && (feedsRelu(net, layer) || residualSum(net, layer) !== null);
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

/** The standard deviation of a blob (at least 1e-6: knob grids scale with it). */
function standardDeviation(values: Float32Array): number {
  let sum = 0;
  let sq = 0;
  for (const v of values) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / values.length;
  return Math.sqrt(Math.max(sq / values.length - mean * mean, 1e-12));
}

/** How many mechanisms a setting turns on (`tile` is not one). */
function mechanismCount(effort: LayerEffort): number {
  return MECHANISMS.filter((m) => effort[m] !== undefined).length;
}

/**
 * Measures every candidate setting of `mechanisms` on `layer`, each mechanism alone, then every
 * combination of the mechanisms' own Pareto options (by the layer's own output error); the best
 * of those are measured on the logits. In tile mode (Convolution layers; an InnerProduct keeps
 * neuron-mode SPET) this runs once per tile size, combinations within one tile size, and the
 * fronts are merged. Objective `time` and tile mode run the `wasm` kernels for ops and errors:
 * initWasmKernels() must have completed; with objective `time`, `probe.networkSeconds` must be set
 * too, on the clock of `options.timer`.
 */
export async function layerSensitivity(
  net: Network, layer: Layer, probe: Probe, mechanisms: readonly Mechanism[], options: SensitivityOptions = {},
): Promise<LayerSensitivity> {
  // Objective time: the layer on the timer's clock, its dense run prepared once for every candidate.
  const inputs = layer.bottoms.map((b) => probe.blobs.get(b) as Float32Array);
  const clock = options.objective === 'time' ? await (options.timer ?? wasmTimer()).layer(layer, inputs, probe.batch) : null;
  try {
    return await measureSensitivity(net, layer, probe, mechanisms, options, inputs, clock);
  } finally {
    clock?.close();
  }
}

async function measureSensitivity(
  net: Network, layer: Layer, probe: Probe, mechanisms: readonly Mechanism[], options: SensitivityOptions,
  inputs: readonly Float32Array[], clock: LayerClock | null,
): Promise<LayerSensitivity> {
  const { blobs, batch, networkOps } = probe;
  const objective = options.objective ?? 'macs';
  const repeats = options.repeats ?? 5;
  const tiled = options.mode === 'tile' && layer.params.type === 'Convolution';
  // Timings measure the kernels profiles run on; tile-mode layers run the wasm tile kernels for
  // ops too (the fastest; every fast path counts alike).
  const kernels = objective === 'time' || tiled ? 'wasm' : 'fast';
  const networkSeconds = probe.networkSeconds ?? 0;
  if (objective === 'time' && !(networkSeconds > 0)) throw new DyveError('layerSensitivity: objective time needs probe.networkSeconds (the dense network time)');
  const index = net.layers.indexOf(layer);
  const denseLogits = blobs.get(logitsBlob(net)) as Float32Array;
  const rectified = feedsRelu(net, layer);
  // SPET through a residual sum (relu-reach.ts): its test and the error see what the ReLU after
  // the sum sees, the layer's output plus the sum's other operand.
  const residual = rectified ? null : residualSum(net, layer);
  const addend = residual ? (blobs.get(residual.addend) as Float32Array) : undefined;
  const seen = (v: Float32Array): Float32Array => (addend ? v.map((x, i) => Math.max(x + addend[i], 0)) : v);
  const rawDense = blobs.get(layer.tops[0]) as Float32Array;
  const dense = seen(rawDense);
  const base = runLayer(layer, inputs, batch, { kernels }).counters;
  // Objective time: the layer's dense time, once, that every candidate's ratio scales.
  const denseSeconds = clock ? await clock.dense(repeats) : 0;
  const denseOps = base.macsExecuted + base.otherOps;
  let outSq = 0;
  for (const v of rawDense) {
    const out = rectified && v < 0 ? 0 : v;
    outSq += out * out;
  }
  const sigma = standardDeviation(rawDense);
  // SPET's thresholds scale with what its test reads: through a residual sum, plus the addend.
  const spetSigma = addend ? standardDeviation(rawDense.map((v, i) => v + addend[i])) : sigma;
  const outScale = Math.sqrt(Math.max(outSq / rawDense.length, 1e-12));

  let measured = 0;
  // Outputs are kept only for options on the running front of (saved, layer error): the logits
  // check needs no others, and a probe's layer output is megabytes per candidate.
  const outputs = new Map<LayerEffort, Float32Array>();
  let kept: LayerOption[] = [];
  const keep = (o: LayerOption, output: Float32Array) => {
    if (!(o.saved > 0) || kept.some((k) => k.error <= o.error && k.saved >= o.saved)) return;
    kept = kept.filter((k) => {
      const dominated = o.error <= k.error && o.saved >= k.saved;
      if (dominated) outputs.delete(k.effort);
      return !dominated;
    });
    kept.push(o);
    outputs.set(o.effort, output);
  };
  const effortOptions = (effort: LayerEffort) => ({ effort, rectified: rectified && effort.sdss !== undefined, ...(addend && effort.spet && { addend }) });
  const runWith = (effort: LayerEffort) => runLayer(layer, inputs, batch, { kernels, ...effortOptions(effort) });
  const measure = async (effort: LayerEffort): Promise<LayerOption> => {
    measured++;
    const r = runWith(effort);
    const ops = r.counters.macsExecuted + r.counters.otherOps;
    const opsSaved = (denseOps - ops) / networkOps;
    const error = relativeError(dense, seen(r.outputs[0]), rectified);
    let option: LayerOption = { effort, saved: opsSaved, opsSaved, error };
    if (objective === 'time') {
      const timing = await clock!.againstDense(effortOptions(effort), repeats);
      const gain = timing.ratio < 1 - MIN_TIME_GAIN ? (1 - timing.ratio) * denseSeconds : 0;
      option = { effort, saved: gain / networkSeconds, opsSaved, timing, error };
    }
    keep(option, r.outputs[0]);
    return option;
  };
  let skipped: LayerSensitivity['skipped'];
  // One after another: a timing must not share the machine with the next candidate's.
  const measureAll = async (efforts: readonly LayerEffort[]) => {
    const found: LayerOption[] = [];
    for (const effort of efforts) {
      const reason = await options.unsupported?.(layer, effort);
      if (reason) skipped = { count: (skipped?.count ?? 0) + 1, reason: skipped?.reason ?? reason };
      else found.push(await measure(effort));
    }
    return found;
  };
  const applicableMechanisms = mechanisms.filter((m) => applicable(net, layer, m));
  const local: LayerOption[] = [];
  for (const positions of tiled ? options.tilePositions ?? [8] : [0]) {
    const fit = (fraction: number, lossBudget: number) =>
      fitTileSpet(layer, inputs[0], batch, { fraction, tilePositions: positions, lossBudget, ...(addend && { addend }) }, kernels === 'wasm' ? 'wasm' : 'fast');
    const scale = (m: Mechanism) => (m === 'spet' ? spetSigma : sigma);
    const grid = (m: Mechanism) => (tiled ? tileCandidates(m, scale(m), outScale, positions, fit) : candidates(m, scale(m)));
    const alone: LayerOption[][] = [];
    for (const m of applicableMechanisms) alone.push(paretoFront(await measureAll(grid(m))));
    // Every combination of the mechanisms' front options (one or none of each), beyond the singles.
    let combos: LayerEffort[] = [{}];
    for (const front of alone) {
      const some = tiled ? spread(front, TILE_COMBO_OPTIONS) : front;
      combos = combos.flatMap((c) => [c, ...some.map((o) => ({ ...c, ...o.effort }))]);
    }
    const multi = await measureAll(combos.filter((c) => mechanismCount(c) > 1));
    local.push(...alone.flat(), ...multi);
  }
  const front = paretoFront(local.filter((o) => hasEffort(o.effort)));
  const checked = spread(front, OUTPUT_CHECKS).map((o) => ({
    ...o,
    // Every front option's output is kept (keep() holds the same front); the rerun is a safety net.
    error: relativeError(denseLogits, logitsWith(net, index, outputs.get(o.effort) ?? runWith(o.effort).outputs[0], probe), false),
  }));
  const sensitivity: LayerSensitivity = { layer: layer.name, front: paretoFront(checked), measured, ...(skipped && { skipped }) };
  return objective === 'time' ? { ...sensitivity, denseSeconds } : sensitivity;
}
