/**
 * What the reference and the fast dynamic kernels share about one layer call: the knobs resolved
 * to plain values, the per-image SFMA and exact-SPET quantities (computed once by the same code, so
 * both implementations decide from the same numbers), and the mechanism statistics being counted.
 */
import type { LayerCounters } from '../../../records/counters.js';
import type { LayerEffort, SdssPattern } from '../../../effort/effort.js';
import type { MechanismStats } from '../../../records/counters.js';
import type { DynGeometry, DynWeights } from '../../../mechanisms/geometry.js';
import { sfmaDecide, sfmaStatsOps } from '../../../mechanisms/sfma.js';
import { channelRanges, inputRangeOps, spetPlan, type SpetPlan } from '../../../mechanisms/spet.js';
import { indexRange } from '../../../mechanisms/tile-plan.js';
import type { LayerWeights } from '../../../ir/network.js';

/** Mutable mechanism statistics of one call; every field counts over the whole batch. */
export interface Tally {
  spetNeurons: number;
  spetTerminated: number;
  sdssOutputs: number;
  sdssInterpolated: number;
  sfmaMaps: number;
  sfmaApproximated: number;
}

/** The per-call state both implementations read. */
export interface CallState {
  readonly layerName: string;
  readonly geom: DynGeometry;
  readonly w: DynWeights;
  readonly batch: number;
  /** SPET plan, or null when SPET is off. */
  readonly spet: SpetPlan | null;
  readonly exact: boolean;
  readonly threshold: number;
  /** Tile mode: SPET's threshold per output channel (replacing `threshold`), or null. */
  readonly thresholds: readonly number[] | null;
  /** SDSS stride, 0 when SDSS is off. */
  readonly sdssStride: number;
  readonly sdssDelta: number;
  /** SDSS's sampling pattern (tile mode may take the checkerboard). */
  readonly sdssPattern: SdssPattern;
  /** SDSS stores grid neurons rectified (max(v, 0)): the layer's output only reaches a ReLU. */
  readonly sdssRectified: boolean;
  readonly sfmaOn: boolean;
  /** Per image and input channel (index img * inC + c): the map's mean (SFMA). */
  readonly means: Float64Array;
  /** Per image and input channel: 1 when SFMA drops the map. */
  readonly dropped: Uint8Array;
  /** Per image and group (index img * group + g): dropped channels of the group, ascending, group-relative. */
  readonly droppedLists: Int32Array[];
  /** Per image and group: kept channels of the group, ascending, group-relative. */
  readonly keptLists: Int32Array[];
  /** Per image and input channel (exact SPET): lo_c, hi_c at 2 * (img * inC + c). */
  readonly range: Float64Array;
  readonly tally: Tally;
  /**
   * Decision trace (RunOptions.traceDecisions): per output neuron, indexed like the output array,
   * the NEURON_* code (backend.ts), written by the kernels where they tally the same decision so
   * the map and the counters cannot disagree. Null when not tracing; the kernels test it only where
   * they take a decision (the fast convolution once per group of neurons, outside its hot loops).
   */
  readonly trace: Uint8Array | null;
  /**
   * SPET through a residual sum (PlannedLayer.residual): the sum's other operand, indexed like the
   * output. The test adds it to the partial sum (partial + addend, then the threshold or the exact
   * bound) and a terminated neuron stores -addend, so the sum is exactly 0. Null otherwise.
   */
  readonly addend: Float32Array | null;
}

/** What {@link prepareCall} starts from. */
export interface CallInputs {
  readonly layerName: string;
  readonly layerWeights: LayerWeights;
  readonly geom: DynGeometry;
  readonly w: DynWeights;
  /** The batch's input, batch x inSize. */
  readonly x: Float32Array;
  readonly batch: number;
  readonly effort: LayerEffort;
  /** Where the call's preparation ops are counted. */
  readonly counts: LayerCounters;
  /** The output reaches the network only through a ReLU (SDSS compares rectified values). */
  readonly rectified: boolean;
  /** The decision record's neuron map, or null when decisions are not traced. */
  readonly trace: Uint8Array | null;
  /** The residual sum's other operand (CallState.addend), batch x outSize, or null. */
  readonly addend?: Float32Array | null;
}

/**
 * Resolves the knobs and computes the per-image decisions that do not depend on the
 * implementation: SFMA statistics and drops, the exact-mode channel ranges. Counts their ops.
 */
