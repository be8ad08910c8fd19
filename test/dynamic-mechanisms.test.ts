import { describe, expect, it } from 'vitest';
import { convolutionGeometry } from '../src/mechanisms/geometry.js';
import { neighbourCount, sdssGrid, sdssInterpolate, sdssTestMap } from '../src/mechanisms/sdss.js';
import { correctionLayout, correctionTables, referenceCorrection, sfmaDecide } from '../src/mechanisms/sfma.js';
import { restBound, significantCount, spetPlan } from '../src/mechanisms/spet.js';
import { mulberry32 } from '../src/formats/synthetic-weights.js';
import { convOutputSize } from '../src/ir/layers/convolution.js';
import type { ConvolutionParams, Layer } from '../src/ir/network.js';

/** The offline plans and the decision functions of each mechanism, on small hand-made cases. */

function layerWith(weight: Float32Array, inC: number, outC: number, k: number, extra: Partial<ConvolutionParams> = {}, h = 8, w = 8): Layer {
  const p: ConvolutionParams = {
    numOutput: outC, kernelH: k, kernelW: k, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, group: 1, biasTerm: false, ...extra,
  };
  const oh = convOutputSize(h, p.kernelH, p.strideH, p.padH, p.dilationH);
  const ow = convOutputSize(w, p.kernelW, p.strideW, p.padW, p.dilationW);
  return {
    name: 'synthetic', params: { type: 'Convolution', conv: p }, bottoms: ['a'], tops: ['b'],
    inputShapes: [{ c: inC, h, w }], outputShapes: [{ c: outC, h: oh, w: ow }], weights: { weight },
  };
}

describe('SPET plan', () => {
  it('ranks channels by L1 norm, ties to the lower channel, and keeps each list ascending', () => {
    // 2 outputs x 4 channels x 1 tap. Output 0: |w| = 1, 3, 3, 2 -> order 1, 2, 3, 0.
    // Output 1: |w| = 5, 5, 5, 5 -> order 0, 1, 2, 3 (ties).
    const weight = Float32Array.from([1, -3, 3, 2, 5, -5, 5, -5]);
    const layer = layerWith(weight, 4, 2, 1);
    const geom = convolutionGeometry(layer);
    const plan = spetPlan(layer.weights!, geom, 0.5);
    expect(plan.nSig).toBe(2);
    expect(Array.from(plan.sigChannels)).toEqual([1, 2, 0, 1]);
    expect(Array.from(plan.restChannels)).toEqual([0, 3, 2, 3]);
    expect(Array.from(plan.rowsOfChannel.map((r) => Array.from(r)))).toEqual([[1], [0, 1], [0], []]);
    // Exact-mode bounds over the rest, per channel range [lo_c, hi_c]: output 0 rest {0: w 1,
    // 3: w 2}; output 1 rest {2: w 5, 3: w -5}.
    const ranges = Float64Array.from([-1, 2, 0, 0, -2, 3, -4, 10]);
    const ops = new Float64Array(1);
    expect(restBound(plan, 4, 0, null, 0, ranges, 0, ops)).toBe(1 * 2 + 2 * 10);
    expect(restBound(plan, 4, 1, null, 0, ranges, 0, ops)).toBe(5 * 3 + -5 * -4);
    expect(ops[0]).toBe(16);
    // A channel SFMA dropped leaves the bound.
    expect(restBound(plan, 4, 0, Uint8Array.from([0, 0, 0, 1]), 0, ranges, 0, ops)).toBe(2);
    // Cached per weights and fraction.
    expect(spetPlan(layer.weights!, geom, 0.5)).toBe(plan);
    expect(spetPlan(layer.weights!, geom, 0.25)).not.toBe(plan);
  });

  it('uses ceil(fraction x channels), robust to float products', () => {
    expect(significantCount(0.1, 30)).toBe(3);
    expect(significantCount(0.34, 3)).toBe(2);
    expect(significantCount(1 / 3, 3)).toBe(1);
    expect(significantCount(0, 16)).toBe(0);
    expect(significantCount(1, 16)).toBe(16);
    expect(significantCount(0.01, 16)).toBe(1);
  });
});

