/**
 * SPET — Saturation Prediction and Early Termination (DYVEDEEP.md section 1), neuron level.
 *
 * Our fixed semantics:
 * - Offline, per output channel o: the input channels of o's group are ordered by the L1 norm of
 *   w[o, c, :, :] (largest first; ties: lower c first). The first ceil(fraction x channelsPerGroup)
 *   are o's SIGNIFICANT channels, the others its REST.
 * - At run time, per evaluated neuron: s = bias + (SFMA correction, when maps were dropped) + the
 *   sum over o's significant KEPT channels (padding taps contribute zeros).
 *   - mode 'threshold': s < threshold -> the neuron is 0 (a pre-activation: SPET is enabled only
 *     where a ReLU follows, directly or through MAX pools, so 0 is what the ReLU would output for
 *     a negative value); otherwise the rest of the kept channels is added.
 *   - mode 'exact': per image, lo = min(0, min of the layer input), hi = max(0, max of it); per o,
 *     P = sum of max(w, 0) and N = sum of min(w, 0) over the taps of its REST kept channels. The
 *     neuron terminates iff s + P * hi + N * lo < 0: every rest tap multiplies an input in
 *     [lo, hi] (padding taps multiply 0, also in it), so the full sum is provably negative and the
 *     ReLU output cannot change.
 * - Summation order (shared by the reference and the fast kernels so that both take the same
 *   decisions, bit for bit): significant channels in ascending c, then rest channels in ascending
 *   c; see dynamic-convolution.ts for the per-channel partial sums.
 *
 * Counting: one comparison per evaluated neuron in threshold mode, five ops (two multiplies, two
 * adds, one comparison) in exact mode; the exact-mode input range costs two comparisons per input
 * value; the rest bounds cost two adds per rest channel when SFMA dropped a channel of the group
 * (otherwise they are the plan's offline totals).
 */
import { NetworkError } from '../errors.js';
import type { LayerWeights } from '../ir/network.js';
import type { SpetKnobs } from '../effort/effort.js';
import type { DynGeometry } from './geometry.js';

/** The offline part of SPET for one layer and one fraction. */
export interface SpetPlan {
  readonly fraction: number;
  /** Significant channels per output channel. */
  readonly nSig: number;
  /** Rest (non-significant) channels per output channel: cpg - nSig. */
  readonly nRest: number;
  /** 1 where channel c (group-relative) is significant for output channel o: index o * cpg + c. */
  readonly significant: Uint8Array;
  /** o's significant channels in ascending order (group-relative): index o * nSig + k. */
  readonly sigChannels: Int32Array;
  /** o's rest channels in ascending order (group-relative): index o * nRest + k. */
  readonly restChannels: Int32Array;
  /** Sum over the taps of w[o, c] of max(w, 0), summed in tap order: index o * cpg + c. */
  readonly posSum: Float64Array;
  /** Sum over the taps of w[o, c] of min(w, 0): index o * cpg + c. */
  readonly negSum: Float64Array;
  /** posSum summed over all of o's rest channels, ascending (the bound when no map is dropped). */
  readonly restPos: Float64Array;
  /** negSum summed over all of o's rest channels, ascending. */
  readonly restNeg: Float64Array;
  /**
   * For the blocked kernels: per group g and channel c, the output channels (group-relative,
   * ascending) for which c is significant: `rowsOfChannel[g * cpg + c]`.
   */
  readonly rowsOfChannel: readonly Int32Array[];
}

const plans = new WeakMap<LayerWeights, Map<number, SpetPlan>>();

/** Number of significant channels: ceil(fraction x cpg), with a 1e-9 slack so 0.1 x 30 gives 3. */
export function significantCount(fraction: number, cpg: number): number {
  return Math.min(cpg, Math.max(0, Math.ceil(fraction * cpg - 1e-9)));
}

/** Checks SPET knobs; throws a NetworkError naming the layer. */
export function validateSpet(knobs: SpetKnobs, layerName: string): void {
  if (!(knobs.fraction >= 0 && knobs.fraction <= 1)) {
    throw new NetworkError(`layer '${layerName}': SPET fraction must be in [0, 1], got ${knobs.fraction}`);
  }
  if (knobs.mode === 'threshold') {
    if (Number.isNaN(knobs.threshold)) throw new NetworkError(`layer '${layerName}': SPET threshold is NaN`);
  } else if (knobs.mode !== 'exact') {
    throw new NetworkError(`layer '${layerName}': unknown SPET mode '${String((knobs as { mode: unknown }).mode)}'`);
  }
}

/** The SPET plan of a layer for `fraction`, built once per weights object and fraction. */
export function spetPlan(weights: LayerWeights, geom: DynGeometry, fraction: number): SpetPlan {
  let byFraction = plans.get(weights);
  if (!byFraction) {
    byFraction = new Map();
    plans.set(weights, byFraction);
  }
  let plan = byFraction.get(fraction);
  if (!plan) {
    plan = buildPlan(weights.weight, geom, fraction);
    byFraction.set(fraction, plan);
  }
  return plan;
}