export function prepareCall(call: CallInputs): CallState {
  const { layerName, layerWeights, geom, w, x, batch, effort, counts, rectified, trace } = call;
  // Only SPET reads the addend: without it the layer's values are its own.
  const addend = effort.spet && call.addend ? call.addend : null;
  const { inC, group, cpg, planeSize, inSize } = geom;
  const spet = effort.spet ? spetPlan(layerWeights, geom, effort.spet.fraction) : null;
  const exact = effort.spet?.mode === 'exact';
  const threshold = effort.spet?.mode === 'threshold' ? effort.spet.threshold : 0;
  const means = new Float64Array(batch * inC);
  const dropped = new Uint8Array(batch * inC);
  const tally: Tally = { spetNeurons: 0, spetTerminated: 0, sdssOutputs: 0, sdssInterpolated: 0, sfmaMaps: 0, sfmaApproximated: 0 };
  if (effort.sfma) {
    for (let img = 0; img < batch; img++) {
      tally.sfmaApproximated += sfmaDecide(x, img * inSize, inC, planeSize, effort.sfma.epsilon, means, dropped, img * inC);
      counts.otherOps += inC * sfmaStatsOps(planeSize);
    }
    tally.sfmaMaps += batch * inC;
  }
  // Per image and group; a group that keeps every map shares one pair of lists (built per image
  // from number arrays, prepareCall took 0.15 ms on cifar10-quick's conv2 at batch 64, now 0.06).
  const droppedLists: Int32Array[] = [];
  const keptLists: Int32Array[] = [];
  const noneDropped = new Int32Array(0);
  const allKept = indexRange(cpg);
  for (let img = 0; img < batch; img++) {
    for (let g = 0; g < group; g++) {
      const at = img * inC + g * cpg;
      let nDropped = 0;
      if (effort.sfma) for (let c = 0; c < cpg; c++) nDropped += dropped[at + c];
      if (nDropped === 0) {
        droppedLists.push(noneDropped);
        keptLists.push(allKept);
        continue;
      }
      const d = new Int32Array(nDropped);
      const k = new Int32Array(cpg - nDropped);
      let nd = 0;
      let nk = 0;
      for (let c = 0; c < cpg; c++) {
        if (dropped[at + c]) d[nd++] = c;
        else k[nk++] = c;
      }
      droppedLists.push(d);
      keptLists.push(k);
    }
  }
  const range = new Float64Array(exact ? 2 * batch * inC : 0);
  if (exact) {
    for (let img = 0; img < batch; img++) {
      channelRanges(x, img * inSize, inC, planeSize, range, 2 * img * inC);
      counts.otherOps += inputRangeOps(inSize);
    }
  }
  return {
    layerName, geom, w, batch, spet, exact, threshold, thresholds: effort.spet?.mode === 'threshold' ? effort.spet.thresholds ?? null : null,
    sdssStride: effort.sdss ? effort.sdss.stride : 0, sdssDelta: effort.sdss ? effort.sdss.delta : 0, sdssPattern: effort.sdss?.pattern ?? 'square',
    sdssRectified: effort.sdss !== undefined && rectified,
    sfmaOn: effort.sfma !== undefined, means, dropped, droppedLists, keptLists, range, tally, trace, addend,
  };
}

/** Adds the call's statistics of the mechanisms that were on to counts.mechanisms. */
export function recordStats(state: CallState, counts: LayerCounters): void {
  if (!state.spet && state.sdssStride === 0 && !state.sfmaOn) return;
  const t = state.tally;
  const m: MechanismStats = counts.mechanisms ?? {};
  if (state.spet) {
    m.spet = { neurons: (m.spet?.neurons ?? 0) + t.spetNeurons, terminated: (m.spet?.terminated ?? 0) + t.spetTerminated };
  }
  if (state.sdssStride > 0) {
    m.sdss = { outputs: (m.sdss?.outputs ?? 0) + t.sdssOutputs, interpolated: (m.sdss?.interpolated ?? 0) + t.sdssInterpolated };
  }
  if (state.sfmaOn) {
    m.sfma = { maps: (m.sfma?.maps ?? 0) + t.sfmaMaps, approximated: (m.sfma?.approximated ?? 0) + t.sfmaApproximated };
  }
  counts.mechanisms = m;
}
