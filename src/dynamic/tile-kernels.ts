/**
 * The blocked loops of the FAST dynamic convolution, and the packing that feeds them, all on one
 * module-level float64 workspace.
 *
 * Why this shape (V8 11 / Node 20, measured on conv2 of cifar10-quick):
 * - Every hot load goes through the constant `WS` array: the JIT embeds its base and length, so a
 *   load is one compare against an immediate and one move (weights read through a parameter
 *   array cost 7-12 % more, see ../backends/cpu/fast/gemm.ts for the same finding).
 * - Decisions are per neuron and per channel, so the blocked loops work channel by channel: the
 *   4 x 3 tile (4 output channels x 3 positions) sums ONE input channel's taps into 12 registers,
 *   then adds them to the float64 partial sums P (~2.9 GMAC/s, more than the dense GEMM because
 *   the weight panels are packed once per call, not per image). This is also exactly the
 *   reference's per-neuron order (per channel: a tap sum from 0, then added to the neuron's sum),
 *   so fast and reference decide identically. For 1x1 kernels (one tap per channel) a channel's
 *   tap sum is a single exact product, and the tile runs over all kept channels in registers.
 * - Neurons that are evaluated one by one (SPET completions, SDSS neurons that failed the test)
 *   go 8 at a time for one output channel: each weight is loaded once for 8 positions (~2 GMAC/s).
 *
 * Layouts (T = taps per channel):
 * - patches X: per kept channel j, per panel of 3 slots, per tap t, 3 values (one per slot):
 *   X[((j * panels + q / 3) * T + t) * 3 + q % 3]. A slot is a position of the current list.
 * - channel panels W_A: per channel c, per quad of 4 output rows, per tap, 4 values.
 * - SPET quads: per channel c, the quads of the rows for which c is significant, same layout.
 * - rows W_B: per output row, per channel, per tap (the weights in their Caffe order).
 * - P: rows of `ld` float64 partial sums, one per slot.
 *
 * Not reentrant (JS is single-threaded and nothing here awaits).
 */
import type { DynGeometry } from './geometry.js';

/** Doubles in the workspace (32 MiB); layers that need more are chunked by the caller. */
export const WORKSPACE_DOUBLES = 1 << 22;
const WS = new Float64Array(WORKSPACE_DOUBLES);

/** The workspace, for the (not hot) code that initialises and reads partial sums. */
export function workspace(): Float64Array {
  return WS;
}

/**
 * W_A: the weights of rows o0 .. o0 + mc - 1 of group g (group-relative) for every channel of
 * the group, as per-channel 4-row panels at WS[dst ..]; rows past mc are zero. Size
 * cpg * ceil(mc / 4) * 4 * taps.
 */
