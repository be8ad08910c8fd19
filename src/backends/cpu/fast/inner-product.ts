/**
 * Fast inner product through the blocked GEMM, weights as the left operand:
 * Y^T (out x batch) = W (out x in) x X^T (in x batch), then transposed into Y (batch x out).
 * Both operands are then contiguous along k, so batches up to 16 take the GEMM's unpacked skinny
 * kernel (packing W would cost as much as the product) and larger ones pack W's rows with
 * contiguous reads.
 *
 * Counting: macsExecuted += batch x out x in (all executed); one otherOp per bias add.
 */
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { checkedWeights, ipParams } from '../../../ir/layer-params.js';
import { gemm } from './gemm.js';

/** Runs an InnerProduct layer with the GEMM. */
export function innerProductFast(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = ipParams(layer);
  const inSize = shapeSize(layer.inputShapes[0]);
  const out = p.numOutput;
  const { weight, bias } = checkedWeights(layer, out * inSize, p.biasTerm, out);
  const yt = batch === 1 ? new Float32Array(out) : new Float32Array(out * batch);
  if (bias) {
    for (let o = 0; o < out; o++) yt.fill(bias[o], o * batch, (o + 1) * batch);
    counts.otherOps += batch * out;
  }
  gemm(
    out, batch, inSize,
    { data: weight, offset: 0, ld: inSize },
    { data: inputs[0], offset: 0, ld: inSize, trans: true },
    { data: yt, offset: 0, ld: batch },
  );
  counts.macsExecuted += batch * out * inSize;
  if (batch === 1) return [yt];
  const y = new Float32Array(batch * out);
  for (let o = 0; o < out; o++) {
    for (let n = 0; n < batch; n++) y[n * out + o] = yt[o * batch + n];
  }
  return [y];
}
