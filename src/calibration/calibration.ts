import { CpuBackend } from '../backends/cpu/cpu-backend.js';
import { initWasmKernels } from '../backends/cpu/wasm/wasm-loader.js';
import type { Backend } from '../backends/backend.js';
import type { Dataset } from '../data/dataset-types.js';
import { evaluate } from '../evaluation/evaluate.js';
import { pairedDrop, type PairedDrop } from '../evaluation/paired-drop.js';
import { mulberry32 } from '../formats/synthetic-weights.js';
import type { Layer, Network } from '../ir/network.js';
import type { LayerEffort } from '../effort/effort.js';
import { TILE_POSITIONS_RULE, validTilePositions } from '../effort/knob-rules.js';
import { MECHANISMS, PROFILE_FORMAT, type EffortProfile, type Mechanism } from '../effort/profile.js';
import { DyveError } from '../errors.js';
import {
  applicable, CALIBRATION_MODES, layerSensitivity, OBJECTIVES,
  type CalibrationMode, type LayerOption, type LayerSensitivity, type Objective, type Probe,
} from './sensitivity.js';
import { wasmTimer, type LayerTimer } from './layer-timer.js';

export { CALIBRATION_MODES, OBJECTIVES, type CalibrationMode, type Objective };

export interface CalibrationOptions {
  /** Largest accepted top-1 drop, percentage points vs dense on the calibration set. */
  readonly budgetPP: number;
  readonly batch?: number;
  readonly mechanisms?: readonly Mechanism[];
  /** Calibration images the layer sensitivities are measured on (default 64). */
  readonly probe?: number;
  /** Seed of the probe's draw (default 1). */
  readonly seed?: number;
  /** Bisection steps of the trade-off search (default 8): each is one evaluation of the calibration set. */
  readonly steps?: number;
  /** Refinement steps after the bisection (default 4): each is one evaluation of the calibration set. */
  readonly refine?: number;
  /**
   * Knob steps per chosen layer after the refinement (default 3): its SDSS delta and SFMA epsilon
   * pushed by bisection toward the grid's next value (KNOB_REACH times), each step one evaluation.
   */
  readonly knobSteps?: number;
  /** Progress and the per-layer sensitivity log, one line at a time. */
  readonly log?: (line: string) => void;
  /** Progress inside each step: what runs (e.g. `dense`, `sensitivity`), items done of total. */
  readonly onProgress?: (step: string, done: number, total: number) => void;
  /**
   * How the candidate knobs decide (default `neuron`): per neuron, or per tile (`tile`: every
   * Convolution candidate carries `tile`, on a grid widened for tile decisions; InnerProduct
   * layers keep neuron-mode SPET).
   */
  readonly mode?: CalibrationMode;
  /** Mode `tile`: the tile sizes searched, positions per tile (default [8]); see checkTilePositions. */
  readonly tilePositions?: readonly number[];
  /**
   * What a candidate is credited with (default `macs`): executed ops, or (`time`) the wall time
   * its layer saves on the `wasm` kernels, timed against the dense layer on the probe images — a
   * mechanism that does not pay for its extra pass gets no credit. Timings make the search depend
   * on the machine and on its load: the same seed gives the same candidates, not always the same
   * profile.
   */
  readonly objective?: Objective;
  /** Objective `time`: timed runs per candidate, interleaved with as many dense runs (default 5). */
  readonly repeats?: number;
  /**
   * Objective `time`: the clock (default wasmTimer(): wall time on the wasm kernels). A profile for
   * a WebGPU device is timed on it (webgpuTimer), since what pays there differs from the CPU.
   */
  readonly timer?: LayerTimer;
}

export interface CalibrationResult {
  readonly profile: EffortProfile;
  readonly denseTop1: number;
  readonly top1: number;
  /**
   * The chosen profile's top-1 drop from dense on the calibration set, image by image, with its
   * standard error (null: no image scored; an all-dense choice drops 0 +- 0).
   */
  readonly drop: PairedDrop | null;
  readonly macReduction: number;
  /** Executed ops (MACs + overheads) of dense over those of the profile, on the calibration set. */
  readonly opsReduction: number;
  readonly sensitivities: readonly LayerSensitivity[];
  /** The trade-off chosen: error is worth 1 / lambda of the network's ops. */
  readonly lambda: number;
  /** Evaluations of the whole calibration set. */
  readonly evaluations: number;
  readonly mode: CalibrationMode;
  /** The tile sizes searched (empty in neuron mode). */
  readonly tilePositions: readonly number[];
  readonly objective: Objective;
  /** Objective `time`: the dense network's time on the probe (the timer's clock), seconds. */
  readonly probeSeconds?: number;
  /** Objective `time`: what the timer measured (LayerTimer.description). */
  readonly timedOn?: string;
  /** Objective `time`: where (LayerTimer.clock). */
  readonly clock?: LayerTimer['clock'];
}

