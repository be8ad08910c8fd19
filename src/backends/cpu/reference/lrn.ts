/**
 * Reference local response normalisation, as Caffe computes it.
 *
 * ACROSS_CHANNELS: scale = k + alpha / n * sum of x^2 over channels c - (n-1)/2 .. c + (n-1)/2
 * (clipped to the existing channels), y = x * scale^-beta.
 * WITHIN_CHANNEL (Caffe builds it from Power, Pooling and Eltwise layers): avg = the sum of x^2 over
 * the n x n window centred at the pixel, zero padded, divided by n*n (the AVE pooling divisor
 * with pad (n-1)/2 is always n*n); y = x * (1 + alpha * avg)^-beta. k is not used there.
 *
 * Counting, per output value: 2 ops (square, add) per element of the clipped window, then
 * ACROSS_CHANNELS 4 ops (alpha/n multiply, add k, pow, multiply by x), WITHIN_CHANNEL 5 (divide by
 * n*n, multiply by alpha, add 1, pow, multiply by x).
 */
import type { Layer } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { lrnParams } from '../../../ir/layer-params.js';

/** Runs an LRN layer with plain loops. */
export function lrnReference(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = lrnParams(layer);
  const { c: C, h: H, w: W } = layer.inputShapes[0];
  const x = inputs[0];
  const y = new Float32Array(x.length);
  const half = (p.localSize - 1) / 2;
  const hw = H * W;
  let ops = 0;

  for (let n = 0; n < batch; n++) {
    const img = n * C * hw;
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const at = img + c * hw + h * W + w;
          let sum = 0;
          let scale: number;
          if (p.region === 'across-channels') {
            const c0 = Math.max(0, c - half);
            const c1 = Math.min(C - 1, c + half);
            for (let cc = c0; cc <= c1; cc++) {
              const v = x[img + cc * hw + h * W + w];
              sum += v * v;
            }
            ops += 2 * (c1 - c0 + 1) + 4;
            scale = p.k + (p.alpha / p.localSize) * sum;
          } else {
            const h0 = Math.max(0, h - half);
            const h1 = Math.min(H - 1, h + half);
            const w0 = Math.max(0, w - half);
            const w1 = Math.min(W - 1, w + half);
            for (let hh = h0; hh <= h1; hh++) {
              for (let ww = w0; ww <= w1; ww++) {
                const v = x[img + c * hw + hh * W + ww];
                sum += v * v;
              }
            }
            ops += 2 * (h1 - h0 + 1) * (w1 - w0 + 1) + 5;
            scale = 1 + p.alpha * (sum / (p.localSize * p.localSize));
          }
          y[at] = x[at] * Math.pow(scale, -p.beta);
        }
      }
    }
  }
  counts.otherOps += ops;
  return [y];
}