export function packChannelPanels(w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number, dst: number): void {
  const { cpg, taps, m } = geom;
  const quads = (mc + 3) >> 2;
  let d = dst;
  for (let c = 0; c < cpg; c++) {
    for (let qd = 0; qd < quads; qd++) {
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
      d += 4 * taps;
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
 * significant (`rowsOfChannel[c]`, group-relative ascending) by 4 as panels at WS[dst ..]; the
 * 0-3 rows left over are computed from W_B.
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
 * Patches of `count` slots: slot q is output position positions[start + q] (or start + q when
 * `positions` is null), for the kept channels of the group whose first input plane starts at
 * x[planeBase]. Written at WS[dst ..] in the X layout; the lanes of the last panel past `count`
 * are zero. Padding taps are zeros.
 */
export function buildPatches(
  x: Float32Array, planeBase: number, geom: DynGeometry, kept: Int32Array, nKept: number,
  positions: Int32Array | null, start: number, count: number, dst: number,
): void {
  const { taps: T, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, inH, inW, outW, planeSize } = geom;
  const panels = Math.ceil(count / 3);
  const chanStride = panels * 3 * T;
  for (let j = 0; j < nKept; j++) {
    const plane = planeBase + kept[j] * planeSize;
    const cBase = dst + j * chanStride;
    for (let q = 0; q < count; q++) {
      const p = positions === null ? start + q : positions[start + q];
      const oy = (p / outW) | 0;
      const ox = p - oy * outW;
      const iy0 = oy * strideH - padH;
      const ix0 = ox * strideW - padW;
      let d = cBase + ((q / 3) | 0) * 3 * T + (q % 3);
      const inside = iy0 >= 0 && ix0 >= 0 && iy0 + (kernelH - 1) * dilationH < inH && ix0 + (kernelW - 1) * dilationW < inW;
      if (inside) {
        for (let ky = 0; ky < kernelH; ky++) {
          const row = plane + (iy0 + ky * dilationH) * inW + ix0;
          for (let kx = 0; kx < kernelW; kx++) {
            WS[d] = x[row + kx * dilationW];
            d += 3;
          }
        }
      } else {
        for (let ky = 0; ky < kernelH; ky++) {
          const iy = iy0 + ky * dilationH;
          const rowOk = iy >= 0 && iy < inH;
          const row = plane + iy * inW;
          for (let kx = 0; kx < kernelW; kx++) {
            const ix = ix0 + kx * dilationW;
            WS[d] = rowOk && ix >= 0 && ix < inW ? x[row + ix] : 0;
            d += 3;
          }
        }
      }
    }
    // Unused lanes of the last panel: zeros, so the tiles never meet stale values.
    for (let q = count; q < panels * 3; q++) {
      let d = cBase + ((q / 3) | 0) * 3 * T + (q % 3);
      for (let t = 0; t < T; t++, d += 3) WS[d] = 0;
    }
  }
}

/** One channel's taps for 4 rows x 3 slots: P[p_i + j] += sum_t A[t][i] * B[t][j]. */
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

/** One channel's taps for 1 row (weights contiguous) x 3 slots. */
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
 * 1x1 kernels: 4 rows x 3 slots over every kept channel, accumulators kept in registers from P's
 * initial values (a 1-tap channel sum is one exact product, so this is the reference's order).
 * Channel c = kept[k] has its quad at aBase + c * aStride, its slots at bo + k * bStride.
 */
function tile4x3Channels(nKept: number, kept: Int32Array, aBase: number, aStride: number, bo: number, bStride: number, p: number, ld: number): void {
  const p1 = p + ld;
  const p2 = p1 + ld;
  const p3 = p2 + ld;
  let c00 = WS[p], c01 = WS[p + 1], c02 = WS[p + 2];
  let c10 = WS[p1], c11 = WS[p1 + 1], c12 = WS[p1 + 2];
  let c20 = WS[p2], c21 = WS[p2 + 1], c22 = WS[p2 + 2];
  let c30 = WS[p3], c31 = WS[p3 + 1], c32 = WS[p3 + 2];
  for (let k = 0; k < nKept; k++) {
    const ao = (aBase + kept[k] * aStride) | 0;
    const b = (bo + k * bStride) | 0;
    const a0 = WS[ao];
    const a1 = WS[(ao + 1) | 0];
    const a2 = WS[(ao + 2) | 0];
    const a3 = WS[(ao + 3) | 0];
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
 * channel and slot panel: P (rows of `ld` at `pOff`, initialised by the caller) += the channels'
 * tap sums, channel by channel in `kept` order.
 */
export function accumulatePanels(
  T: number, kept: Int32Array, nKept: number, wA: number, quads: number,
  xOff: number, panels: number, pOff: number, ld: number,
): void {
  const chanStride = panels * 3 * T;
  if (T === 1) {
    for (let qd = 0; qd < quads; qd++) {
      for (let sp = 0; sp < panels; sp++) {
        tile4x3Channels(nKept, kept, wA + qd * 4, quads * 4, xOff + sp * 3, chanStride, pOff + qd * 4 * ld + sp * 3, ld);
      }
    }
    return;
  }
  for (let j = 0; j < nKept; j++) {
    const aChan = wA + kept[j] * quads * 4 * T;
    const bChan = xOff + j * chanStride;
    for (let qd = 0; qd < quads; qd++) {
      const ao = aChan + qd * 4 * T;
      const p = pOff + qd * 4 * ld;
      for (let sp = 0; sp < panels; sp++) {
        tile4x3(T, ao, bChan + sp * 3 * T, p + sp * 3, p + ld + sp * 3, p + 2 * ld + sp * 3, p + 3 * ld + sp * 3);
      }
    }
  }
}

/**
 * SPET partial sums: for each kept channel c (in `kept` order), only the rows for which c is
 * significant: P[row] += the channel's tap sum, by quads and then leftover single rows (W_B rows
 * at `wB`, `rowLen` = cpg * T apart). Returns the MACs executed per slot panel lane
 * (sum over kept channels of rows x T); the caller multiplies by the slot count.
 */
export function accumulateSpetQuads(
  T: number, kept: Int32Array, nKept: number, sq: SpetQuads, wB: number, rowLen: number,
  xOff: number, panels: number, pOff: number, ld: number,
): number {
  const chanStride = panels * 3 * T;
  let macsPerSlot = 0;
  for (let j = 0; j < nKept; j++) {
    const c = kept[j];
    const bChan = xOff + j * chanStride;
    for (let qd = sq.quadStart[c]; qd < sq.quadStart[c + 1]; qd++) {
      const ao = sq.base + qd * 4 * T;
      const r0 = pOff + sq.quadRows[4 * qd] * ld;
      const r1 = pOff + sq.quadRows[4 * qd + 1] * ld;
      const r2 = pOff + sq.quadRows[4 * qd + 2] * ld;
      const r3 = pOff + sq.quadRows[4 * qd + 3] * ld;
      for (let sp = 0; sp < panels; sp++) tile4x3(T, ao, bChan + sp * 3 * T, r0 + sp * 3, r1 + sp * 3, r2 + sp * 3, r3 + sp * 3);
    }
    for (let k = sq.remStart[c]; k < sq.remStart[c + 1]; k++) {
      const r = sq.remRows[k];
      const ao = wB + r * rowLen + c * T;
      const p = pOff + r * ld;
      for (let sp = 0; sp < panels; sp++) tile1x3(T, ao, bChan + sp * 3 * T, p + sp * 3);
    }
    macsPerSlot += sq.rowCount[c] * T;
  }
  return macsPerSlot;
}

/**
 * Listed neurons of ONE output row: acc[i] += sum over the channels chanC[k] (weights at
 * wRow + chanC[k] * T) / chanJ[k] (patch block at xOff + chanJ[k] * chanStride), k in
 * [chanFrom, chanTo), of that channel's tap sum, for i in [from, to); neuron i's slot is at
 * offset slotX[i] inside a channel block. Eight neurons at a time share each weight load.
 */
export function accumulateNeurons(
  wRow: number, T: number, chanC: Int32Array, chanJ: Int32Array, chanFrom: number, chanTo: number,
  xOff: number, chanStride: number, slotX: Int32Array, from: number, to: number, acc: Float64Array,
): void {
  if (chanTo <= chanFrom) return;
  let i = from;
  for (; i + 8 <= to; i += 8) {
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
    } else {
      for (let k = chanFrom; k < chanTo; k++) {
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
  for (; i < to; i++) {
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

/** Offset of slot q inside a channel block of the X layout. */
export function slotOffset(q: number, T: number): number {
  return ((q / 3) | 0) * 3 * T + (q % 3);
}
