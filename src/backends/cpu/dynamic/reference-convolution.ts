/**
 * REFERENCE dynamic convolution: the composition of SFMA, SDSS and SPET with plain per-neuron
 * loops, each step read off the definitions (see spet.ts, sdss.ts, sfma.ts). Also serves the
 * inner product (a convolution whose kernel is the whole input map, see geometry.ts).
 *
 * Per image: SFMA's drops and means and the exact-mode channel ranges come from run-state.ts. Per
 * output channel o: with SDSS, the grid neurons are evaluated first, then every other neuron is
 * interpolated or evaluated; without SDSS every neuron is evaluated. Evaluating neuron (o, y, x),
 * in float64 (stored as float32), padding taps multiplying 0:
 *   acc = bias[o] (+ SFMA correction when the group has dropped maps), then
 *   - without SPET: acc += w * x over the kept channels ascending and their taps (ky-major), one
 *     term after the other;
 *   - with SPET: for each of o's significant kept channels c ascending, acc += cs(c), where cs(c)
 *     is the sum of the channel's w * x terms started from 0; the termination test; then the
 *     same for o's rest kept channels ascending.
 * Through a residual sum (state.addend) the test reads acc + addend[n] and a terminated neuron
 * stores -addend[n] (the sum after it is then exactly 0); survivors store acc as without it.
 * These orders are our choice; the fast kernels add the same terms in the same order (their
 * blocking needs the per-channel sums exactly when each row has its own channel lists), so that
 * both variants take the same SPET and SDSS decisions.
 *
 * Counting: every tap of every evaluated channel is one MAC (padding taps too, as on the dense
 * path); one otherOp per bias add, per correction add, per SPET test op and per SDSS op (see the
 * mechanism files).
 */
import { NEURON_SDSS_INTERPOLATED, NEURON_SPET_TERMINATED } from '../../../records/decisions.js';
import { type LayerCounters } from '../../../records/counters.js';
import type { CallState } from './run-state.js';
import { neighbourCount, rectify, sdssGrid, sdssInterpolate, sdssInterpolateOps, sdssTestOps } from '../../../mechanisms/sdss.js';
import { referenceCorrection } from '../../../mechanisms/sfma.js';
import { restBound, spetTerminates, spetTestOps } from '../../../mechanisms/spet.js';

/** Runs the reference dynamic layer on `x` (batch images) into a new output array. */
export function dynamicReference(state: CallState, x: Float32Array, counts: LayerCounters): Float32Array {
  const { geom, batch, spet, tally, trace, addend } = state;
  const { outC, outH, outW, cpg, m, inC, inSize, outSize, taps } = geom;
  const { weight, bias } = state.w;
  const y = new Float32Array(batch * outSize);
  const ops = new Float64Array(1);
  const grid = state.sdssStride > 0 ? sdssGrid(outH, outW, state.sdssStride) : null;

  /** acc + the taps of channel c for neuron (o, oy, ox), added one by one; from acc = 0 it is cs(c). */
  const channelAdd = (acc: number, img: number, g: number, o: number, c: number, oy: number, ox: number): number => {
    const plane = img * inSize + (g * cpg + c) * geom.planeSize;
    for (let ky = 0; ky < geom.kernelH; ky++) {
      const iy = oy * geom.strideH - geom.padH + ky * geom.dilationH;
      for (let kx = 0; kx < geom.kernelW; kx++) {
        const ix = ox * geom.strideW - geom.padW + kx * geom.dilationW;
        const v = iy >= 0 && iy < geom.inH && ix >= 0 && ix < geom.inW ? x[plane + iy * geom.inW + ix] : 0;
        acc += v * weight[((o * cpg + c) * geom.kernelH + ky) * geom.kernelW + kx];
      }
    }
    counts.macsExecuted += taps;
    return acc;
  };

  for (let img = 0; img < batch; img++) {
    for (let o = 0; o < outC; o++) {
      const g = Math.floor(o / m);
      const droppedList = state.droppedLists[img * geom.group + g];
      const kept = state.keptLists[img * geom.group + g];
      const hasDropped = droppedList.length > 0;
      const dropOffset = img * inC + g * cpg;
      ops[0] = 0;
      const bound = spet && state.exact
        ? restBound(spet, cpg, o, hasDropped ? state.dropped : null, dropOffset, state.range, 2 * (img * inC + g * cpg), ops)
        : 0;
      counts.otherOps += ops[0];

      const map = img * outSize + o * outH * outW;
      const evaluate = (oy: number, ox: number): number => {
        let acc = bias ? bias[o] : 0;
        if (bias) counts.otherOps += 1;
        if (hasDropped) {
          ops[0] = 0;
          acc += referenceCorrection(weight, geom, o, oy, ox, droppedList, droppedList.length, state.means, dropOffset, ops);
          counts.otherOps += ops[0] + 1;
        }
        if (!spet) {
          for (const c of kept) acc = channelAdd(acc, img, g, o, c, oy, ox);
          return acc;
        }
        for (let k = o * spet.nSig; k < (o + 1) * spet.nSig; k++) {
          const c = spet.sigChannels[k];
          if (!state.dropped[dropOffset + c]) acc += channelAdd(0, img, g, o, c, oy, ox);
        }
        tally.spetNeurons++;
        counts.otherOps += spetTestOps(state.exact);
        // Through a residual sum the test sees partial + addend, and a terminated neuron cancels it.
        const a = addend ? addend[map + oy * outW + ox] : 0;
        if (spetTerminates(state.exact, state.threshold, acc + a, bound)) {
          tally.spetTerminated++;
          if (trace) trace[map + oy * outW + ox] = NEURON_SPET_TERMINATED;
          return addend ? -a : 0;
        }
        for (let k = o * spet.nRest; k < (o + 1) * spet.nRest; k++) {
          const c = spet.restChannels[k];
          if (!state.dropped[dropOffset + c]) acc += channelAdd(0, img, g, o, c, oy, ox);
        }
        return acc;
      };

      if (!grid) {
        for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) y[map + oy * outW + ox] = evaluate(oy, ox);
        continue;
      }
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          if (!(grid.gridRow[oy] && grid.gridCol[ox])) continue;
          const v = evaluate(oy, ox);
          y[map + oy * outW + ox] = state.sdssRectified ? rectify(v) : v;
          if (state.sdssRectified) counts.otherOps += 1;
        }
      }
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          if (grid.gridRow[oy] && grid.gridCol[ox]) continue;
          const n = neighbourCount(grid, oy, ox);
          counts.otherOps += sdssTestOps(n);
          const v = sdssInterpolate(y, map, grid, oy, ox, state.sdssDelta);
          if (Number.isNaN(v)) {
            y[map + oy * outW + ox] = evaluate(oy, ox);
          } else {
            y[map + oy * outW + ox] = v;
            counts.otherOps += sdssInterpolateOps(n);
            tally.sdssInterpolated++;
            if (trace) trace[map + oy * outW + ox] = NEURON_SDSS_INTERPOLATED;
          }
        }
      }
      tally.sdssOutputs += outH * outW;
    }
  }
  return y;
}
