/**
 * FAST dynamic convolution: the same decisions and sums as reference-convolution.ts, executed by
 * the blocked loops of tile-kernels.ts so that skipped work is really skipped.
 *
 * Per group g and chunk of output rows (all of them unless the weights do not fit the workspace):
 * the weights are packed once, then per image:
 * - Phase A, the neurons every output channel evaluates (all positions, or the SDSS grid): patches
 *   of the KEPT channels only (SFMA's dropped maps are never read), P = bias + correction, then
 *   - without SPET: every row x kept channel by 4 x 3 tiles;
 *   - with SPET: only the (row, channel) pairs where the channel is significant for the row
 *     (per-channel quads of rows; 1x1 kernels go neuron by neuron), the termination test on
 *     every neuron, and the rest channels for the survivors only, 8 neurons at a time.
 * - Phase B (SDSS): the test of every non-grid neuron; the failing ones (the union over rows of
 *   their positions gets patches) are evaluated neuron by neuron, with SPET when on.
 * Positions are processed in chunks that fit the workspace.
 *
 * Counting: MACs of real neurons only (padding lanes of the last 3-slot panel and zero rows of the
 * last quad are not counted, as the dense GEMM does not count its edge padding). otherOps as in
 * the reference, except the SFMA correction, computed here once per border class (sfma.ts).
 */
import type { LayerCounters } from '../backends/backend.js';
import type { CallState } from './run-state.js';
import { neighbourCount, sdssGrid, sdssInterpolate, sdssInterpolateOps, sdssTestOps } from './sdss.js';
import { correctionLayout, correctionTables } from './sfma.js';
import { restBounds, spetTerminates } from './spet.js';
import {
  accumulateNeurons, accumulatePanels, accumulateSpetQuads, buildPatches, packChannelPanels, packRows,
  packSpetQuads, slotOffset, workspace, WORKSPACE_DOUBLES, type SpetQuads,
} from './tile-kernels.js';

/** Growable scratch arrays (a call never holds two users of the same one). */
let accScratch = new Float64Array(0);
let slotScratch = new Int32Array(0);
let idxScratch = new Int32Array(0);

function f64(n: number): Float64Array {
  if (accScratch.length < n) accScratch = new Float64Array(n);
  return accScratch;
}
function slots(n: number): Int32Array {
  if (slotScratch.length < n) slotScratch = new Int32Array(n);
  return slotScratch;
}
function idx(n: number): Int32Array {
  if (idxScratch.length < n) idxScratch = new Int32Array(n);
  return idxScratch;
}

/** Per-row channel lists (flattened: row i's entries are start[i] .. start[i + 1] - 1). */
interface ChannelLists {
  /** Group-relative channel: its weights are at row + c * T in W_B. */
  readonly c: Int32Array;
  /** Index of the channel among the kept ones: its patch block. */
  readonly j: Int32Array;
  readonly start: Int32Array;
}

/**
 * For rows o0 .. o0 + mc - 1 (absolute o = oAbs0 + i): the kept channels among `source`'s
 * per-row entries [o * per, (o + 1) * per), in their order.
 */
function channelLists(source: Int32Array, per: number, oAbs0: number, mc: number, keptIndex: Int32Array): ChannelLists {
  const c: number[] = [];
  const j: number[] = [];
  const start = new Int32Array(mc + 1);
  for (let i = 0; i < mc; i++) {
    start[i] = c.length;
    for (let k = (oAbs0 + i) * per; k < (oAbs0 + i + 1) * per; k++) {
      const ch = source[k];
      if (keptIndex[ch] >= 0) {
        c.push(ch);
        j.push(keptIndex[ch]);
      }
    }
  }
  start[mc] = c.length;
  return { c: Int32Array.from(c), j: Int32Array.from(j), start };
}

