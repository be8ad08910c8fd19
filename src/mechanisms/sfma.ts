/**
 * SFMA — Similarity-based Feature Map Approximation (DYVEDEEP.md section 3), layer level.
 *
 * Our fixed semantics (epsilon e >= 0), per image and input map c:
 * - mean m[c] and population variance v[c] = mean((x - m)^2), both in float64 (two passes);
 *   the map is DROPPED when v <= e * (m * m + 1e-12). A constant map has v = 0 exactly (a sum of
 *   equal float32 values is exact in float64), so e = 0 drops exactly the constant maps.
 * - Dropped maps leave the convolution. Each evaluated output (o, y, x) gets
 *   corr = sum over the in-bounds taps (ky, kx) of K_o[ky, kx], K_o[ky, kx] = sum over the
 *   dropped c of its group (ascending) of m[c] * w[o, c, ky, kx], where a tap is in bounds when
 *   its input position lands inside the map for that output position (pad, stride, dilation).
 *   That equals sum over dropped c of m[c] x (sum of the in-bounds taps of w[o, c]): exact on a
 *   constant map, borders included. Taps are summed ky-major; the reference and the fast tables
 *   add the same terms in the same order, so SPET decides identically on top of them.
 *
 * Counting: the statistics cost 4 ops per value of a map plus 6 per map (sum, divide, subtract,
 * square, add, divide, and the test's multiply, add, multiply, compare); the reference correction
 * one op per (in-bounds tap, dropped map) plus one add per in-bounds tap; the fast correction
 * |dropped| ops per tap per output channel for K_o, one add per tap per distinct border class,
 * and one add per evaluated neuron.
 */
import { inBoundsTapRanges, type DynGeometry } from './geometry.js';

/** Added to m^2 so that an all-zero map (m = v = 0) is dropped at e = 0 while others need v <= e m^2. */
export const SFMA_TINY = 1e-12;

/** Ops of the statistics and the test of one map of `size` values. */
export function sfmaStatsOps(size: number): number {
  return 4 * size + 6;
}

/**
 * Per input map of one image: mean and the drop decision. Writes means[c] and dropped[c]
 * (1 = approximated) for c < channels, maps of `planeSize` values from x[offset]. Returns how many
 * maps were dropped.
 */
export function sfmaDecide(
  x: Float32Array, offset: number, channels: number, planeSize: number, epsilon: number,
  means: Float64Array, dropped: Uint8Array, at: number,
): number {
  let count = 0;
  for (let c = 0; c < channels; c++) {
    const start = offset + c * planeSize;
    let sum = 0;
    for (let i = start; i < start + planeSize; i++) sum += x[i];
    const m = sum / planeSize;
    let sq = 0;
    for (let i = start; i < start + planeSize; i++) {
      const d = x[i] - m;
      sq += d * d;
    }
    const v = sq / planeSize;
    means[at + c] = m;
    const drop = v <= epsilon * (m * m + SFMA_TINY);
    dropped[at + c] = drop ? 1 : 0;
    if (drop) count++;
  }
  return count;
}

/**
 * REFERENCE correction of output channel o (absolute) at output position (oy, ox), straight from
 * the definition: for each in-bounds tap, K_o at that tap over the dropped channels, summed.
 * `droppedList` holds the group's dropped channels (group-relative, ascending), `means` their
 * means by the same index from `meanOffset`. Adds its ops to ops[0].
 */
export function referenceCorrection(
  w: Float32Array, geom: DynGeometry, o: number, oy: number, ox: number,
  droppedList: Int32Array, nDropped: number, means: Float64Array, meanOffset: number, ops: Float64Array,
): number {
  const { kernelH, kernelW, cpg, taps } = geom;
  let corr = 0;
  for (let ky = 0; ky < kernelH; ky++) {
    const iy = oy * geom.strideH - geom.padH + ky * geom.dilationH;
    if (iy < 0 || iy >= geom.inH) continue;
    for (let kx = 0; kx < kernelW; kx++) {
      const ix = ox * geom.strideW - geom.padW + kx * geom.dilationW;
      if (ix < 0 || ix >= geom.inW) continue;
      let k = 0;
      for (let d = 0; d < nDropped; d++) {
        const c = droppedList[d];
        k += means[meanOffset + c] * w[(o * cpg + c) * taps + ky * kernelW + kx];
      }
      corr += k;
      ops[0] += nDropped + 1;
    }
  }
  return corr;
}

