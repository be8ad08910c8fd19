/**
 * Reference inner product: y[o] = sum_i W[o, i] * x[i] (+ bias[o]), x the image's CHW blob
 * flattened. Sums are accumulated in double precision and stored as float32.
 *
 * Counting: each output runs `in` multiply-adds (macsExecuted) and one bias add (otherOps).
 */
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { checkedWeights, ipParams } from '../../../ir/layer-params.js';

/** Runs an InnerProduct layer with plain loops. */
export function innerProductReference(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = ipParams(layer);
  const inSize = shapeSize(layer.inputShapes[0]);
  const out = p.numOutput;
  const { weight, bias } = checkedWeights(layer, out * inSize, p.biasTerm, out);
  const x = inputs[0];
  const y = new Float32Array(batch * out);
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < out; o++) {
      let acc = 0;
      for (let i = 0; i < inSize; i++) acc += weight[o * inSize + i] * x[n * inSize + i];
      if (bias) acc += bias[o];
      y[n * out + o] = acc;
    }
    counts.macsExecuted += out * inSize;
    if (bias) counts.otherOps += out;
  }
  return [y];
}
