/**
 * The blocked loops of the FAST dynamic convolution, and the packing that feeds them, all on one
 * module-level float64 workspace.
 *
 * Why this shape (V8 11 / Node 20, measured on cifar10-quick's convolutions):
 * - Every hot load goes through the constant `WS` array: the JIT embeds its base and length, so a
 *   load is one compare against an immediate and one move (weights read through a parameter
 *   array cost 7-12 % more; ../backends/cpu/fast/gemm.ts found the same).
 * - The kept input maps are copied once per image into zero-padded float64 planes, so no loop
 *   ever tests a border. Positions that every output row evaluates (all, or SDSS's grid) get
 *   packed patches (3 positions interleaved per tap) built from the planes: the 4 x 3 tile then
 *   runs at ~2.9 GMAC/s instead of ~2.4 when reading the planes through a tap-offset table. The
 *   neurons SDSS evaluates one by one read the planes directly (row by row, kx contiguous), as a
 *   patch would serve one output row only.
 * - Decisions are per neuron and per channel, so the blocked loops work channel by channel: the
 *   4 x 3 tile (4 output channels x 3 positions) sums ONE input channel's taps into 12 registers,
 *   then adds them to the float64 partial sums P (about as fast as the dense GEMM: weights are
 *   packed once per call, not per image). That is also exactly the reference's per-neuron order
 *   (per channel, a tap sum from 0 added to the neuron's sum), so fast and reference take the
 *   same decisions. For 1x1 kernels (one tap per channel) a channel's tap sum is a single exact
 *   product and the tile runs over all kept channels in registers.
 * - Neurons evaluated one by one (SPET completions, SDSS neurons that failed the test) go 8 at a
 *   time for one output channel: each weight is loaded once for 8 positions (~2 GMAC/s).
 *
 * Workspace layouts (T = taps per channel):
 * - channel panels W_A: per channel c, per quad of 4 output rows, per tap, the 4 rows' weights
 *   (1x1 kernels: per quad, per channel).
 * - SPET quads: per channel c, the quads of rows for which c is significant, same layout.
 * - rows W_B: per output row, per channel, per tap (the weights in Caffe order).
 * - planes: per kept channel j, its input map zero-padded to (H + 2 padH) x (W + 2 padW).
 * - patches X: per kept channel j, per 3 listed positions, per tap t, 3 values:
 *   X[(j * (ld / 3) + q / 3) * 3T + 3t + q % 3]; for 1x1 kernels channel-minor instead,
 *   X[(q / 3) * 3 nKept + 3j + q % 3], so that the all-channel tile reads contiguously.
 * - P: rows of `ld` float64 partial sums, one per listed position.
 *
 * Not reentrant (JS is single-threaded and nothing here awaits).
 */
import type { DynGeometry } from './geometry.js';

/** Doubles in the workspace (32 MiB of address space; pages are touched only as used). */
export const WORKSPACE_DOUBLES = 1 << 22;
const WS = new Float64Array(WORKSPACE_DOUBLES);

/** The workspace, for the (not hot) code that initialises and reads partial sums. */
export function workspace(): Float64Array {
  return WS;
}

/** Where the taps of a padded plane are: the padded geometry of a layer. */
export interface TapLayout {
  /** Padded plane width and size. */
  readonly paddedW: number;
  readonly planeSize: number;
  /** Distance between kernel rows, and between kernel columns, in a padded plane. */
  readonly rowStep: number;
  readonly colStep: number;
  /** Per output position: the offset of its (0, 0) tap in a padded plane. */
  readonly posBase: Int32Array;
}

const tapLayouts = new WeakMap<DynGeometry, TapLayout>();

/** The tap layout of a geometry (cached per geometry object). */
export function tapLayout(geom: DynGeometry): TapLayout {
  let l = tapLayouts.get(geom);
  if (!l) {
    const paddedW = geom.inW + 2 * geom.padW;
    const paddedH = geom.inH + 2 * geom.padH;
    const posBase = new Int32Array(geom.positions);
    for (let oy = 0; oy < geom.outH; oy++) {
      for (let ox = 0; ox < geom.outW; ox++) posBase[oy * geom.outW + ox] = oy * geom.strideH * paddedW + ox * geom.strideW;
    }
    l = { paddedW, planeSize: paddedW * paddedH, rowStep: geom.dilationH * paddedW, colStep: geom.dilationW, posBase };
    tapLayouts.set(geom, l);
  }
  return l;
}

