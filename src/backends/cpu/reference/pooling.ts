/**
 * Reference pooling, a line-by-line transcription of Caffe's pooling_layer.cpp (Forward_cpu):
 * MAX over the window clipped to the input; AVE divides the sum over the clipped window by the
 * window size clipped to input + pad only (so padding counts in the divisor at the borders).
 * Global pooling takes the whole map as the kernel.
 *
 * Counting: MAX runs one comparison per element of the clipped window; AVE one add per element
 * of the clipped window plus one divide per output.
 */
import type { Layer } from '../../../ir/network.js';
import { poolKernel } from '../../../ir/layers/pooling.js';
import { type OpCounts } from '../../../records/counters.js';
import { poolParams } from '../../../ir/layer-params.js';

/** Caffe initialises its running maximum to -FLT_MAX. */
export const NEG_FLT_MAX = -3.4028234663852886e38;

/** Runs a Pooling layer with plain loops. */
export function poolingReference(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = poolParams(layer);
  const input = layer.inputShapes[0];
  const { c: C, h: H, w: W } = input;
  const { h: outH, w: outW } = layer.outputShapes[0];
  const [kernelH, kernelW] = poolKernel(p, input);
  const x = inputs[0];
  const y = new Float32Array(batch * C * outH * outW);
  let ops = 0;

  for (let plane = 0; plane < batch * C; plane++) {
    const xOff = plane * H * W;
    const yOff = plane * outH * outW;
    for (let ph = 0; ph < outH; ph++) {
      for (let pw = 0; pw < outW; pw++) {
        let hstart = ph * p.strideH - p.padH;
        let wstart = pw * p.strideW - p.padW;
        if (p.method === 'max') {
          const hend = Math.min(hstart + kernelH, H);
          const wend = Math.min(wstart + kernelW, W);
          hstart = Math.max(hstart, 0);
          wstart = Math.max(wstart, 0);
          let m = NEG_FLT_MAX;
          for (let h = hstart; h < hend; h++) {
            for (let w = wstart; w < wend; w++) {
              const v = x[xOff + h * W + w];
              if (v > m) m = v;
            }
          }
          ops += (hend - hstart) * (wend - wstart);
          y[yOff + ph * outW + pw] = m;
        } else {
          let hend = Math.min(hstart + kernelH, H + p.padH);
          let wend = Math.min(wstart + kernelW, W + p.padW);
          const poolSize = (hend - hstart) * (wend - wstart);
          hstart = Math.max(hstart, 0);
          wstart = Math.max(wstart, 0);
          hend = Math.min(hend, H);
          wend = Math.min(wend, W);
          let sum = 0;
          for (let h = hstart; h < hend; h++) {
            for (let w = wstart; w < wend; w++) sum += x[xOff + h * W + w];
          }
          ops += (hend - hstart) * (wend - wstart) + 1;
          y[yOff + ph * outW + pw] = sum / poolSize;
        }
      }
    }
  }
  counts.otherOps += ops;
  return [y];
}