function buildPlan(w: Float32Array, geom: DynGeometry, fraction: number): SpetPlan {
  const { outC, cpg, taps, m, group } = geom;
  const nSig = significantCount(fraction, cpg);
  const nRest = cpg - nSig;
  const significant = new Uint8Array(outC * cpg);
  const sigChannels = new Int32Array(outC * nSig);
  const restChannels = new Int32Array(outC * nRest);
  const posSum = new Float64Array(outC * cpg);
  const negSum = new Float64Array(outC * cpg);
  const restPos = new Float64Array(outC);
  const restNeg = new Float64Array(outC);
  const l1 = new Float64Array(cpg);
  const order: number[] = [];
  for (let o = 0; o < outC; o++) {
    order.length = 0;
    for (let c = 0; c < cpg; c++) {
      let a = 0;
      let pos = 0;
      let neg = 0;
      const base = (o * cpg + c) * taps;
      for (let t = 0; t < taps; t++) {
        const v = w[base + t];
        a += Math.abs(v);
        if (v > 0) pos += v;
        else neg += v;
      }
      l1[c] = a;
      posSum[o * cpg + c] = pos;
      negSum[o * cpg + c] = neg;
      order.push(c);
    }
    // Largest L1 first; a stable tie-break on the channel index.
    order.sort((a, b) => (l1[b] - l1[a]) || (a - b));
    for (let k = 0; k < nSig; k++) significant[o * cpg + order[k]] = 1;
    let s = 0;
    let r = 0;
    let rp = 0;
    let rn = 0;
    for (let c = 0; c < cpg; c++) {
      if (significant[o * cpg + c]) {
        sigChannels[o * nSig + s++] = c;
      } else {
        restChannels[o * nRest + r++] = c;
        rp += posSum[o * cpg + c];
        rn += negSum[o * cpg + c];
      }
    }
    restPos[o] = rp;
    restNeg[o] = rn;
  }
  const rowsOfChannel: Int32Array[] = [];
  for (let g = 0; g < group; g++) {
    for (let c = 0; c < cpg; c++) {
      const rows: number[] = [];
      for (let o = 0; o < m; o++) if (significant[(g * m + o) * cpg + c]) rows.push(o);
      rowsOfChannel.push(Int32Array.from(rows));
    }
  }
  return { fraction, nSig, nRest, significant, sigChannels, restChannels, posSum, negSum, restPos, restNeg, rowsOfChannel };
}

/**
 * lo = min(0, min x), hi = max(0, max x) over `size` values from `offset`: the input range the
 * exact mode bounds the rest with. Costs two comparisons per value (counted by the caller via
 * {@link inputRangeOps}).
 */
export function inputRange(x: Float32Array, offset: number, size: number, out: Float64Array, at: number): void {
  let lo = 0;
  let hi = 0;
  for (let i = offset; i < offset + size; i++) {
    const v = x[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  out[at] = lo;
  out[at + 1] = hi;
}

/** Ops of {@link inputRange} over `size` values. */
export function inputRangeOps(size: number): number {
  return 2 * size;
}

/**
 * Exact-mode bounds of output channel o (absolute index) over its rest channels that are kept,
 * written to out[at] (P) and out[at + 1] (N). `dropped` flags the group's channels (group-relative
 * index from `dropOffset`), or is null when none is dropped. Returns the ops executed (two adds
 * per summed channel; none when the plan's offline totals apply).
 */
export function restBounds(
  plan: SpetPlan, cpg: number, o: number, dropped: Uint8Array | null, dropOffset: number, out: Float64Array, at: number,
): number {
  if (dropped === null) {
    out[at] = plan.restPos[o];
    out[at + 1] = plan.restNeg[o];
    return 0;
  }
  let p = 0;
  let n = 0;
  let ops = 0;
  const rest = plan.restChannels;
  for (let k = o * plan.nRest; k < (o + 1) * plan.nRest; k++) {
    const c = rest[k];
    if (dropped[dropOffset + c]) continue;
    p += plan.posSum[o * cpg + c];
    n += plan.negSum[o * cpg + c];
    ops += 2;
  }
  out[at] = p;
  out[at + 1] = n;
  return ops;
}

/** Ops of one termination test. */
export function spetTestOps(knobs: SpetKnobs): number {
  return knobs.mode === 'exact' ? 5 : 1;
}

/**
 * The termination test of one neuron. `pos`/`neg` are the rest bounds (exact mode), `lo`/`hi` the
 * image's input range; both implementations call this, so they decide identically.
 */
export function spetTerminates(exact: boolean, threshold: number, s: number, pos: number, neg: number, lo: number, hi: number): boolean {
  return exact ? s + pos * hi + neg * lo < 0 : s < threshold;
}
