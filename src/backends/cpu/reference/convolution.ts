/**
 * Reference convolution: direct nested loops, exactly Caffe's definition (groups, dilation,
 * separate h/w kernel, stride and pad, optional bias). Sums are accumulated in double precision
 * (JS numbers) and stored as float32.
 *
 * Counting: every output value runs (inC / group) x kh x kw multiply-adds, padding taps included
 * (they multiply a zero, as the dense GEMM path does), so macsExecuted += that count per output
 * plane; each bias add is one otherOp (outC x outH x outW per image).
 */
import type { Layer } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { checkedWeights, convParams } from '../../../ir/layer-params.js';

/** Runs a Convolution layer with plain loops. */
export function convolutionReference(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = convParams(layer);
  const { c: inC, h: inH, w: inW } = layer.inputShapes[0];
  const { c: outC, h: outH, w: outW } = layer.outputShapes[0];
  const icPerGroup = inC / p.group;
  const ocPerGroup = outC / p.group;
  const kh = p.kernelH;
  const kw = p.kernelW;
  const taps = icPerGroup * kh * kw;
  const { weight, bias } = checkedWeights(layer, outC * taps, p.biasTerm, outC);
  const x = inputs[0];
  const y = new Float32Array(batch * outC * outH * outW);
  const inSize = inC * inH * inW;
  const outSize = outC * outH * outW;

  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outC; oc++) {
      const g = Math.floor(oc / ocPerGroup);
      const firstIc = g * icPerGroup;
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          let acc = 0;
          for (let icg = 0; icg < icPerGroup; icg++) {
            const plane = n * inSize + (firstIc + icg) * inH * inW;
            for (let ky = 0; ky < kh; ky++) {
              const ih = oh * p.strideH - p.padH + ky * p.dilationH;
              for (let kx = 0; kx < kw; kx++) {
                const iw = ow * p.strideW - p.padW + kx * p.dilationW;
                const inside = ih >= 0 && ih < inH && iw >= 0 && iw < inW;
                const v = inside ? x[plane + ih * inW + iw] : 0;
                acc += v * weight[((oc * icPerGroup + icg) * kh + ky) * kw + kx];
              }
            }
          }
          if (bias) acc += bias[oc];
          y[n * outSize + (oc * outH + oh) * outW + ow] = acc;
        }
      }
      counts.macsExecuted += outH * outW * taps;
      if (bias) counts.otherOps += outH * outW;
    }
  }
  return [y];
}