/**
 * Copies the kept channels (group-relative indices in kept[0 .. nKept)) of the group whose first
 * input map starts at x[planeBase] into zero-padded planes at WS[dst ..], one per kept channel.
 */
export function padPlanes(x: Float32Array, planeBase: number, geom: DynGeometry, tl: TapLayout, kept: Int32Array, nKept: number, dst: number): void {
  const { inH, inW, padH, padW } = geom;
  const pw = tl.paddedW;
  for (let j = 0; j < nKept; j++) {
    const src = planeBase + kept[j] * geom.planeSize;
    const d = dst + j * tl.planeSize;
    if (padH > 0) WS.fill(0, d, d + padH * pw);
    for (let iy = 0; iy < inH; iy++) {
      const row = d + (iy + padH) * pw;
      for (let ix = 0; ix < padW; ix++) WS[row + ix] = 0;
      const s = src + iy * inW;
      for (let ix = 0; ix < inW; ix++) WS[row + padW + ix] = x[s + ix];
      for (let ix = padW + inW; ix < pw; ix++) WS[row + ix] = 0;
    }
    if (padH > 0) WS.fill(0, d + (padH + inH) * pw, d + tl.planeSize);
  }
}

/**
 * W_A: the weights of rows o0 .. o0 + mc - 1 of group g (group-relative) for every channel of
 * the group, as 4-row panels at WS[dst ..]; rows past mc are zero. Size
 * cpg * ceil(mc / 4) * 4 * taps. With several taps: per channel c, per quad, per tap, 4 values
 * (a channel is one tile call). With one tap (1x1): per quad, per channel, 4 values (the tile
 * runs over all channels, which are then contiguous).
 */
export function packChannelPanels(w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number, dst: number): void {
  const { cpg, taps, m } = geom;
  const quads = (mc + 3) >> 2;
  for (let c = 0; c < cpg; c++) {
    for (let qd = 0; qd < quads; qd++) {
      let d = taps === 1 ? dst + (qd * cpg + c) * 4 : dst + (c * quads + qd) * 4 * taps;
      for (let i = 0; i < 4; i++) {
        const r = qd * 4 + i;
        let q = d + i;
        if (r < mc) {
          const src = ((g * m + o0 + r) * cpg + c) * taps;
          for (let t = 0; t < taps; t++, q += 4) WS[q] = w[src + t];
        } else {
          for (let t = 0; t < taps; t++, q += 4) WS[q] = 0;
        }
      }
    }
  }
}

/** W_B: rows o0 .. o0 + mc - 1 of group g in Caffe order (row, channel, tap) at WS[dst ..]. */
export function packRows(w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number, dst: number): void {
  const n = geom.cpg * geom.taps;
  const src = (g * geom.m + o0) * n;
  for (let i = 0; i < mc * n; i++) WS[dst + i] = w[src + i];
}

/** Where the SPET quads of one row chunk are, per channel. */
export interface SpetQuads {
  /** Per channel c: its quads are quadStart[c] .. quadStart[c + 1] - 1. */
  readonly quadStart: Int32Array;
  /** 4 local rows per quad. */
  readonly quadRows: Int32Array;
  /** Per channel c: rows remRows[remStart[c] .. remStart[c + 1] - 1] left over after the quads. */
  readonly remStart: Int32Array;
  readonly remRows: Int32Array;
  /** Per channel: number of local rows for which it is significant. */
  readonly rowCount: Int32Array;
  /** WS offset of quad 0; quad k is at base + k * 4 * taps. */
  readonly base: number;
  /** Doubles used in WS. */
  readonly size: number;
}

/**
 * Packs, for rows o0 .. o0 + mc - 1 of group g and each channel c, the rows for which c is
 * significant (`rowsOfChannel[g * cpg + c]`, group-relative ascending) by 4 as panels at
 * WS[dst ..]; the 0-3 rows left over are computed from W_B.
 */
