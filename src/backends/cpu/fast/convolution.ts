/**
 * Fast convolution: per image and group, im2col (skipped for 1x1 / stride 1 / pad 0, where the
 * input planes already are the column matrix) then C = W x columns with the blocked GEMM, C
 * initialised with the bias.
 *
 * Counting: macsExecuted += M x N x K for every GEMM call (M = outC/group, N = outH*outW,
 * K = inC/group*kh*kw): the GEMM runs all of them, padding zeros included, so a whole layer counts
 * exactly its dense MACs. Bias initialisation counts one otherOp per output value (the add of the
 * bias to the sum). Zero padding of edge tiles inside the GEMM is not counted.
 */
import type { Layer } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { checkedWeights, convParams } from '../../../ir/layer-params.js';
import { gemm } from './gemm.js';
import { columnBuffer, im2col, type ConvGeometry } from './im2col.js';
import { blobPool } from '../blob-pool.js';

/** Runs a Convolution layer with im2col + GEMM. */
export function convolutionFast(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = convParams(layer);
  const { c: inC, h: inH, w: inW } = layer.inputShapes[0];
  const { c: outC, h: outH, w: outW } = layer.outputShapes[0];
  const icPerGroup = inC / p.group;
  const m = outC / p.group;
  const n = outH * outW;
  const k = icPerGroup * p.kernelH * p.kernelW;
  const { weight, bias } = checkedWeights(layer, outC * k, p.biasTerm, outC);
  const x = inputs[0];
  // The GEMM accumulates onto y: the bias, or zeros.
  const y = bias ? blobPool.take(batch * outC * n) : blobPool.zeros(batch * outC * n);
  const inSize = inC * inH * inW;
  const pointwise = p.kernelH === 1 && p.kernelW === 1 && p.strideH === 1 && p.strideW === 1 && p.padH === 0 && p.padW === 0;
  const geometry: ConvGeometry = {
    channels: icPerGroup, height: inH, width: inW,
    kernelH: p.kernelH, kernelW: p.kernelW, padH: p.padH, padW: p.padW,
    strideH: p.strideH, strideW: p.strideW, dilationH: p.dilationH, dilationW: p.dilationW,
    outH, outW,
  };
  const columns = pointwise ? x : columnBuffer(k * n);

  for (let img = 0; img < batch; img++) {
    for (let g = 0; g < p.group; g++) {
      const planes = img * inSize + g * icPerGroup * inH * inW;
      const cOff = (img * outC + g * m) * n;
      if (bias) {
        for (let oc = 0; oc < m; oc++) y.fill(bias[g * m + oc], cOff + oc * n, cOff + (oc + 1) * n);
        counts.otherOps += m * n;
      }
      if (!pointwise) im2col(x, planes, geometry, columns);
      gemm(
        m, n, k,
        { data: weight, offset: g * m * k, ld: k },
        { data: columns, offset: pointwise ? planes : 0, ld: n },
        { data: y, offset: cOff, ld: n },
      );
      counts.macsExecuted += m * n * k;
    }
  }
  return [y];
}