/** Runs the fast dynamic layer on `x` (batch images) into a new output array. */
export function dynamicFast(state: CallState, x: Float32Array, counts: LayerCounters): Float32Array {
  const { geom, batch, spet } = state;
  const { m, cpg, taps: T, group, outSize, positions: N } = geom;
  const y = new Float32Array(batch * outSize);
  const grid = state.sdssStride > 0 ? sdssGrid(geom.outH, geom.outW, state.sdssStride) : null;
  // Rows per chunk: the packed weights (panels or quads, plus the rows) must fit half the workspace.
  const perRow = 2 * cpg * T;
  const maxRows = Math.max(4, Math.floor(WORKSPACE_DOUBLES / 2 / perRow / 4) * 4);
  const mcMax = Math.min(m, maxRows);
  const needRows = spet !== null || grid !== null;

  for (let g = 0; g < group; g++) {
    for (let o0 = 0; o0 < m; o0 += mcMax) {
      const mc = Math.min(mcMax, m - o0);
      const quads = (mc + 3) >> 2;
      // Packed weights: [0, wEnd). W_A (or SPET quads) first, then W_B.
      let sq: SpetQuads | null = null;
      let wA = 0;
      let wEnd: number;
      if (spet !== null && T > 1) {
        sq = packSpetQuads(state.w.weight, geom, g, o0, mc, spet.rowsOfChannel, 0);
        wEnd = sq.size;
      } else {
        packChannelPanels(state.w.weight, geom, g, o0, mc, 0);
        wA = 0;
        wEnd = cpg * quads * 4 * T;
      }
      const wB = wEnd;
      if (needRows) {
        packRows(state.w.weight, geom, g, o0, mc, wB);
        wEnd += mc * cpg * T;
      }
      for (let img = 0; img < batch; img++) {
        runImageChunk(state, x, y, counts, g, o0, mc, img, { sq, wA, wB, wEnd, quads }, grid, N);
      }
    }
  }
  return y;
}

interface Packed {
  readonly sq: SpetQuads | null;
  readonly wA: number;
  readonly wB: number;
  readonly wEnd: number;
  readonly quads: number;
}