export function packSpetQuads(
  w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number,
  rowsOfChannel: readonly Int32Array[], dst: number,
): SpetQuads {
  const { cpg, taps, m } = geom;
  const quadStart = new Int32Array(cpg + 1);
  const remStart = new Int32Array(cpg + 1);
  const rowCount = new Int32Array(cpg);
  const quadRows: number[] = [];
  const remRows: number[] = [];
  let d = dst;
  for (let c = 0; c < cpg; c++) {
    const rows: number[] = [];
    for (const r of rowsOfChannel[g * cpg + c]) if (r >= o0 && r < o0 + mc) rows.push(r - o0);
    rowCount[c] = rows.length;
    quadStart[c] = quadRows.length / 4;
    remStart[c] = remRows.length;
    const full = rows.length & ~3;
    for (let k = 0; k < full; k += 4) {
      for (let i = 0; i < 4; i++) {
        const r = rows[k + i];
        quadRows.push(r);
        const src = ((g * m + o0 + r) * cpg + c) * taps;
        let q = d + i;
        for (let t = 0; t < taps; t++, q += 4) WS[q] = w[src + t];
      }
      d += 4 * taps;
    }
    for (let k = full; k < rows.length; k++) remRows.push(rows[k]);
  }
  quadStart[cpg] = quadRows.length / 4;
  remStart[cpg] = remRows.length;
  return { quadStart, quadRows: Int32Array.from(quadRows), remStart, remRows: Int32Array.from(remRows), rowCount, base: dst, size: d - dst };
}

/**
 * Where listed position q's values are inside the patch block of kept channel 0; kept channel j's
 * are {@link patchChannelStride} x j further (see the X layout in the file header).
 */
export function patchLane(q: number, T: number, nKept: number): number {
  return T === 1 ? ((q / 3) | 0) * 3 * nKept + (q % 3) : ((q / 3) | 0) * 3 * T + (q % 3);
}

/** Distance between the patch blocks of consecutive kept channels. */
export function patchChannelStride(T: number, ld: number): number {
  return T === 1 ? 3 : ld * T;
}

/**
 * Packed patches of `ld` listed positions (a multiple of 3; position q's plane offset is
 * bases[q]) for the nKept planes at WS[planes ..], into WS[dst ..] in the X layout.
 */
export function buildPatches(geom: DynGeometry, tl: TapLayout, planes: number, nKept: number, bases: Int32Array, ld: number, dst: number): void {
  const { kernelH, kernelW, taps: T } = geom;
  const { rowStep, colStep } = tl;
  if (T === 1) {
    for (let q = 0; q < ld; q += 3) {
      const b0 = planes + bases[q];
      const b1 = planes + bases[q + 1];
      const b2 = planes + bases[q + 2];
      let d = dst + q * nKept;
      for (let j = 0; j < nKept; j++) {
        const o = j * tl.planeSize;
        WS[d] = WS[b0 + o];
        WS[d + 1] = WS[b1 + o];
        WS[d + 2] = WS[b2 + o];
        d += 3;
      }
    }
    return;
  }
  let d = dst;
  for (let j = 0; j < nKept; j++) {
    const plane = planes + j * tl.planeSize;
    for (let q = 0; q < ld; q += 3) {
      for (let lane = 0; lane < 3; lane++) {
        let o = d + lane;
        let row = plane + bases[q + lane];
        for (let ky = 0; ky < kernelH; ky++) {
          let src = row;
          for (let kx = 0; kx < kernelW; kx++) {
            WS[o] = WS[src];
            o += 3;
            src += colStep;
          }
          row += rowStep;
        }
      }
      d += 3 * T;
    }
  }
}

