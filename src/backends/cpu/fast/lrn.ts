/**
 * Fast LRN, same formulas as the reference (see ../reference/lrn.ts) with running sums:
 * ACROSS_CHANNELS slides the channel window (add the entering square, subtract the leaving one,
 * in float64, as Caffe's CPU path does); WITHIN_CHANNEL sums the n x n window separably (rows,
 * then columns).
 *
 * Counting (what these loops execute): one multiply per squared input; ACROSS_CHANNELS one add per
 * square entering the window and one subtract per square leaving it, then 4 ops per output
 * (alpha/n multiply, add k, pow, multiply by x); WITHIN_CHANNEL one add per element of each
 * clipped row window and column window, then 5 ops per output (divide, multiply, add, pow, multiply).
 */
import type { Layer } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { lrnParams } from '../../../ir/layer-params.js';
import { blobPool } from '../blob-pool.js';

/** Runs an LRN layer with running window sums. */
export function lrnFast(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = lrnParams(layer);
  const { c: C, h: H, w: W } = layer.inputShapes[0];
  const x = inputs[0];
  const y = blobPool.take(x.length);
  if (p.region === 'across-channels') acrossChannels(x, y, batch, C, H * W, p.localSize, p.alpha, p.beta, p.k, counts);
  else withinChannel(x, y, batch * C, H, W, p.localSize, p.alpha, p.beta, counts);
  return [y];
}

function acrossChannels(
  x: Float32Array, y: Float32Array, batch: number, C: number, hw: number,
  size: number, alpha: number, beta: number, k: number, counts: OpCounts,
): void {
  const half = (size - 1) / 2;
  const alphaOverSize = alpha / size;
  const sq = new Float64Array(C * hw);
  const sum = new Float64Array(hw);
  let ops = 0;
  for (let n = 0; n < batch; n++) {
    const img = n * C * hw;
    for (let i = 0; i < C * hw; i++) {
      const v = x[img + i];
      sq[i] = v * v;
    }
    ops += C * hw;
    sum.fill(0);
    for (let c = 0; c < Math.min(half, C); c++) {
      for (let s = 0; s < hw; s++) sum[s] += sq[c * hw + s];
      ops += hw;
    }
    for (let c = 0; c < C; c++) {
      const enter = c + half;
      if (enter < C) {
        for (let s = 0; s < hw; s++) sum[s] += sq[enter * hw + s];
        ops += hw;
      }
      const leave = c - half - 1;
      if (leave >= 0) {
        for (let s = 0; s < hw; s++) sum[s] -= sq[leave * hw + s];
        ops += hw;
      }
      const o = img + c * hw;
      for (let s = 0; s < hw; s++) y[o + s] = x[o + s] * Math.pow(k + alphaOverSize * sum[s], -beta);
      ops += 4 * hw;
    }
  }
  counts.otherOps += ops;
}

function withinChannel(
  x: Float32Array, y: Float32Array, planes: number, H: number, W: number,
  size: number, alpha: number, beta: number, counts: OpCounts,
): void {
  const half = (size - 1) / 2;
  const area = size * size;
  const sq = new Float64Array(H * W);
  const rows = new Float64Array(H * W);
  let ops = 0;
  let windowAdds = 0;
  for (let w = 0; w < W; w++) windowAdds += Math.min(W - 1, w + half) - Math.max(0, w - half) + 1;
  let columnAdds = 0;
  for (let h = 0; h < H; h++) columnAdds += Math.min(H - 1, h + half) - Math.max(0, h - half) + 1;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let i = 0; i < H * W; i++) {
      const v = x[base + i];
      sq[i] = v * v;
    }
    for (let h = 0; h < H; h++) {
      const r = h * W;
      for (let w = 0; w < W; w++) {
        const w1 = Math.min(W - 1, w + half);
        let s = 0;
        for (let ww = Math.max(0, w - half); ww <= w1; ww++) s += sq[r + ww];
        rows[r + w] = s;
      }
    }
    for (let h = 0; h < H; h++) {
      const h0 = Math.max(0, h - half);
      const h1 = Math.min(H - 1, h + half);
      for (let w = 0; w < W; w++) {
        let s = 0;
        for (let hh = h0; hh <= h1; hh++) s += rows[hh * W + w];
        const at = base + h * W + w;
        y[at] = x[at] * Math.pow(1 + alpha * (s / area), -beta);
      }
    }
    ops += H * W + windowAdds * H + columnAdds * W + 5 * H * W;
  }
  counts.otherOps += ops;
}
