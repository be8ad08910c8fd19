/**
 * The `wasm` InnerProduct kernel: Y (batch x out) = bias + X (batch x in) x W^T in one call of
 * wasm/assembly/inner-product.ts; W^T is packed once per layer in 8-column panels (cached by
 * WasmKernels), X packed per call.
 *
 * Counting, as innerProductFast: macsExecuted += batch x out x in; one otherOp per bias add.
 */
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { checkedWeights, ipParams } from '../../../ir/layer-params.js';
import { activeWasmKernels } from './wasm-loader.js';

/**
 * Runs an InnerProduct layer with the WebAssembly kernels (initWasmKernels() must have completed);
 * `reluSlope`: the following ReLU on the output in linear memory, as convolutionWasm.
 */
export function innerProductWasm(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts, reluSlope?: number): Float32Array[] {
  const p = ipParams(layer);
  const inSize = shapeSize(layer.inputShapes[0]);
  const out = p.numOutput;
  const { weight, bias } = checkedWeights(layer, out * inSize, p.biasTerm, out);
  const wasm = activeWasmKernels();
  const { exports } = wasm;
  // The kernel reads whole 8-column panels of W^T and 8 bias values at a time.
  const outPadded = Math.ceil(out / 8) * 8;
  const packed = wasm.packedWeights(weight, bias, outPadded, `ip ${out}x${inSize}`, outPadded * inSize * 4, (src, dst) => {
    exports.packColumnPanels(src, inSize, out, inSize, dst);
  });

  const mem = wasm.memory;
  const scratch = mem.scratch();
  const x = scratch.take(batch * inSize * 4);
  const y = scratch.take(batch * out * 4);
  const work = scratch.take(exports.innerProductScratchBytes(batch, inSize, out));
  mem.f32().set(inputs[0], x >> 2);
  exports.innerProduct(batch, x, y, inSize, out, packed.weights, packed.bias, work);
  if (reluSlope !== undefined) exports.relu(y, batch * out, reluSlope);
  const result = mem.copyOut(y, batch * out);

  counts.macsExecuted += batch * out * inSize;
  if (bias) counts.otherOps += batch * out;
  return [result];
}