/** One channel's taps for 4 rows x 3 positions: P[p_i + j] += sum_t A[t][i] * X[t][j]. */
function tile4x3(T: number, ao: number, bo: number, p0: number, p1: number, p2: number, p3: number): void {
  let c00 = 0, c01 = 0, c02 = 0;
  let c10 = 0, c11 = 0, c12 = 0;
  let c20 = 0, c21 = 0, c22 = 0;
  let c30 = 0, c31 = 0, c32 = 0;
  ao |= 0;
  bo |= 0;
  const aEnd = (ao + 4 * T) | 0;
  while (ao < aEnd) {
    const a0 = WS[ao];
    const a1 = WS[(ao + 1) | 0];
    const a2 = WS[(ao + 2) | 0];
    const a3 = WS[(ao + 3) | 0];
    const b0 = WS[bo];
    c00 += a0 * b0;
    c10 += a1 * b0;
    c20 += a2 * b0;
    c30 += a3 * b0;
    const b1 = WS[(bo + 1) | 0];
    c01 += a0 * b1;
    c11 += a1 * b1;
    c21 += a2 * b1;
    c31 += a3 * b1;
    const b2 = WS[(bo + 2) | 0];
    c02 += a0 * b2;
    c12 += a1 * b2;
    c22 += a2 * b2;
    c32 += a3 * b2;
    ao = (ao + 4) | 0;
    bo = (bo + 3) | 0;
  }
  WS[p0] += c00;
  WS[p0 + 1] += c01;
  WS[p0 + 2] += c02;
  WS[p1] += c10;
  WS[p1 + 1] += c11;
  WS[p1 + 2] += c12;
  WS[p2] += c20;
  WS[p2 + 1] += c21;
  WS[p2 + 2] += c22;
  WS[p3] += c30;
  WS[p3 + 1] += c31;
  WS[p3 + 2] += c32;
}

/** One channel's taps for 1 row (weights contiguous at ao) x 3 positions. */
function tile1x3(T: number, ao: number, bo: number, p: number): void {
  let c0 = 0, c1 = 0, c2 = 0;
  ao |= 0;
  bo |= 0;
  const aEnd = (ao + T) | 0;
  while (ao < aEnd) {
    const a = WS[ao];
    c0 += a * WS[bo];
    c1 += a * WS[(bo + 1) | 0];
    c2 += a * WS[(bo + 2) | 0];
    ao = (ao + 1) | 0;
    bo = (bo + 3) | 0;
  }
  WS[p] += c0;
  WS[p + 1] += c1;
  WS[p + 2] += c2;
}

/**
 * 1x1 kernels: 4 rows x 3 positions over every kept channel, accumulators kept in registers from
 * P's initial values (a 1-tap channel sum is one exact product, so this is the reference's order).
 * Channel c = kept[k] has its 4 weights at ao + 4c, its 3 positions at bo + 3k.
 */
function tile4x3Channels(nKept: number, kept: Int32Array, ao: number, bo: number, p: number, ld: number): void {
  const p1 = p + ld;
  const p2 = p1 + ld;
  const p3 = p2 + ld;
  let c00 = WS[p], c01 = WS[p + 1], c02 = WS[p + 2];
  let c10 = WS[p1], c11 = WS[p1 + 1], c12 = WS[p1 + 2];
  let c20 = WS[p2], c21 = WS[p2 + 1], c22 = WS[p2 + 2];
  let c30 = WS[p3], c31 = WS[p3 + 1], c32 = WS[p3 + 2];
  let b = bo | 0;
  for (let k = 0; k < nKept; k++) {
    const a = (ao + 4 * kept[k]) | 0;
    const a0 = WS[a];
    const a1 = WS[(a + 1) | 0];
    const a2 = WS[(a + 2) | 0];
    const a3 = WS[(a + 3) | 0];
    const b0 = WS[b];
    c00 += a0 * b0;
    c10 += a1 * b0;
    c20 += a2 * b0;
    c30 += a3 * b0;
    const b1 = WS[(b + 1) | 0];
    c01 += a0 * b1;
    c11 += a1 * b1;
    c21 += a2 * b1;
    c31 += a3 * b1;
    const b2 = WS[(b + 2) | 0];
    c02 += a0 * b2;
    c12 += a1 * b2;
    c22 += a2 * b2;
    c32 += a3 * b2;
    b = (b + 3) | 0;
  }
  WS[p] = c00;
  WS[p + 1] = c01;
  WS[p + 2] = c02;
  WS[p1] = c10;
  WS[p1 + 1] = c11;
  WS[p1 + 2] = c12;
  WS[p2] = c20;
  WS[p2 + 1] = c21;
  WS[p2 + 2] = c22;
  WS[p3] = c30;
  WS[p3 + 1] = c31;
  WS[p3 + 2] = c32;
}

/**
 * Every row of the chunk (W_A panels at `wA`, `quads` of them per channel) over every kept
 * channel and listed position (patches at xOff, `ld` positions): P (rows of `ld` at `pOff`,
 * initialised by the caller) += the channels' tap sums, channel by channel in `kept` order.
 */