/**
 * The tile sizes of a tile-mode search, ascending and without repeats.
 *
 * @throws DyveError on an empty list or a size validTilePositions refuses.
 */
export function checkTilePositions(positions: readonly number[]): number[] {
  if (positions.length === 0) throw new DyveError('tile positions: give at least one tile size');
  for (const n of positions) {
    if (!validTilePositions(n)) {
      throw new DyveError(`tile positions must each be ${TILE_POSITIONS_RULE}, found ${n}`);
    }
  }
  return [...new Set(positions)].sort((a, b) => a - b);
}

/** Describes knobs compactly for the log, e.g. `spet f0.25 t-0.31 + sdss s2 d0.05` (`, tile 8` in tile mode; `sdss checkerboard d2` for that pattern). */
export function describeEffort(effort: LayerEffort): string {
  const parts: string[] = [];
  const { spet, sdss, sfma, tile } = effort;
  if (spet) {
    parts.push(spet.mode === 'exact' ? `spet exact f${spet.fraction}`
      : spet.thresholds ? `spet f${spet.fraction} t per channel (${Math.min(...spet.thresholds).toPrecision(3)} .. ${Math.max(...spet.thresholds).toPrecision(3)})`
      : `spet f${spet.fraction} t${spet.threshold}`);
  }
  if (sdss) parts.push(`sdss ${sdss.pattern === 'checkerboard' ? 'checkerboard' : `s${sdss.stride}`} d${sdss.delta}`);
  if (sfma) parts.push(`sfma e${sfma.epsilon}`);
  const knobs = parts.join(' + ') || 'dense';
  return tile && parts.length > 0 ? `${knobs}, tile ${tile.positions}` : knobs;
}

/** One front option for the log: what it saves, at what error, and (objective time) the layer's times. */
function describeOption(o: LayerOption, objective: Objective): string {
  const knobs = describeEffort(o.effort);
  if (objective === 'macs' || !o.timing) return `saves ${(100 * o.saved).toFixed(2)} % at error ${o.error.toPrecision(3)}: ${knobs}`;
  return `saves ${(100 * o.saved).toFixed(2)} % of the time at error ${o.error.toPrecision(3)} ` +
    `(ops ${(100 * o.opsSaved).toFixed(2)} %, ${ms(o.timing.candidate)} vs dense ${ms(o.timing.dense)}, x${o.timing.ratio.toFixed(3)}): ${knobs}`;
}

function ms(seconds: number): string {
  return `${(1000 * seconds).toFixed(2)} ms`;
}

/** Per layer: the index in its front of the option that maximises saved - lambda x error (-1: none gains). */
function choiceFor(sensitivities: readonly LayerSensitivity[], lambda: number): number[] {
  return sensitivities.map((s) => {
    let best = -1;
    let bestGain = 0;
    s.front.forEach((o, i) => {
      const gain = o.saved - lambda * o.error;
      if (gain > bestGain) {
        best = i;
        bestGain = gain;
      }
    });
    return best;
  });
}

function layersOf(sensitivities: readonly LayerSensitivity[], choice: readonly number[]): Record<string, LayerEffort> {
  const layers: Record<string, LayerEffort> = {};
  sensitivities.forEach((s, i) => {
    if (choice[i] >= 0) layers[s.layer] = s.front[choice[i]].effort;
  });
  return layers;
}

/**
 * The next refinement step: one layer moved one option further along its front, the one with the
 * most ops saved per unit of error added; null when every layer is at its end or frozen.
 */
