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
 *   - mode 'exact': per image and input channel c, lo_c = min(0, min of map c) and hi_c = max(0,
 *     max of it) (our choice: a bound per channel, far tighter than one per image); per o, the
 *     bound B = sum over o's REST kept channels of P[o, c] * hi_c + N[o, c] * lo_c, where P / N
 *     are the sums of max(w, 0) / min(w, 0) over the channel's taps. The neuron terminates iff
 *     s + B < 0: every rest tap multiplies an input in [lo_c, hi_c] (padding taps multiply 0,
 *     also in it), so the full sum is provably negative and the ReLU output cannot change.
 * - Summation order (shared by the reference and the fast kernels so that both take the same
 *   decisions, bit for bit): significant channels in ascending c, then rest channels in ascending
 *   c; see dynamic-convolution.ts for the per-channel partial sums.
 *
 * Counting: one comparison per evaluated neuron in threshold mode, two (an add, a comparison) in
 * exact mode; the exact-mode channel ranges cost two comparisons per input value, the bounds four
 * ops (two multiplies, two adds) per rest channel and output channel, once per image.
 */
import type { LayerWeights } from '../ir/network.js';
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
    for (let c = 0; c < cpg; c++) {
      if (significant[o * cpg + c]) sigChannels[o * nSig + s++] = c;
      else restChannels[o * nRest + r++] = c;
    }
  }
  const rowsOfChannel: Int32Array[] = [];
  for (let g = 0; g < group; g++) {
    for (let c = 0; c < cpg; c++) {
      const rows: number[] = [];
      for (let o = 0; o < m; o++) if (significant[(g * m + o) * cpg + c]) rows.push(o);
      rowsOfChannel.push(Int32Array.from(rows));
    }
  }
  return { fraction, nSig, nRest, significant, sigChannels, restChannels, posSum, negSum, rowsOfChannel };
}

/**
 * Per channel c of `channels` maps of `planeSize` values from `offset`: lo_c = min(0, min of the
 * map), hi_c = max(0, max of it), written to out[at + 2c], out[at + 2c + 1]: the input ranges the
 * exact mode bounds the rest with. Two comparisons per value ({@link inputRangeOps}).
 */
export function channelRanges(x: Float32Array, offset: number, channels: number, planeSize: number, out: Float64Array, at: number): void {
  for (let c = 0; c < channels; c++) {
    let lo = 0;
    let hi = 0;
    const from = offset + c * planeSize;
    for (let i = from; i < from + planeSize; i++) {
      const v = x[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out[at + 2 * c] = lo;
    out[at + 2 * c + 1] = hi;
  }
}

/** Ops of {@link channelRanges} over `size` values. */
export function inputRangeOps(size: number): number {
  return 2 * size;
}

/**
 * The exact-mode bound B of output channel o (absolute index): the most its rest kept channels
 * can add, sum of P[o, c] * hi_c + N[o, c] * lo_c, with the group's channel ranges at
 * ranges[rangeAt + 2c] (group-relative c). `dropped` flags the group's channels from
 * `dropOffset`, or is null when none is dropped. Returns B; adds its ops (four per channel) to ops[0].
 */
export function restBound(
  plan: SpetPlan, cpg: number, o: number, dropped: Uint8Array | null, dropOffset: number,
  ranges: Float64Array, rangeAt: number, ops: Float64Array,
): number {
  let b = 0;
  let n = 0;
  const rest = plan.restChannels;
  for (let k = o * plan.nRest; k < (o + 1) * plan.nRest; k++) {
    const c = rest[k];
    if (dropped !== null && dropped[dropOffset + c]) continue;
    b += plan.posSum[o * cpg + c] * ranges[rangeAt + 2 * c + 1] + plan.negSum[o * cpg + c] * ranges[rangeAt + 2 * c];
    n++;
  }
  ops[0] += 4 * n;
  return b;
}

/** Ops of one termination test. */
export function spetTestOps(exact: boolean): number {
  return exact ? 2 : 1;
}

/**
 * The termination test of one neuron: `bound` is its rest bound (exact mode). Both
 * implementations call this (or its inlined copy), so they decide identically.
 */
export function spetTerminates(exact: boolean, threshold: number, s: number, bound: number): boolean {
  return exact ? s + bound < 0 : s < threshold;
}