export function accumulatePanels(
  T: number, cpg: number, kept: Int32Array, nKept: number, wA: number, quads: number, xOff: number, ld: number, pOff: number,
): void {
  if (T === 1) {
    for (let qd = 0; qd < quads; qd++) {
      for (let q = 0; q < ld; q += 3) tile4x3Channels(nKept, kept, wA + qd * 4 * cpg, xOff + q * nKept, pOff + qd * 4 * ld + q, ld);
    }
    return;
  }
  const chanStride = ld * T;
  for (let j = 0; j < nKept; j++) {
    const aChan = wA + kept[j] * quads * 4 * T;
    const bChan = xOff + j * chanStride;
    for (let qd = 0; qd < quads; qd++) {
      const ao = aChan + qd * 4 * T;
      const p = pOff + qd * 4 * ld;
      for (let q = 0; q < ld; q += 3) tile4x3(T, ao, bChan + q * T, p + q, p + ld + q, p + 2 * ld + q, p + 3 * ld + q);
    }
  }
}

/**
 * SPET partial sums: for each kept channel c (in `kept` order), only the rows for which c is
 * significant: P[row] += the channel's tap sum, by quads and then leftover single rows (W_B rows
 * at `wB`, `rowLen` = cpg * T apart). Returns the MACs executed per position.
 */
export function accumulateSpetQuads(
  T: number, kept: Int32Array, nKept: number, sq: SpetQuads, wB: number, rowLen: number, xOff: number, ld: number, pOff: number,
): number {
  const chanStride = ld * T;
  let macsPerPosition = 0;
  for (let j = 0; j < nKept; j++) {
    const c = kept[j];
    const bChan = xOff + j * chanStride;
    for (let qd = sq.quadStart[c]; qd < sq.quadStart[c + 1]; qd++) {
      const ao = sq.base + qd * 4 * T;
      const r0 = pOff + sq.quadRows[4 * qd] * ld;
      const r1 = pOff + sq.quadRows[4 * qd + 1] * ld;
      const r2 = pOff + sq.quadRows[4 * qd + 2] * ld;
      const r3 = pOff + sq.quadRows[4 * qd + 3] * ld;
      for (let q = 0; q < ld; q += 3) tile4x3(T, ao, bChan + q * T, r0 + q, r1 + q, r2 + q, r3 + q);
    }
    for (let k = sq.remStart[c]; k < sq.remStart[c + 1]; k++) {
      const r = sq.remRows[k];
      const ao = wB + r * rowLen + c * T;
      const p = pOff + r * ld;
      for (let q = 0; q < ld; q += 3) tile1x3(T, ao, bChan + q * T, p + q);
    }
    macsPerPosition += sq.rowCount[c] * T;
  }
  return macsPerPosition;
}

/**
 * Listed neurons of ONE output row, from packed patches: acc[i] += sum over the channels k in
 * [chanFrom, chanTo) of channel chanC[k]'s tap sum (weights at wRow + chanC[k] * T; patch block
 * at xOff + chanJ[k] * chanStride), for i < count; neuron i's lane is at slotX[i] inside a block
 * (taps 3 apart). Eight neurons at a time share each weight load.
 */