describe('SDSS grid', () => {
  it('takes every stride-th row and column plus the last', () => {
    const rows = (h: number, s: number): number[] => Array.from(sdssGrid(h, 1, s).gridRow).flatMap((v, i) => (v ? [i] : []));
    expect(rows(5, 2)).toEqual([0, 2, 4]);
    expect(rows(6, 2)).toEqual([0, 2, 4, 5]);
    expect(rows(6, 4)).toEqual([0, 4, 5]);
    expect(rows(1, 2)).toEqual([0]);
    expect(rows(3, 7)).toEqual([0, 2]);
  });

  it('brackets every non-grid neuron by grid neurons: 2 on a grid row or column, else 4', () => {
    for (const [h, w, s] of [[8, 8, 2], [7, 10, 3], [13, 13, 2], [5, 2, 4]]) {
      const g = sdssGrid(h, w, s);
      const onGrid = (p: number): boolean => g.gridRow[Math.floor(p / w)] === 1 && g.gridCol[p % w] === 1;
      expect(g.grid.length + g.others.length).toBe(h * w);
      expect(g.pairs.length / 3 + g.cells.length / 5).toBe(g.others.length);
      for (let k = 0; k < g.pairs.length; k += 3) {
        const [p, a, b] = [g.pairs[k], g.pairs[k + 1], g.pairs[k + 2]];
        expect(onGrid(p)).toBe(false);
        expect(onGrid(a) && onGrid(b)).toBe(true);
        expect(neighbourCount(g, Math.floor(p / w), p % w)).toBe(2);
        // Left/right on the same row, or up/down in the same column, on both sides of p.
        const sameRow = Math.floor(a / w) === Math.floor(p / w) && Math.floor(b / w) === Math.floor(p / w);
        const sameCol = a % w === p % w && b % w === p % w;
        expect(sameRow || sameCol).toBe(true);
        expect(a < p && p < b).toBe(true);
      }
      for (let k = 0; k < g.cells.length; k += 5) {
        const p = g.cells[k];
        const [y, x] = [Math.floor(p / w), p % w];
        const [tl, tr, bl, br] = [g.cells[k + 1], g.cells[k + 2], g.cells[k + 3], g.cells[k + 4]];
        expect([tl, tr, bl, br].every(onGrid)).toBe(true);
        expect(Math.floor(tl / w) < y && Math.floor(bl / w) > y && tl % w < x && tr % w > x).toBe(true);
      }
    }
  });

  it('the fast whole-map test decides and interpolates exactly as the per-neuron reference', () => {
    const random = mulberry32(11);
    const special = [NaN, Infinity, -Infinity, 0, -0, 1, 1, 1];
    for (const delta of [0, 0.25, 1, Infinity]) {
      for (let trial = 0; trial < 30; trial++) {
        const [h, w, s] = [5 + (trial % 7), 4 + (trial % 5), 2 + (trial % 3)];
        const g = sdssGrid(h, w, s);
        const map = new Float32Array(h * w);
        for (let i = 0; i < map.length; i++) {
          const r = random();
          // Many ties (the d = 0 case), some special values, the rest small noise.
          map[i] = r < 0.4 ? 0.5 : r < 0.5 ? special[Math.floor(random() * special.length)] : Math.round(random() * 8) / 8;
        }
        const ref = map.slice();
        let refFailing = 0;
        for (const p of g.others) {
          const v = sdssInterpolate(map, 0, g, Math.floor(p / w), p % w, delta);
          if (Number.isNaN(v)) {
            refFailing++;
            ref[p] = -12345; // evaluated later: any value
          } else {
            ref[p] = v;
          }
        }
        const fast = map.slice();
        const failing = new Int32Array(g.others.length);
        const ops = new Float64Array(2);
        const n = sdssTestMap(fast, 0, g, delta, failing, 0, ops);
        expect(n).toBe(refFailing);
        expect(ops[1]).toBe(g.others.length - refFailing);
        for (const p of failing.subarray(0, n)) fast[p] = -12345;
        expect(Array.from(fast)).toEqual(Array.from(ref));
      }
    }
  });
});

describe('SFMA decisions and corrections', () => {
  it('drops constant and all-zero maps at epsilon 0, nearly constant ones only with a larger epsilon', () => {
    const plane = 25;
    const x = new Float32Array(4 * plane);
    x.fill(0.1, 0, plane); // constant (not exactly representable: the sum must still be exact)
    x.fill(0, plane, 2 * plane); // all zero
    for (let i = 0; i < plane; i++) x[2 * plane + i] = 3 + (i === 7 ? 1e-3 : 0); // nearly constant
    for (let i = 0; i < plane; i++) x[3 * plane + i] = i; // varying
    const means = new Float64Array(4);
    const dropped = new Uint8Array(4);
    expect(sfmaDecide(x, 0, 4, plane, 0, means, dropped, 0)).toBe(2);
    expect(Array.from(dropped)).toEqual([1, 1, 0, 0]);
    expect(means[0]).toBe(Math.fround(0.1));
    expect(sfmaDecide(x, 0, 4, plane, 1e-6, means, dropped, 0)).toBe(3);
    expect(Array.from(dropped)).toEqual([1, 1, 1, 0]);
  });

  it('the fast border-class tables add the same terms as the per-neuron reference', () => {
    const random = mulberry32(5);
    for (const extra of [{ padH: 2, padW: 1, strideH: 2, strideW: 1 }, { padH: 3, padW: 3, dilationH: 2, dilationW: 3, strideH: 1, strideW: 2 }, { padH: 0, padW: 0 }]) {
      const inC = 5;
      const outC = 3;
      const k = 3;
      const weight = new Float32Array(outC * inC * k * k).map(() => random() - 0.5);
      const layer = layerWith(weight, inC, outC, k, extra, 9, 11);
      const geom = convolutionGeometry(layer);
      const layout = correctionLayout(geom);
      const droppedList = Int32Array.from([0, 2, 3]);
      const means = Float64Array.from([0.7, 9, -1.3, 0.25, 9]);
      const table = new Float64Array(outC * layout.nRowClasses * layout.nColClasses);
      correctionTables(weight, geom, layout, 0, outC, droppedList, 3, means, 0, table, new Float64Array(k * k));
      const ops = new Float64Array(1);
      for (let o = 0; o < outC; o++) {
        for (let oy = 0; oy < geom.outH; oy++) {
          for (let ox = 0; ox < geom.outW; ox++) {
            const ref = referenceCorrection(weight, geom, o, oy, ox, droppedList, 3, means, 0, ops);
            const cls = layout.rowClass[oy] * layout.nColClasses + layout.colClass[ox];
            expect(table[o * layout.nRowClasses * layout.nColClasses + cls]).toBe(ref);
          }
        }
      }
    }
  });
});
