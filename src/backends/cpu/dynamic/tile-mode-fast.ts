/**
 * The `fast` (TypeScript) variant of a tile-mode convolution (semantics: src/mechanisms/tile-plan.ts;
 * oracle: tile-reference.ts), the WebAssembly kernel's design (../wasm/tile-convolution.ts) in
 * plain loops (tile-mode-loops.ts):
 * - per image and group, the kept input maps are copied zero-padded in kept order and the weights'
 *   kept channels gathered in the same order, so SPET's significant part is a K-prefix of both;
 * - the listed positions (all, or SDSS's grid) go in blocks of `bw` (>= 8: whole tiles): the
 *   block's panel (kept channels x taps x positions) is packed once, pass 1 runs every output row
 *   over the prefix, then per tile and output row the SPET test; the survivors' rest runs over the
 *   same panel, output rows kept apart (each tile of each row decides alone);
 * - SDSS: per tile off the grid and output row, the neighbour test; a failing tile's rows are
 *   evaluated whole (prefix, test, rest) over the block's panel, packed when a first row fails.
 * Sums run in float64 (JavaScript's arithmetic) over float32 inputs and weights, in the GEMM's
 * order rather than the reference's: decisions can differ only where a tested value lies within
 * rounding of its threshold. Counting as the reference: tile by tile, as executed.
 */
import type { LayerCounters } from '../../../records/counters.js';
import { NEURON_SDSS_INTERPOLATED, NEURON_SPET_TERMINATED } from '../../../records/decisions.js';
import { correctionLayout, correctionTables } from '../../../mechanisms/sfma.js';
import { rectify, sdssInterpolateOps } from '../../../mechanisms/sdss.js';
import { spetTestOps } from '../../../mechanisms/spet.js';
import { indexRange, keptOrder, sdssTileOrder, tileRestBound, tileRestBoundOps, type TilePlan } from '../../../mechanisms/tile-plan.js';
import type { CallState } from './run-state.js';
import { blobPool } from '../blob-pool.js';
import { tapLayout } from './tile-kernels.js';
import { createTileModeLoops, type TileModeLoops } from './tile-mode-loops.js';

let loops: TileModeLoops | null = null;

/** The loops, on a workspace of at least `doubles` values (grown by doubling, never shrunk). */
function loopsFor(doubles: number): TileModeLoops {
  if (!loops || loops.ws.length < doubles) loops = createTileModeLoops(Math.max(doubles, 2 * (loops?.ws.length ?? 1 << 18)));
  return loops;
}

/**
 * Runs a tile-mode Convolution on the batch of `state` (input x) with the TypeScript loops, T =
 * `tilePositions` (a TileModeKernel); `reluSlope`: the ReLU that follows, applied to the output.
 */
