import type { Backend } from '../backends/backend.js';
import type { Dataset } from '../data/dataset.js';
import { evaluate } from '../evaluation/evaluate.js';
import { isWeighted, shapeSize, type Layer, type Network } from '../ir/network.js';
import type { LayerEffort, SdssKnobs, SfmaKnobs, SpetKnobs } from './effort.js';
import { feedsRelu, PROFILE_FORMAT, type EffortProfile, type Mechanism } from './profile.js';

/** One knob setting tried during calibration. */
export interface CalibrationTrial {
  readonly layer: string;
  readonly mechanism: Mechanism;
  readonly knobs: SpetKnobs | SdssKnobs | SfmaKnobs;
  /** Top-1 drop in percentage points vs dense on the calibration set (negative = better). */
  readonly dropPP: number;
  /** Executed MACs saved, as a fraction of the network's dense MACs. */
  readonly saved: number;
}

export interface CalibrationOptions {
  /** Largest accepted top-1 drop, percentage points vs dense on the calibration set. */
  readonly budgetPP: number;
  readonly batch?: number;
  readonly mechanisms?: readonly Mechanism[];
  /** Progress and the per-layer sensitivity log, one line at a time. */
  readonly log?: (line: string) => void;
}

export interface CalibrationResult {
  readonly profile: EffortProfile;
  readonly denseTop1: number;
  readonly top1: number;
  readonly macReduction: number;
  readonly trials: readonly CalibrationTrial[];
  readonly evaluations: number;
}

/**
 * Candidate knobs per mechanism, mildest first. SPET thresholds and SDSS deltas are scaled by the
 * standard deviation of the layer's outputs on the first calibration batch, so one grid fits
 * layers of any magnitude.
 */
function candidates(mechanism: Mechanism, sigma: number): (SpetKnobs | SdssKnobs | SfmaKnobs)[] {
  switch (mechanism) {
    case 'spet':
      return [0.5, 0.25].flatMap((fraction) => [-1, -0.5, -0.25, 0].map((k) => ({ mode: 'threshold' as const, fraction, threshold: k * sigma })));
    case 'sdss':
      return [0, 0.05, 0.1, 0.2].map((k) => ({ stride: 2, delta: k * sigma }));
    case 'sfma':
      return [1e-4, 1e-3, 1e-2, 5e-2].map((epsilon) => ({ epsilon }));
  }
}

function applicable(net: Network, layer: Layer, mechanism: Mechanism): boolean {
  if (mechanism === 'spet') return isWeighted(layer) && feedsRelu(net, layer);
  return layer.params.type === 'Convolution' && (mechanism === 'sfma' || shapeSize(layer.outputShapes[0]) > layer.outputShapes[0].c);
}

function profileOf(layers: Map<string, LayerEffort>, description: string): EffortProfile {
  return { format: PROFILE_FORMAT, description, layers: Object.fromEntries(layers) };
}

/**
 * Searches per-layer knobs that maximise the reduction of executed MACs within a top-1 budget,
 * on a calibration set only. Deterministic (same data, same result):
 * 1. sensitivity: every candidate knob of every layer and mechanism, alone, is evaluated;
 * 2. greedy: candidates are taken in order of MACs saved per point of accuracy lost, each
 *    replacing the layer's current setting of that mechanism, and kept only when the combined
 *    profile stays within the budget.
 */
export async function calibrate(net: Network, data: Dataset, backend: Backend, options: CalibrationOptions): Promise<CalibrationResult> {
  const log = options.log ?? (() => {});
  const batch = options.batch ?? 16;
  const mechanisms = options.mechanisms ?? (['spet', 'sdss', 'sfma'] as const);
  let evaluations = 0;
  const run = async (profile?: EffortProfile) => {
    evaluations++;
    const r = await evaluate(net, data, backend, { batch, effort: profile });
    return { top1: r.top1 ?? 0, executed: r.macs.executed, dense: r.macs.dense };
  };

  const dense = await run();
  log(`dense top-1 on the calibration set (${data.size} images): ${(100 * dense.top1).toFixed(2)} %`);
  const first = await data.batch(0, Math.min(batch, data.size));
  const blobs = (await backend.run(net, first.input, first.labels.length, { keepBlobs: true })).blobs;
  const sigmaOf = (layer: Layer): number => {
    const values = blobs?.get(layer.tops[0]);
    if (!values || values.length === 0) return 1;
    let sum = 0;
    let sq = 0;
    for (const v of values) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / values.length;
    return Math.sqrt(Math.max(sq / values.length - mean * mean, 1e-12));
  };

  const trials: CalibrationTrial[] = [];
  for (const layer of net.layers) {
    for (const mechanism of mechanisms) {
      if (!applicable(net, layer, mechanism)) continue;
      const sigma = sigmaOf(layer);
      for (const knobs of candidates(mechanism, sigma)) {
        const r = await run(profileOf(new Map([[layer.name, { [mechanism]: knobs }]]), 'trial'));
        const trial = { layer: layer.name, mechanism, knobs, dropPP: 100 * (dense.top1 - r.top1), saved: (dense.executed - r.executed) / dense.dense };
        trials.push(trial);
        log(`  ${layer.name} ${mechanism} ${JSON.stringify(knobs)}: saves ${(100 * trial.saved).toFixed(1)} % of MACs, top-1 drop ${trial.dropPP.toFixed(2)} pp`);
      }
    }
  }

  // Most MACs saved per point lost first; free savings (no loss) lead, largest first.
  const order = trials
    .filter((t) => t.saved > 0 && t.dropPP <= options.budgetPP)
    .sort((a, b) => b.saved / Math.max(a.dropPP, 0.01) - a.saved / Math.max(b.dropPP, 0.01) || b.saved - a.saved);
  const chosen = new Map<string, LayerEffort>();
  let best = dense;
  for (const t of order) {
    const current = chosen.get(t.layer) ?? {};
    const next = new Map(chosen).set(t.layer, { ...current, [t.mechanism]: t.knobs });
    const r = await run(profileOf(next, 'candidate'));
    const drop = 100 * (dense.top1 - r.top1);
    const accepted = drop <= options.budgetPP && r.executed < best.executed;
    log(`${accepted ? 'keep' : 'skip'} ${t.layer} ${t.mechanism} ${JSON.stringify(t.knobs)}: MACs ${(dense.dense / r.executed).toFixed(2)}x fewer, drop ${drop.toFixed(2)} pp`);
    if (accepted) {
      chosen.clear();
      for (const [k, v] of next) chosen.set(k, v);
      best = r;
    }
  }
  return {
    profile: profileOf(chosen, `calibrated within ${options.budgetPP} pp top-1 on ${data.name} (${data.size} images)`),
    denseTop1: dense.top1,
    top1: best.top1,
    macReduction: dense.dense / best.executed,
    trials,
    evaluations,
  };
}
