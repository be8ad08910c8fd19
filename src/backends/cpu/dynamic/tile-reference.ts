/**
 * The REFERENCE of tile mode (src/mechanisms/tile-plan.ts has the semantics): plain float64 loops,
 * one neuron at a time, no blocking. It is the oracle of the fast (WebAssembly, float32) tile
 * kernels, and what the TypeScript variants run for a tile-mode layer.
 * Per neuron, a sum over channels in kept order, each channel's taps ky-major, in float64.
 * Through a residual sum (state.addend) a tile saturates when every s + addend is below its limit,
 * and its neurons store -addend (the sum after the layer is then exactly 0).
 */
import type { LayerCounters } from '../../../records/counters.js';
import { NEURON_SDSS_INTERPOLATED, NEURON_SPET_TERMINATED } from '../../../records/decisions.js';
import { correctionLayout, correctionTables } from '../../../mechanisms/sfma.js';
import { rectify, sdssInterpolateOps, sdssTestOps } from '../../../mechanisms/sdss.js';
import { spetTestOps } from '../../../mechanisms/spet.js';
import { indexRange, keptOrder, sdssTileOrder, tileRestBound, tileRestBoundOps, type KeptOrder, type TilePlan } from '../../../mechanisms/tile-plan.js';
import type { CallState } from './run-state.js';

/**
 * Runs a tile-mode Convolution on the batch of `state` (input x), T = `tilePositions`. Adds what
 * it executed to `counts` and the mechanism statistics to state.tally.
 */