export function tileConvolutionFast(
  state: CallState, plan: TilePlan, tilePositions: number, x: Float32Array, counts: LayerCounters, reluSlope?: number,
): Float32Array {
  const { geom, batch, tally, trace, addend } = state;
  const { inC, cpg, m, group, taps, positions, outW, inSize, outSize, kernelW } = geom;
  const T = tilePositions;
  const bias = state.w.bias;
  const spetOn = state.spet !== null;
  // Every neuron is written (evaluated, terminated or interpolated): a reused array will do.
  const y = blobPool.take(batch * outSize);
  const order = state.sdssStride > 0 ? sdssTileOrder(geom.outH, outW, state.sdssStride, state.sdssPattern) : null;
  const listed = order ? order.grid : indexRange(positions);
  const others = order ? order.others : new Int32Array(0);

  // Blocks of whole tiles, at least 8 positions wide (pass 1 runs four positions per weight load).
  const bw = T >= 8 ? T : T * Math.ceil(8 / T);
  const tl = tapLayout(geom);
  const tapOff = new Int32Array(taps);
  for (let t = 0; t < taps; t++) tapOff[t] = Math.floor(t / kernelW) * tl.rowStep + (t % kernelW) * tl.colStep;
  const K = cpg * taps;
  const aAt = 0;
  const planesAt = aAt + m * K;
  const panelAt = planesAt + cpg * tl.planeSize;
  const sAt = panelAt + K * bw;
  const L = loopsFor(sAt + m * bw);
  const WS = L.ws;
  const ph = geom.inH + 2 * geom.padH;

  const layout = correctionLayout(geom);
  const nClasses = layout.nRowClasses * layout.nColClasses;
  const corrTable = new Float64Array(m * nClasses);
  const kScratch = new Float64Array(taps);
  const limits = new Float64Array(m);
  const allRows = Int32Array.from({ length: m }, (_, o) => o);
  const rowList = new Int32Array(m);
  const survivors = new Int32Array(m);
  const bases = new Int32Array(bw);
  const weightRows = new Int32Array(m * cpg);
  let weightsGroup = -1;
  let weightsKept: Int32Array = new Int32Array(0);
  const neuronOps = (bias ? 1 : 0) + (spetOn ? spetTestOps(state.exact) : 0);
  let macs = 0;
  let ops = 0;

  for (let img = 0; img < batch; img++) {
    for (let g = 0; g < group; g++) {
      const kept = keptOrder(plan, cpg, g, state.sfmaOn ? state.dropped : null, img * inC);
      const nKept = kept.channels.length;
      const nPre = spetOn ? kept.nPrefix : nKept;
      const kK = nKept * taps;
      const k1 = nPre * taps;
      const dropList = state.droppedLists[img * group + g];
      const withCorr = state.sfmaOn && dropList.length > 0;
      const rowOps = neuronOps + (withCorr ? 1 : 0);
      if (withCorr) {
        ops += correctionTables(state.w.weight, geom, layout, g * m, m, dropList, dropList.length, state.means, img * inC + g * cpg, corrTable, kScratch);
      }
      // The kept channels' weights, row o at aAt + o * kK (gathered again only when the group or
      // its kept channels change: without SFMA, once per call), and their maps, zero-padded.
      if (g !== weightsGroup || !sameChannels(kept.positions, weightsKept)) {
        let n = 0;
        for (let o = 0; o < m; o++) {
          for (let j = 0; j < nKept; j++) weightRows[n++] = ((g * m + o) * cpg + kept.positions[j]) * taps;
        }
        L.copyRows(plan.permuted, weightRows, n, taps, aAt);
        weightsGroup = g;
        weightsKept = kept.positions;
      }
      L.padPlanes(x, img * inSize + g * cpg * geom.planeSize, kept.channels, nKept, geom.inH, geom.inW, geom.padH, geom.padW, ph, tl.paddedW, planesAt);
      for (let o = 0; o < m; o++) {
        if (spetOn && state.exact) {
          limits[o] = -tileRestBound(plan, cpg, g * m + o, kept, state.range, 2 * (img * inC + g * cpg));
          ops += tileRestBoundOps(kept);
        } else {
          limits[o] = state.thresholds ? state.thresholds[g * m + o] : state.threshold;
        }
      }
      const outAt = img * outSize + g * m * positions;

      /** Packs the panel of list entries [at, at + cols) (kept channels x taps rows). */
      const pack = (list: Int32Array, at: number, cols: number): void => {
        for (let j = 0; j < cols; j++) bases[j] = tl.posBase[list[at + j]];
        L.packPanel(planesAt, tl.planeSize, tapOff, nKept, bases, cols, bw, panelAt);
      };
      /** S of rows[0 .. count) over block columns [c0, c0 + cols) (list entries from `at`) = bias + correction. */
      const initSums = (rows: Int32Array, count: number, list: Int32Array, at: number, c0: number, cols: number): void => {
        for (let f = 0; f < count; f++) {
          const o = rows[f];
          const b = bias ? bias[g * m + o] : 0;
          const s = sAt + o * bw + c0;
          for (let j = 0; j < cols; j++) {
            let v = b;
            if (withCorr) {
              const p = list[at + j];
              const oy = Math.floor(p / outW);
              v += corrTable[o * nClasses + layout.rowClass[oy] * layout.nColClasses + layout.colClass[p - oy * outW]];
            }
            WS[s + j] = v;
          }
        }
      };
      /**
       * The tile of list entries [at, at + cols) at block column c0, pass 1 done for rows[0 .. count):
       * SPET's test per row, the rest for the survivors, the results stored.
       */
      const finishTile = (rows: Int32Array, count: number, list: Int32Array, at: number, c0: number, cols: number): void => {
        let nSurv = 0;
        for (let f = 0; f < count; f++) {
          const o = rows[f];
          if (spetOn) {
            const s = sAt + o * bw + c0;
            const map = outAt + o * positions;
            let saturated = true;
            for (let j = 0; j < cols && saturated; j++) {
              const v = addend ? WS[s + j] + addend[map + list[at + j]] : WS[s + j];
              if (!(v < limits[o])) saturated = false;
            }
            if (saturated) {
              for (let j = 0; j < cols; j++) {
                const i = map + list[at + j];
                y[i] = addend ? -addend[i] : 0;
                if (trace) trace[i] = NEURON_SPET_TERMINATED;
              }
              continue;
            }
          }
          survivors[nSurv++] = o;
        }
        macs += count * cols * k1 + nSurv * cols * (kK - k1);
        ops += count * cols * rowOps;
        if (spetOn) {
          tally.spetNeurons += count * cols;
          tally.spetTerminated += (count - nSurv) * cols;
        }
        L.rowsTimesPanel(survivors, nSurv, aAt, kK, k1, kK, panelAt, bw, c0, cols, sAt);
        for (let f = 0; f < nSurv; f++) {
          const o = survivors[f];
          const s = sAt + o * bw + c0;
          const map = outAt + o * positions;
          for (let j = 0; j < cols; j++) y[map + list[at + j]] = WS[s + j];
        }
      };

      // The listed positions: pass 1 over whole blocks, then tile by tile.
      for (let b0 = 0; b0 < listed.length; b0 += bw) {
        const cols = Math.min(bw, listed.length - b0);
        pack(listed, b0, cols);
        initSums(allRows, m, listed, b0, 0, cols);
        L.rowsTimesPanel(allRows, m, aAt, kK, 0, k1, panelAt, bw, 0, cols, sAt);
        for (let c0 = 0; c0 < cols; c0 += T) finishTile(allRows, m, listed, b0 + c0, c0, Math.min(T, cols - c0));
      }
      if (!order) continue;

      // SDSS: the grid rectified where the layer's output is, then the tiles off the grid.
      const nb = order.neighbours.neighbours;
      const nbCounts = order.neighbours.counts;
      const delta = state.sdssDelta;
      for (let o = 0; o < m; o++) {
        const map = outAt + o * positions;
        if (state.sdssRectified) {
          for (let j = 0; j < listed.length; j++) y[map + listed[j]] = rectify(y[map + listed[j]]);
          ops += listed.length;
        }
        tally.sdssOutputs += positions;
      }
      for (let b0 = 0; b0 < others.length; b0 += bw) {
        const cols = Math.min(bw, others.length - b0);
        let packed = false;
        for (let c0 = 0; c0 < cols; c0 += T) {
          const at = b0 + c0;
          const n1 = Math.min(T, cols - c0);
          let testOps = 0;
          let interpolateOps = 0;
          for (let j = 0; j < n1; j++) {
            testOps += order.testOps[at + j];
            interpolateOps += sdssInterpolateOps(nbCounts[at + j]);
          }
          let nFail = 0;
          for (let o = 0; o < m; o++) {
            const map = outAt + o * positions;
            const s = sAt + o * bw + c0;
            let pass = true;
            for (let j = 0; j < n1; j++) {
              const q = 4 * (at + j);
              const a = y[map + nb[q]];
              const b = y[map + nb[q + 1]];
              const c = y[map + nb[q + 2]];
              const d = y[map + nb[q + 3]];
              const mean = (a + b + (c + d)) * 0.25;
              WS[s + j] = mean;
              // max - min by comparisons (Math.max's variadic call costs more here); a NaN
              // anywhere makes the mean NaN, which fails the test as the reference's does.
              const hi = a > b ? a : b;
              const hi2 = c > d ? c : d;
              const lo = a < b ? a : b;
              const lo2 = c < d ? c : d;
              if (!((hi > hi2 ? hi : hi2) - (lo < lo2 ? lo : lo2) <= delta) || mean !== mean) pass = false;
            }
            ops += testOps;
            if (!pass) {
              rowList[nFail++] = o;
              continue;
            }
            for (let j = 0; j < n1; j++) {
              const i = map + others[at + j];
              y[i] = WS[s + j];
              if (trace) trace[i] = NEURON_SDSS_INTERPOLATED;
            }
            ops += interpolateOps;
            tally.sdssInterpolated += n1;
          }
          if (nFail === 0) continue;
          if (!packed) {
            pack(others, b0, cols);
            packed = true;
          }
          initSums(rowList, nFail, others, at, c0, n1);
          L.rowsTimesPanel(rowList, nFail, aAt, kK, 0, k1, panelAt, bw, c0, n1, sAt);
          finishTile(rowList, nFail, others, at, c0, n1);
        }
      }
    }
  }
  if (reluSlope !== undefined) {
    for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] *= reluSlope;
  }
  counts.macsExecuted += macs;
  counts.otherOps += ops;
  return y;
}

/** Whether two lists of kept order positions are the same. */
function sameChannels(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