export function accumulatePacked(
  wRow: number, T: number, chanC: Int32Array, chanJ: Int32Array, chanFrom: number, chanTo: number,
  xOff: number, chanStride: number, slotX: Int32Array, count: number, acc: Float64Array,
): void {
  if (chanTo <= chanFrom) return;
  // With one tap the loop below is skipped (multiTapTo = chanFrom): see the T === 1 branch.
  const multiTapTo = T === 1 ? chanFrom : chanTo;
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const x0 = slotX[i];
    const d1 = slotX[i + 1] - x0;
    const d2 = slotX[i + 2] - x0;
    const d3 = slotX[i + 3] - x0;
    const d4 = slotX[i + 4] - x0;
    const d5 = slotX[i + 5] - x0;
    const d6 = slotX[i + 6] - x0;
    const d7 = slotX[i + 7] - x0;
    let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
    let a4 = acc[i + 4], a5 = acc[i + 5], a6 = acc[i + 6], a7 = acc[i + 7];
    if (T === 1) {
      // One tap: a channel's tap sum is one exact product, added straight to the sums.
      for (let k = chanFrom; k < chanTo; k++) {
        const w = WS[(wRow + chanC[k]) | 0];
        const xi = (xOff + chanJ[k] * chanStride + x0) | 0;
        a0 += w * WS[xi];
        a1 += w * WS[(xi + d1) | 0];
        a2 += w * WS[(xi + d2) | 0];
        a3 += w * WS[(xi + d3) | 0];
        a4 += w * WS[(xi + d4) | 0];
        a5 += w * WS[(xi + d5) | 0];
        a6 += w * WS[(xi + d6) | 0];
        a7 += w * WS[(xi + d7) | 0];
      }
    }
    for (let k = chanFrom; k < multiTapTo; k++) {
      let wi = (wRow + chanC[k] * T) | 0;
      const we = (wi + T) | 0;
      let xi = (xOff + chanJ[k] * chanStride + x0) | 0;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      while (wi < we) {
        const w = WS[wi];
        s0 += w * WS[xi];
        s1 += w * WS[(xi + d1) | 0];
        s2 += w * WS[(xi + d2) | 0];
        s3 += w * WS[(xi + d3) | 0];
        s4 += w * WS[(xi + d4) | 0];
        s5 += w * WS[(xi + d5) | 0];
        s6 += w * WS[(xi + d6) | 0];
        s7 += w * WS[(xi + d7) | 0];
        wi = (wi + 1) | 0;
        xi = (xi + 3) | 0;
      }
      a0 += s0;
      a1 += s1;
      a2 += s2;
      a3 += s3;
      a4 += s4;
      a5 += s5;
      a6 += s6;
      a7 += s7;
    }
    acc[i] = a0;
    acc[i + 1] = a1;
    acc[i + 2] = a2;
    acc[i + 3] = a3;
    acc[i + 4] = a4;
    acc[i + 5] = a5;
    acc[i + 6] = a6;
    acc[i + 7] = a7;
  }
  for (; i + 4 <= count; i += 4) {
    const x0 = slotX[i];
    const d1 = slotX[i + 1] - x0;
    const d2 = slotX[i + 2] - x0;
    const d3 = slotX[i + 3] - x0;
    let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
    for (let k = chanFrom; k < chanTo; k++) {
      let wi = (wRow + chanC[k] * T) | 0;
      const we = (wi + T) | 0;
      let xi = (xOff + chanJ[k] * chanStride + x0) | 0;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      while (wi < we) {
        const w = WS[wi];
        s0 += w * WS[xi];
        s1 += w * WS[(xi + d1) | 0];
        s2 += w * WS[(xi + d2) | 0];
        s3 += w * WS[(xi + d3) | 0];
        wi = (wi + 1) | 0;
        xi = (xi + 3) | 0;
      }
      a0 += s0;
      a1 += s1;
      a2 += s2;
      a3 += s3;
    }
    acc[i] = a0;
    acc[i + 1] = a1;
    acc[i + 2] = a2;
    acc[i + 3] = a3;
  }
  for (; i < count; i++) {
    let a = acc[i];
    const x0 = slotX[i];
    for (let k = chanFrom; k < chanTo; k++) {
      let wi = (wRow + chanC[k] * T) | 0;
      const we = (wi + T) | 0;
      let xi = (xOff + chanJ[k] * chanStride + x0) | 0;
      let s = 0;
      while (wi < we) {
        s += WS[wi] * WS[xi];
        wi = (wi + 1) | 0;
        xi = (xi + 3) | 0;
      }
      a += s;
    }
    acc[i] = a;
  }
}

/**
 * Listed neurons of ONE output row, straight from the padded planes: as {@link accumulatePacked}
 * but channel chanJ[k]'s plane is at planes + chanJ[k] * planeSize and neuron i's (0, 0) tap at
 * bases[i] in it; taps are walked row by row (kx contiguous, `colStep` apart; rows `rowStep`).
 */