export function tileReference(state: CallState, plan: TilePlan, tilePositions: number, x: Float32Array, counts: LayerCounters): Float32Array {
  const { geom, batch, tally, trace, addend } = state;
  const { outC, cpg, m, group, taps, positions, outW, inSize, outSize, kernelH, kernelW } = geom;
  const weight = state.w.weight;
  const bias = state.w.bias;
  const y = new Float32Array(batch * outSize);
  const spetOn = state.spet !== null;
  const order = state.sdssStride > 0 ? sdssTileOrder(geom.outH, outW, state.sdssStride, state.sdssPattern) : null;
  const listed = order ? order.grid : indexRange(positions);
  const layout = correctionLayout(geom);
  const nClasses = layout.nRowClasses * layout.nColClasses;
  const corrTable = new Float64Array(m * nClasses);
  const kScratch = new Float64Array(taps);
  const s = new Float64Array(tilePositions);
  let macs = 0;
  let ops = 0;

  for (let img = 0; img < batch; img++) {
    const xImg = img * inSize;
    for (let g = 0; g < group; g++) {
      const kept: KeptOrder = keptOrder(plan, cpg, g, state.sfmaOn ? state.dropped : null, img * geom.inC);
      const nKept = kept.channels.length;
      const dropList = state.droppedLists[img * group + g];
      const withCorr = state.sfmaOn && dropList.length > 0;
      if (withCorr) {
        ops += correctionTables(state.w.weight, geom, layout, g * m, m, dropList, dropList.length, state.means, img * geom.inC + g * cpg, corrTable, kScratch);
      }
      // The sum over kept channels [from, to) of neuron (o, p), float64, kept order, taps ky-major.
      const partial = (o: number, p: number, from: number, to: number): number => {
        const oy = Math.floor(p / outW);
        const ox = p - oy * outW;
        let acc = 0;
        for (let j = from; j < to; j++) {
          const c = kept.channels[j];
          const wRow = (o * cpg + c) * taps;
          const plane = xImg + (g * cpg + c) * geom.planeSize;
          for (let ky = 0; ky < kernelH; ky++) {
            const iy = oy * geom.strideH - geom.padH + ky * geom.dilationH;
            if (iy < 0 || iy >= geom.inH) continue;
            for (let kx = 0; kx < kernelW; kx++) {
              const ix = ox * geom.strideW - geom.padW + kx * geom.dilationW;
              if (ix < 0 || ix >= geom.inW) continue;
              acc += weight[wRow + ky * kernelW + kx] * x[plane + iy * geom.inW + ix];
            }
          }
        }
        return acc;
      };
      // Evaluates entries [j0, j1) of `list` for output channel o as ONE tile (limit: SPET's).
      const evaluateTile = (o: number, list: Int32Array, j0: number, j1: number, limit: number): void => {
        const oOut = img * outSize + o * positions;
        const oRel = o - g * m;
        const nPre = spetOn ? kept.nPrefix : nKept;
        let saturated = spetOn;
        for (let j = j0; j < j1; j++) {
          const p = list[j];
          let v = bias ? bias[o] : 0;
          if (withCorr) v += corrTable[oRel * nClasses + layout.rowClass[Math.floor(p / outW)] * layout.nColClasses + layout.colClass[p % outW]];
          v += partial(o, p, 0, nPre);
          s[j - j0] = v;
          // Through a residual sum the test reads v + addend.
          if (!((addend ? v + addend[oOut + p] : v) < limit)) saturated = false;
        }
        const n = j1 - j0;
        macs += n * nPre * taps;
        ops += n * ((bias ? 1 : 0) + (withCorr ? 1 : 0));
        if (spetOn) {
          ops += n * spetTestOps(state.exact);
          tally.spetNeurons += n;
        }
        if (saturated) {
          tally.spetTerminated += n;
          for (let j = j0; j < j1; j++) {
            y[oOut + list[j]] = addend ? -addend[oOut + list[j]] : 0;
            if (trace) trace[oOut + list[j]] = NEURON_SPET_TERMINATED;
          }
          return;
        }
        macs += n * (nKept - nPre) * taps;
        for (let j = j0; j < j1; j++) {
          const p = list[j];
          y[oOut + p] = s[j - j0] + (nPre < nKept ? partial(o, p, nPre, nKept) : 0);
          if (trace) trace[oOut + p] = 0;
        }
      };

      for (let o = g * m; o < (g + 1) * m; o++) {
        let limit = state.thresholds ? state.thresholds[o] : state.threshold;
        if (spetOn && state.exact) {
          limit = -tileRestBound(plan, cpg, o, kept, state.range, 2 * (img * geom.inC + g * cpg));
          ops += tileRestBoundOps(kept);
        }
        for (let j0 = 0; j0 < listed.length; j0 += tilePositions) {
          evaluateTile(o, listed, j0, Math.min(listed.length, j0 + tilePositions), limit);
        }
        if (!order) continue;
        const oOut = img * outSize + o * positions;
        if (state.sdssRectified) {
          for (const p of order.grid) y[oOut + p] = rectify(y[oOut + p]);
          ops += order.grid.length;
        }
        const table = order.neighbours;
        const others = order.others;
        tally.sdssOutputs += positions;
        for (let j0 = 0; j0 < others.length; j0 += tilePositions) {
          const j1 = Math.min(others.length, j0 + tilePositions);
          let pass = true;
          for (let j = j0; j < j1; j++) {
            const nb = table.neighbours;
            const a = y[oOut + nb[4 * j]];
            const b = y[oOut + nb[4 * j + 1]];
            const c = y[oOut + nb[4 * j + 2]];
            const d = y[oOut + nb[4 * j + 3]];
            const mean = (a + b + (c + d)) * 0.25;
            const spread = Math.max(a, b, c, d) - Math.min(a, b, c, d);
            s[j - j0] = mean;
            if (!(spread <= state.sdssDelta) || Number.isNaN(mean)) pass = false;
            ops += sdssTestOps(table.counts[j]);
          }
          if (pass) {
            for (let j = j0; j < j1; j++) {
              y[oOut + others[j]] = s[j - j0];
              ops += sdssInterpolateOps(table.counts[j]);
              if (trace) trace[oOut + others[j]] = NEURON_SDSS_INTERPOLATED;
            }
            tally.sdssInterpolated += j1 - j0;
          } else {
            evaluateTile(o, others, j0, j1, limit);
          }
        }
      }
    }
  }
  counts.macsExecuted += macs;
  counts.otherOps += ops;
  return y;
}