function nextStep(sensitivities: readonly LayerSensitivity[], choice: readonly number[], frozen: ReadonlySet<number>): number | null {
  let best: number | null = null;
  let bestRatio = -Infinity;
  sensitivities.forEach((s, i) => {
    const next = s.front[choice[i] + 1];
    if (frozen.has(i) || !next) return;
    const current: LayerOption = choice[i] >= 0 ? s.front[choice[i]] : { effort: {}, saved: 0, opsSaved: 0, error: 0 };
    const ratio = (next.saved - current.saved) / Math.max(next.error - current.error, 1e-12);
    if (ratio > bestRatio) {
      best = i;
      bestRatio = ratio;
    }
  });
  return best;
}

/**
 * How far the knob refinement pushes a chosen layer's continuous knobs: up to this factor, the
 * ratio between neighbouring values of the candidate grids (sensitivity.ts), so the bisection
 * searches the gap the grid jumped over.
 */
const KNOB_REACH = 1.5;

/**
 * `effort` with its continuous knobs scaled by `factor` (> 1 bolder): SDSS's delta and SFMA's
 * epsilon, the knobs where larger always skips more. Null when it has none to scale (SPET's
 * thresholds are searched on a grid of their own: their sign and scale vary by layer).
 */
export function scaledKnobs(effort: LayerEffort, factor: number): LayerEffort | null {
  const sdss = effort.sdss && effort.sdss.delta > 0 ? { ...effort.sdss, delta: Number((effort.sdss.delta * factor).toPrecision(6)) } : undefined;
  const sfma = effort.sfma && effort.sfma.epsilon > 0 ? { ...effort.sfma, epsilon: Number((effort.sfma.epsilon * factor).toPrecision(6)) } : undefined;
  if (!sdss && !sfma) return null;
  return { ...effort, ...(sdss && { sdss }), ...(sfma && { sfma }) };
}

/** `count` distinct indices of 0 .. size - 1, drawn with `seed`, ascending. */
function drawProbe(size: number, count: number, seed: number): number[] {
  const order = Array.from({ length: size }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, Math.min(count, size)).sort((a, b) => a - b);
}

/**
 * Searches per-layer knobs that maximise the reduction of executed ops within a top-1 budget, on a
 * calibration set only. Deterministic for a given seed:
 * 1. sensitivity: on a seeded probe of the calibration set, every candidate knob of every layer —
 *    each mechanism alone, then the combinations of their Pareto options — runs that layer alone on
 *    the stored dense inputs, the best then the rest of the network; each layer keeps its Pareto
 *    front of (ops saved, logits error);
 * 2. trade-off: one number lambda picks, per layer, the option maximising saved - lambda x error;
 *    a bisection on lambda (log scale) evaluates the whole calibration set at each step and keeps
 *    the most aggressive profile whose top-1 drop vs dense stays within the budget;
 * 3. refinement: single layers move one option further along their fronts (most ops saved per
 *    error added first), each kept when the calibration set stays within the budget;
 * 4. knob refinement: each chosen layer's SDSS delta and SFMA epsilon bisected toward KNOB_REACH
 *    times their value, kept while within the budget (the grids are coarse: measured on
 *    cifar10-quick, the next grid delta after the chosen one crossed the budget, a value between
 *    them did not).
 * `mode` picks the candidates (per-neuron knobs, or tile-mode knobs on a wider grid), `objective`
 * what they save (ops, or time measured per layer on `options.timer`'s clock: the wasm kernels by
 * default, a WebGPU device's with webgpuTimer).
 *
 * @throws DyveError on an unknown mode or objective, or bad tile positions.
 */