/** Border classes of the output positions: which tap ranges are in bounds, per row and column. */
export interface CorrectionLayout {
  /** Per output row: its class index. */
  readonly rowClass: Int32Array;
  /** Per output column: its class index. */
  readonly colClass: Int32Array;
  /** Per row class: [kyLo, kyHi). */
  readonly rowRanges: Int32Array;
  /** Per column class: [kxLo, kxHi). */
  readonly colRanges: Int32Array;
  readonly nRowClasses: number;
  readonly nColClasses: number;
}

const layouts = new Map<string, CorrectionLayout>();

function classes(ranges: Int32Array, n: number): { cls: Int32Array; uniq: Int32Array } {
  const cls = new Int32Array(n);
  const uniq: number[] = [];
  for (let i = 0; i < n; i++) {
    let k = 0;
    while (k < uniq.length && !(uniq[k] === ranges[2 * i] && uniq[k + 1] === ranges[2 * i + 1])) k += 2;
    if (k === uniq.length) uniq.push(ranges[2 * i], ranges[2 * i + 1]);
    cls[i] = k / 2;
  }
  return { cls, uniq: Int32Array.from(uniq) };
}

/** The border classes of a geometry (cached by its numbers). */
export function correctionLayout(geom: DynGeometry): CorrectionLayout {
  const key = [
    geom.inH, geom.inW, geom.outH, geom.outW, geom.kernelH, geom.kernelW,
    geom.strideH, geom.strideW, geom.padH, geom.padW, geom.dilationH, geom.dilationW,
  ].join(',');
  let l = layouts.get(key);
  if (!l) {
    const rows = classes(inBoundsTapRanges(geom.outH, geom.inH, geom.kernelH, geom.strideH, geom.padH, geom.dilationH), geom.outH);
    const cols = classes(inBoundsTapRanges(geom.outW, geom.inW, geom.kernelW, geom.strideW, geom.padW, geom.dilationW), geom.outW);
    l = {
      rowClass: rows.cls, colClass: cols.cls, rowRanges: rows.uniq, colRanges: cols.uniq,
      nRowClasses: rows.uniq.length / 2, nColClasses: cols.uniq.length / 2,
    };
    layouts.set(key, l);
  }
  return l;
}

/**
 * FAST correction tables: for output channels o0 .. o0 + count - 1 (absolute), K_o then its sum
 * over every border class, into table[(o - o0) * nRowClasses * nColClasses + rowClass *
 * nColClasses + colClass]. The same terms in the same order as {@link referenceCorrection}.
 * `kScratch` holds at least `taps` values. Returns the ops executed.
 */
export function correctionTables(
  w: Float32Array, geom: DynGeometry, layout: CorrectionLayout, o0: number, count: number,
  droppedList: Int32Array, nDropped: number, means: Float64Array, meanOffset: number,
  table: Float64Array, kScratch: Float64Array,
): number {
  const { kernelW, cpg, taps } = geom;
  const nClasses = layout.nRowClasses * layout.nColClasses;
  let ops = 0;
  for (let i = 0; i < count; i++) {
    const o = o0 + i;
    for (let t = 0; t < taps; t++) {
      let k = 0;
      for (let d = 0; d < nDropped; d++) {
        const c = droppedList[d];
        k += means[meanOffset + c] * w[(o * cpg + c) * taps + t];
      }
      kScratch[t] = k;
    }
    ops += taps * nDropped;
    for (let rc = 0; rc < layout.nRowClasses; rc++) {
      const kyLo = layout.rowRanges[2 * rc];
      const kyHi = layout.rowRanges[2 * rc + 1];
      for (let cc = 0; cc < layout.nColClasses; cc++) {
        const kxLo = layout.colRanges[2 * cc];
        const kxHi = layout.colRanges[2 * cc + 1];
        let corr = 0;
        for (let ky = kyLo; ky < kyHi; ky++) {
          for (let kx = kxLo; kx < kxHi; kx++) corr += kScratch[ky * kernelW + kx];
        }
        ops += (kyHi - kyLo) * (kxHi - kxLo);
        table[i * nClasses + rc * layout.nColClasses + cc] = corr;
      }
    }
  }
  return ops;
}