export function accumulatePlanes(
  wRow: number, kernelH: number, kernelW: number, rowStep: number, colStep: number,
  chanC: Int32Array, chanJ: Int32Array, chanFrom: number, chanTo: number,
  planes: number, planeSize: number, bases: Int32Array, count: number, acc: Float64Array,
): void {
  if (chanTo <= chanFrom) return;
  const T = kernelH * kernelW;
  const multiTapTo = T === 1 ? chanFrom : chanTo;
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const q0 = bases[i];
    const d1 = bases[i + 1] - q0;
    const d2 = bases[i + 2] - q0;
    const d3 = bases[i + 3] - q0;
    const d4 = bases[i + 4] - q0;
    const d5 = bases[i + 5] - q0;
    const d6 = bases[i + 6] - q0;
    const d7 = bases[i + 7] - q0;
    let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
    let a4 = acc[i + 4], a5 = acc[i + 5], a6 = acc[i + 6], a7 = acc[i + 7];
    if (T === 1) {
      for (let k = chanFrom; k < chanTo; k++) {
        const w = WS[(wRow + chanC[k]) | 0];
        const x = (planes + chanJ[k] * planeSize + q0) | 0;
        a0 += w * WS[x];
        a1 += w * WS[(x + d1) | 0];
        a2 += w * WS[(x + d2) | 0];
        a3 += w * WS[(x + d3) | 0];
        a4 += w * WS[(x + d4) | 0];
        a5 += w * WS[(x + d5) | 0];
        a6 += w * WS[(x + d6) | 0];
        a7 += w * WS[(x + d7) | 0];
      }
    }
    for (let k = chanFrom; k < multiTapTo; k++) {
      let wi = (wRow + chanC[k] * T) | 0;
      let row = (planes + chanJ[k] * planeSize + q0) | 0;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let ky = 0; ky < kernelH; ky++) {
        let x = row;
        const we = (wi + kernelW) | 0;
        while (wi < we) {
          const w = WS[wi];
          s0 += w * WS[x];
          s1 += w * WS[(x + d1) | 0];
          s2 += w * WS[(x + d2) | 0];
          s3 += w * WS[(x + d3) | 0];
          s4 += w * WS[(x + d4) | 0];
          s5 += w * WS[(x + d5) | 0];
          s6 += w * WS[(x + d6) | 0];
          s7 += w * WS[(x + d7) | 0];
          wi = (wi + 1) | 0;
          x = (x + colStep) | 0;
        }
        row = (row + rowStep) | 0;
      }
      a0 += s0;
      a1 += s1;
      a2 += s2;
      a3 += s3;
      a4 += s4;
      a5 += s5;
      a6 += s6;
      a7 += s7;
    }
    acc[i] = a0;
    acc[i + 1] = a1;
    acc[i + 2] = a2;
    acc[i + 3] = a3;
    acc[i + 4] = a4;
    acc[i + 5] = a5;
    acc[i + 6] = a6;
    acc[i + 7] = a7;
  }
  for (; i + 4 <= count; i += 4) {
    const q0 = bases[i];
    const d1 = bases[i + 1] - q0;
    const d2 = bases[i + 2] - q0;
    const d3 = bases[i + 3] - q0;
    let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
    for (let k = chanFrom; k < chanTo; k++) {
      let wi = (wRow + chanC[k] * T) | 0;
      let row = (planes + chanJ[k] * planeSize + q0) | 0;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let ky = 0; ky < kernelH; ky++) {
        let x = row;
        const we = (wi + kernelW) | 0;
        while (wi < we) {
          const w = WS[wi];
          s0 += w * WS[x];
          s1 += w * WS[(x + d1) | 0];
          s2 += w * WS[(x + d2) | 0];
          s3 += w * WS[(x + d3) | 0];
          wi = (wi + 1) | 0;
          x = (x + colStep) | 0;
        }
        row = (row + rowStep) | 0;
      }
      a0 += s0;
      a1 += s1;
      a2 += s2;
      a3 += s3;
    }
    acc[i] = a0;
    acc[i + 1] = a1;
    acc[i + 2] = a2;
    acc[i + 3] = a3;
  }
  for (; i < count; i++) {
    let a = acc[i];
    for (let k = chanFrom; k < chanTo; k++) {
      let wi = (wRow + chanC[k] * T) | 0;
      let row = (planes + chanJ[k] * planeSize + bases[i]) | 0;
      let s = 0;
      for (let ky = 0; ky < kernelH; ky++) {
        let x = row;
        for (let kx = 0; kx < kernelW; kx++) {
          s += WS[wi] * WS[x];
          wi = (wi + 1) | 0;
          x = (x + colStep) | 0;
        }
        row = (row + rowStep) | 0;
      }
      a += s;
    }
    acc[i] = a;
  }
}
