/**
 * Fast pooling, same windows as the reference (Caffe's pooling_layer.cpp, see
 * ../reference/pooling.ts), computed separably: first along each input row for every output
 * column window, then down the columns of that row buffer for every output row window. A max (or
 * sum) over a rectangle is the max (sum) of the per-row maxima (sums), so MAX is bit-identical for
 * finite inputs; AVE only changes the order of the additions.
 *
 * MAX uses the branch-free max(a, b) = (a + b + |a - b|) / 2: on real activations the comparison
 * branch mispredicts about half the time, which made the reference loop 2.5x slower. For float32
 * inputs the float64 result is exact, or off by a float64 rounding that the final float32 store
 * removes. Unlike Caffe's comparison it propagates NaN and is undefined for -Infinity; neither
 * occurs in a finite network.
 *
 * Counting (what these loops execute): one op per max/add combining two values, i.e. (width - 1)
 * per row window and (height - 1) per output, plus one divide per output for AVE.
 */
import type { Layer } from '../../../ir/network.js';
import { poolKernel } from '../../../ir/layers/pooling.js';
import { type OpCounts } from '../../../records/counters.js';
import { poolParams } from '../../../ir/layer-params.js';
import { blobPool } from '../blob-pool.js';

/** Clipped window bounds [start, end) along one axis for every output index. */
function windows(out: number, size: number, kernel: number, stride: number, pad: number): { start: Int32Array; end: Int32Array; divisor: Int32Array } {
  const start = new Int32Array(out);
  const end = new Int32Array(out);
  const divisor = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    const s = o * stride - pad;
    const e = Math.min(s + kernel, size + pad);
    divisor[o] = e - s;
    start[o] = Math.max(s, 0);
    end[o] = Math.min(e, size);
  }
  return { start, end, divisor };
}

/** Runs a Pooling layer separably. */
export function poolingFast(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = poolParams(layer);
  const input = layer.inputShapes[0];
  const { c: C, h: H, w: W } = input;
  const { h: outH, w: outW } = layer.outputShapes[0];
  const [kernelH, kernelW] = poolKernel(p, input);
  const rowsW = windows(outW, W, kernelW, p.strideW, p.padW);
  const colsH = windows(outH, H, kernelH, p.strideH, p.padH);
  const x = inputs[0];
  const y = blobPool.take(batch * C * outH * outW);
  const rows = new Float64Array(H * outW);
  const isMax = p.method === 'max';

  let opsPerPlane = 0;
  for (let o = 0; o < outW; o++) opsPerPlane += H * (rowsW.end[o] - rowsW.start[o] - 1);
  for (let o = 0; o < outH; o++) opsPerPlane += outW * (colsH.end[o] - colsH.start[o] - 1 + (isMax ? 0 : 1));

  for (let plane = 0; plane < batch * C; plane++) {
    const xOff = plane * H * W;
    const yOff = plane * outH * outW;
    for (let h = 0; h < H; h++) {
      const r = xOff + h * W;
      for (let pw = 0; pw < outW; pw++) {
        const we = r + rowsW.end[pw];
        let i = r + rowsW.start[pw];
        let m = x[i];
        if (isMax) {
          for (i++; i < we; i++) {
            const v = x[i];
            m = (m + v + Math.abs(m - v)) * 0.5;
          }
        } else {
          for (i++; i < we; i++) m += x[i];
        }
        rows[h * outW + pw] = m;
      }
    }
    for (let ph = 0; ph < outH; ph++) {
      const hs = colsH.start[ph];
      const he = colsH.end[ph];
      for (let pw = 0; pw < outW; pw++) {
        let m = rows[hs * outW + pw];
        if (isMax) {
          for (let h = hs + 1; h < he; h++) {
            const v = rows[h * outW + pw];
            m = (m + v + Math.abs(m - v)) * 0.5;
          }
          y[yOff + ph * outW + pw] = m;
        } else {
          for (let h = hs + 1; h < he; h++) m += rows[h * outW + pw];
          y[yOff + ph * outW + pw] = m / (colsH.divisor[ph] * rowsW.divisor[pw]);
        }
      }
    }
  }
  counts.otherOps += opsPerPlane * batch * C;
  return [y];
}