function runImageChunk(
  state: CallState, x: Float32Array, y: Float32Array, counts: LayerCounters,
  g: number, o0: number, mc: number, img: number, pk: Packed, grid: ReturnType<typeof sdssGrid> | null, N: number,
): void {
  const { geom, spet, tally } = state;
  const { m, cpg, taps: T, group, inC, inSize, outSize, outW } = geom;
  const WS = workspace();
  const bias = state.w.bias;
  const oAbs0 = g * m + o0;
  const kept = state.keptLists[img * group + g];
  const nKept = kept.length;
  const droppedList = state.droppedLists[img * group + g];
  const hasDropped = droppedList.length > 0;
  const dropOffset = img * inC + g * cpg;
  const planeBase = img * inSize + g * cpg * geom.planeSize;
  const keptIndex = idx(cpg);
  keptIndex.fill(-1, 0, cpg);
  for (let k = 0; k < nKept; k++) keptIndex[kept[k]] = k;
  const keptIdx = keptIndex.slice(0, cpg);
  const lo = state.range[2 * img];
  const hi = state.range[2 * img + 1];
  const rowLen = cpg * T;

  // SFMA correction tables for the chunk's rows.
  const layout = hasDropped ? correctionLayout(geom) : null;
  const nClasses = layout ? layout.nRowClasses * layout.nColClasses : 0;
  const table = layout ? new Float64Array(mc * nClasses) : null;
  if (layout && table) {
    counts.otherOps += correctionTables(state.w.weight, geom, layout, oAbs0, mc, droppedList, droppedList.length, state.means, dropOffset, table, new Float64Array(T));
  }
  // Exact-mode bounds per row.
  const bounds = new Float64Array(2 * mc);
  if (spet && state.exact) {
    for (let i = 0; i < mc; i++) counts.otherOps += restBounds(spet, cpg, oAbs0 + i, hasDropped ? state.dropped : null, dropOffset, bounds, 2 * i);
  }
  // Channel lists for neuron-by-neuron evaluation.
  const sigLists = spet ? channelLists(spet.sigChannels, spet.nSig, oAbs0, mc, keptIdx) : null;
  const restLists = spet ? channelLists(spet.restChannels, spet.nRest, oAbs0, mc, keptIdx) : null;
  // Without SPET every row runs over the kept channels: channel kept[k] is patch block k.
  const keptJ = new Int32Array(nKept);
  for (let k = 0; k < nKept; k++) keptJ[k] = k;

  /** bias + correction of row i at position p, as the reference adds them. */
  const base = (i: number, p: number): number => {
    let v = bias ? bias[oAbs0 + i] : 0;
    if (table && layout) {
      const oy = (p / outW) | 0;
      v += table[i * nClasses + layout.rowClass[oy] * layout.nColClasses + layout.colClass[p - oy * outW]];
    }
    return v;
  };
  const baseOps = (bias ? 1 : 0) + (hasDropped ? 1 : 0);
  const yMap = (i: number): number => img * outSize + (oAbs0 + i) * N;

  /**
   * Evaluates `count` listed neurons of row i (slots offsets in slotX[0 .. count), positions in
   * pos[0 .. count), acc holding their base) neuron by neuron, with SPET when on, into y.
   */
  const evaluateListed = (i: number, xOff: number, chanStride: number, slotX: Int32Array, pos: Int32Array, count: number, acc: Float64Array): void => {
    const wRow = pk.wB + i * rowLen;
    const map = yMap(i);
    if (!spet || !sigLists || !restLists) {
      accumulateNeurons(wRow, T, kept, keptJ, 0, nKept, xOff, chanStride, slotX, 0, count, acc);
      counts.macsExecuted += count * nKept * T;
      for (let k = 0; k < count; k++) y[map + pos[k]] = acc[k];
      return;
    }
    const sFrom = sigLists.start[i];
    const sTo = sigLists.start[i + 1];
    accumulateNeurons(wRow, T, sigLists.c, sigLists.j, sFrom, sTo, xOff, chanStride, slotX, 0, count, acc);
    counts.macsExecuted += count * (sTo - sFrom) * T;
    const survivors = compactSurvivors(i, count, acc, slotX, pos, map);
    const rFrom = restLists.start[i];
    const rTo = restLists.start[i + 1];
    accumulateNeurons(wRow, T, restLists.c, restLists.j, rFrom, rTo, xOff, chanStride, slotX, 0, survivors, acc);
    counts.macsExecuted += survivors * (rTo - rFrom) * T;
    for (let k = 0; k < survivors; k++) y[map + pos[k]] = acc[k];
  };

  /** SPET tests of `count` listed neurons; terminated ones get 0, survivors move to the front. */
  const compactSurvivors = (i: number, count: number, acc: Float64Array, slotX: Int32Array, pos: Int32Array, map: number): number => {
    const pb = bounds[2 * i];
    const nb = bounds[2 * i + 1];
    let n = 0;
    for (let k = 0; k < count; k++) {
      const s = acc[k];
      if (spetTerminates(state.exact, state.threshold, s, pb, nb, lo, hi)) {
        y[map + pos[k]] = 0;
      } else {
        acc[n] = s;
        slotX[n] = slotX[k];
        pos[n] = pos[k];
        n++;
      }
    }
    tally.spetNeurons += count;
    tally.spetTerminated += count - n;
    counts.otherOps += count * (state.exact ? 5 : 1);
    return n;
  };

  // ---- Phase A: every row evaluates these positions. ----
  const listA = grid ? grid.grid : null;
  const countA = grid ? grid.grid.length : N;
  const capacity = WORKSPACE_DOUBLES - pk.wEnd;
  const perSlot = nKept * T + pk.quads * 4;
  let chunk = Math.max(3, Math.floor(capacity / perSlot / 3) * 3);
  if (chunk > countA) chunk = countA;
  for (let s0 = 0; s0 < countA; s0 += chunk) {
    const count = Math.min(chunk, countA - s0);
    const panels = Math.ceil(count / 3);
    const ld = panels * 3;
    const xOff = pk.wEnd;
    const chanStride = panels * 3 * T;
    const pOff = xOff + nKept * chanStride;
    buildPatches(x, planeBase, geom, kept, nKept, listA, s0, count, xOff);
    for (let i = 0; i < pk.quads * 4; i++) {
      const row = pOff + i * ld;
      if (i < mc) {
        for (let q = 0; q < count; q++) WS[row + q] = base(i, listA ? listA[s0 + q] : s0 + q);
        WS.fill(0, row + count, row + ld);
      } else {
        WS.fill(0, row, row + ld);
      }
    }
    counts.otherOps += mc * count * baseOps;

    if (!spet) {
      accumulatePanels(T, kept, nKept, pk.wA, pk.quads, xOff, panels, pOff, ld);
      counts.macsExecuted += mc * count * nKept * T;
      for (let i = 0; i < mc; i++) {
        const map = yMap(i);
        const row = pOff + i * ld;
        if (listA) for (let q = 0; q < count; q++) y[map + listA[s0 + q]] = WS[row + q];
        else for (let q = 0; q < count; q++) y[map + s0 + q] = WS[row + q];
      }
      continue;
    }

    // SPET partial sums over the significant kept channels.
    const acc = f64(count);
    const slotX = slots(2 * count);
    const pos = slotX.subarray(count);
    if (pk.sq) {
      const macsPerSlot = accumulateSpetQuads(T, kept, nKept, pk.sq, pk.wB, rowLen, xOff, panels, pOff, ld);
      counts.macsExecuted += macsPerSlot * count;
    }
    for (let i = 0; i < mc; i++) {
      const row = pOff + i * ld;
      for (let q = 0; q < count; q++) {
        acc[q] = WS[row + q];
        slotX[q] = slotOffset(q, T);
        pos[q] = listA ? listA[s0 + q] : s0 + q;
      }
      const map = yMap(i);
      const wRow = pk.wB + i * rowLen;
      if (!pk.sq && sigLists) {
        // 1x1 kernels: the partial sums neuron by neuron (a channel is one tap).
        const sFrom = sigLists.start[i];
        const sTo = sigLists.start[i + 1];
        accumulateNeurons(wRow, T, sigLists.c, sigLists.j, sFrom, sTo, xOff, chanStride, slotX, 0, count, acc);
        counts.macsExecuted += count * (sTo - sFrom) * T;
      }
      const survivors = compactSurvivors(i, count, acc, slotX, pos, map);
      if (restLists) {
        const rFrom = restLists.start[i];
        const rTo = restLists.start[i + 1];
        accumulateNeurons(wRow, T, restLists.c, restLists.j, rFrom, rTo, xOff, chanStride, slotX, 0, survivors, acc);
        counts.macsExecuted += survivors * (rTo - rFrom) * T;
      }
      for (let k = 0; k < survivors; k++) y[map + pos[k]] = acc[k];
    }
  }
  if (!grid) return;

  // ---- Phase B: SDSS tests, then the failing neurons. ----
  const others = grid.others;
  const fail = new Int32Array(mc * others.length);
  const nFail = new Int32Array(mc);
  const marked = new Uint8Array(N);
  for (let i = 0; i < mc; i++) {
    const map = yMap(i);
    let nf = 0;
    for (let k = 0; k < others.length; k++) {
      const p = others[k];
      const oy = (p / outW) | 0;
      const ox = p - oy * outW;
      const n = neighbourCount(grid, oy, ox);
      counts.otherOps += sdssTestOps(n);
      const v = sdssInterpolate(y, map, grid, oy, ox, state.sdssDelta);
      if (Number.isNaN(v)) {
        fail[i * others.length + nf++] = p;
        marked[p] = 1;
      } else {
        y[map + p] = v;
        counts.otherOps += sdssInterpolateOps(n);
        tally.sdssInterpolated++;
      }
    }
    nFail[i] = nf;
  }
  tally.sdssOutputs += mc * N;
  const union: number[] = [];
  const slotOf = new Int32Array(N);
  for (let k = 0; k < others.length; k++) {
    const p = others[k];
    if (marked[p]) {
      slotOf[p] = union.length;
      union.push(p);
    }
  }
  if (union.length === 0) return;
  const unionList = Int32Array.from(union);
  let chunkB = Math.max(3, Math.floor((WORKSPACE_DOUBLES - pk.wEnd) / Math.max(1, nKept * T) / 3) * 3);
  if (chunkB > unionList.length) chunkB = unionList.length;
  const cursor = new Int32Array(mc);
  for (let u0 = 0; u0 < unionList.length; u0 += chunkB) {
    const count = Math.min(chunkB, unionList.length - u0);
    const panels = Math.ceil(count / 3);
    const xOff = pk.wEnd;
    const chanStride = panels * 3 * T;
    buildPatches(x, planeBase, geom, kept, nKept, unionList, u0, count, xOff);
    for (let i = 0; i < mc; i++) {
      const acc = f64(count);
      const slotX = slots(2 * count);
      const pos = slotX.subarray(count);
      let n = 0;
      let cur = cursor[i];
      const end = nFail[i];
      while (cur < end) {
        const p = fail[i * others.length + cur];
        const slot = slotOf[p] - u0;
        if (slot >= count) break;
        acc[n] = base(i, p);
        slotX[n] = slotOffset(slot, T);
        pos[n] = p;
        n++;
        cur++;
      }
      cursor[i] = cur;
      if (n === 0) continue;
      counts.otherOps += n * baseOps;
      evaluateListed(i, xOff, chanStride, slotX, pos, n, acc);
    }
  }
}