export async function calibrate(net: Network, data: Dataset, backend: Backend, options: CalibrationOptions): Promise<CalibrationResult> {
  const log = options.log ?? (() => {});
  const batch = options.batch ?? 16;
  const mechanisms = options.mechanisms ?? MECHANISMS;
  const seed = options.seed ?? 1;
  const mode = options.mode ?? 'neuron';
  const objective = options.objective ?? 'macs';
  const repeats = Math.max(1, options.repeats ?? 5);
  const timer = options.timer ?? wasmTimer();
  if (!CALIBRATION_MODES.includes(mode)) throw new DyveError(`calibration mode must be one of ${CALIBRATION_MODES.join(', ')}, found '${String(mode)}'`);
  if (!OBJECTIVES.includes(objective)) throw new DyveError(`calibration objective must be one of ${OBJECTIVES.join(', ')}, found '${String(objective)}'`);
  if (mode === 'neuron' && options.tilePositions !== undefined) throw new DyveError("tile positions apply to mode 'tile' only");
  const tilePositions = mode === 'tile' ? checkTilePositions(options.tilePositions ?? [8]) : [];
  // The per-layer timings and tile-mode layers run the wasm kernels synchronously (runLayer): load them first.
  if (objective === 'time' || mode === 'tile') await initWasmKernels();
  let evaluations = 0;
  const progress = options.onProgress ?? (() => {});
  const run = async (layers?: Record<string, LayerEffort>) => {
    evaluations++;
    const effort: EffortProfile | undefined = layers ? { format: PROFILE_FORMAT, layers } : undefined;
    const step = layers ? `evaluation ${evaluations}` : 'dense';
    progress(step, 0, data.size);
    const r = await evaluate(net, data, backend, { batch, effort, onProgress: (done, total) => progress(step, done, total) });
    return { top1: r.top1 ?? 0, correct: r.correct, executed: r.macs.executed, dense: r.macs.dense, ops: r.ops.total, seconds: r.seconds };
  };

  log(
    `search: mode ${mode}${mode === 'tile' ? ` (tile positions ${tilePositions.join(',')}; InnerProduct layers per neuron)` : ''}, ` +
      `objective ${objective}${objective === 'time' ? ` (layers timed alone, ${timer.description}, median of ${repeats} runs interleaved with dense)` : ' (executed ops)'}`,
  );
  const dense = await run();
  log(`dense top-1 on the calibration set (${data.size} images): ${(100 * dense.top1).toFixed(2)} %`);

  // 1. Layer sensitivities on the probe images.
  const indices = drawProbe(data.size, options.probe ?? 64, seed);
  const images = await Promise.all(indices.map((i) => data.batch(i, 1)));
  const input = new Float32Array(images.reduce((n, b) => n + b.input.length, 0));
  let at = 0;
  for (const b of images) {
    input.set(b.input, at);
    at += b.input.length;
  }
  const dense0 = new CpuBackend().runSync(net, input, indices.length, { keepBlobs: true });
  let networkSeconds: number | undefined;
  if (objective === 'time') {
    // The denominator of every layer's time saved: the whole dense network on the same clock.
    networkSeconds = await timer.network(net, input, indices.length, repeats);
  }
  const probe: Probe = {
    batch: indices.length,
    blobs: dense0.blobs as Map<string, Float32Array>,
    networkOps: dense0.counters.reduce((n, c) => n + c.macsExecuted + c.otherOps, 0),
    ...(networkSeconds !== undefined && { networkSeconds }),
  };
  log(
    objective === 'time'
      ? `layer sensitivities on ${indices.length} probe images (seed ${seed}): time saved (% of the dense network's ${ms(networkSeconds ?? 0)}, ${timer.description}) at relative logits error`
      : `layer sensitivities on ${indices.length} probe images (seed ${seed}): ops saved (% of the network) at relative logits error`,
  );
  const sensitivities: LayerSensitivity[] = [];
  const measured = net.layers.filter((layer) => mechanisms.some((m) => applicable(net, layer, m)));
  // The device must run each setting on the probe (timings) and on evaluation batches.
  const unsupported = backend.unsupported && ((l: Layer, e: LayerEffort) => backend.unsupported!(l, e, Math.max(batch, indices.length)));
  for (const layer of measured) {
    progress('sensitivity', sensitivities.length, measured.length);
    const s = await layerSensitivity(net, layer, probe, mechanisms, { mode, tilePositions, objective, repeats, timer, ...(unsupported && { unsupported }) });
    sensitivities.push(s);
    const denseTime = s.denseSeconds !== undefined ? ` (dense ${ms(s.denseSeconds)})` : '';
    const skipped = s.skipped ? `; ${s.skipped.count} left out, ${backend.name} cannot run them (${s.skipped.reason.split('\n')[0]})` : '';
    log(`  ${layer.name}: ${s.measured} settings, ${s.front.length} on the Pareto front${denseTime}${skipped}`);
    progress('sensitivity', sensitivities.length, measured.length);
    for (const o of s.front) log(`    ${describeOption(o, objective)}`);
  }

  // 2. Bisection on lambda: log10(lambda) in [lo, hi]; hi keeps only error-free options.
  let lo = -3;
  let hi = 3;
  const memo = new Map<string, Awaited<ReturnType<typeof run>>>();
  const tryLayers = async (layers: Record<string, LayerEffort>, what: string) => {
    const key = JSON.stringify(layers);
    let r = memo.get(key);
    if (!r) {
      r = await run(layers);
      memo.set(key, r);
    }
    const drop = 100 * (dense.top1 - r.top1);
    const ok = drop <= options.budgetPP + 1e-9;
    const paired = pairedDrop(dense.correct, r.correct);
    log(
      `${what}: ${Object.keys(layers).length} layers, MACs ${(dense.dense / r.executed).toFixed(2)}x fewer, ` +
        `ops ${(dense.ops / r.ops).toFixed(2)}x fewer, ${objective === 'time' ? `${r.seconds.toFixed(2)} s vs dense ${dense.seconds.toFixed(2)} s, ` : ''}` +
        `top-1 drop ${drop.toFixed(2)} pp${paired ? ` (± ${paired.standardErrorPP.toFixed(2)})` : ''}: ${ok ? 'within' : 'over'} budget`,
    );
    return { layers, r, ok };
  };
  const tryChoice = async (choice: readonly number[], what: string) => ({ choice, ...(await tryLayers(layersOf(sensitivities, choice), what)) });
  const tryLambda = (logLambda: number) => tryChoice(choiceFor(sensitivities, 10 ** logLambda), `lambda 1e${logLambda.toFixed(3)}`);
  let best: { choice: readonly number[]; layers: Record<string, LayerEffort>; r: typeof dense; logLambda: number } = { choice: sensitivities.map(() => -1), layers: {}, r: dense, logLambda: Infinity };
  const aggressive = await tryLambda(lo);
  if (aggressive.ok) best = { ...aggressive, logLambda: lo };
  else {
    const safe = await tryLambda(hi);
    if (safe.ok) best = { ...safe, logLambda: hi };
    else lo = hi;
    for (let step = 0; step < (options.steps ?? 8) && hi - lo > 1e-6; step++) {
      const mid = (lo + hi) / 2;
      const t = await tryLambda(mid);
      if (t.ok) {
        hi = mid;
        best = { ...t, logLambda: mid };
      } else {
        lo = mid;
      }
    }
  }

  // 3. Refinement: single layers one option further, most saved per error first, while in budget.
  const frozen = new Set<number>();
  for (let step = 0; step < (options.refine ?? 4); step++) {
    const i = nextStep(sensitivities, best.choice, frozen);
    if (i === null) break;
    const choice = best.choice.map((c, j) => (j === i ? c + 1 : c));
    const t = await tryChoice(choice, `refine ${sensitivities[i].layer}`);
    if (t.ok) best = { ...t, logLambda: best.logLambda };
    else frozen.add(i);
  }

  // 4. Knob refinement: continuous knobs between the grid's values, one layer at a time.
  for (const name of Object.keys(best.layers)) {
    let bold = 1;
    let tooBold = KNOB_REACH;
    const start = best.layers[name];
    for (let step = 0; step < (options.knobSteps ?? 3); step++) {
      const mid = (bold + tooBold) / 2;
      const effort = scaledKnobs(start, mid);
      if (!effort) break;
      const t = await tryLayers({ ...best.layers, [name]: effort }, `knobs ${name} x${mid.toFixed(3)}`);
      if (t.ok) {
        best = { ...best, layers: t.layers, r: t.r };
        bold = mid;
      } else {
        tooBold = mid;
      }
    }
  }
  for (const [name, effort] of Object.entries(best.layers)) log(`chosen ${name}: ${describeEffort(effort)}`);
  return {
    profile: {
      format: PROFILE_FORMAT,
      description: `calibrated within ${options.budgetPP} pp top-1 on ${data.name} (${data.size} images)` +
        `${mode === 'tile' ? `, tile mode (tile positions ${tilePositions.join(',')})` : ''}, objective ${objective}`,
      layers: best.layers,
    },
    denseTop1: dense.top1,
    top1: best.r.top1,
    drop: pairedDrop(dense.correct, best.r.correct),
    macReduction: dense.dense / best.r.executed,
    opsReduction: dense.ops / best.r.ops,
    sensitivities,
    lambda: 10 ** best.logLambda,
    evaluations,
    mode,
    tilePositions,
    objective,
    ...(networkSeconds !== undefined && { probeSeconds: networkSeconds, clock: timer.clock, timedOn: timer.description }),
  };
}
