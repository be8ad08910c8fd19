/**
 * The `wasm` Convolution kernel: the whole batch in one call of wasm/assembly/convolution.ts
 * (zero-padded planes, implicit im2col, packed weights x columns with the register-blocked SIMD
 * micro-kernels). Weights are packed once per layer (cached by WasmKernels); per call the input is
 * copied into linear memory and the output copied out.
 *
 * Counting, as convolutionFast: macsExecuted += M x N x K per image and group (M = outC/group,
 * N = outH*outW, K = inC/group*kh*kw: every MAC runs, padding taps included); one otherOp per
 * output value for the bias add when the layer has a bias.
 */
import type { Layer } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { checkedWeights, convParams } from '../../../ir/layer-params.js';
import { activeWasmKernels } from './wasm-loader.js';

/** Fields of ConvDesc in wasm/assembly/convolution.ts, in order (int32 each). */
const DESC_FIELDS = [
  'batch', 'x', 'y', 'inC', 'inH', 'inW', 'outC', 'outH', 'outW', 'kernelH', 'kernelW', 'strideH', 'strideW',
  'padH', 'padW', 'dilationH', 'dilationW', 'group', 'weights', 'bias', 'scratch',
] as const;
type DescField = (typeof DESC_FIELDS)[number];

/**
 * Runs a Convolution layer with the WebAssembly kernels (initWasmKernels() must have completed).
 * With `reluSlope`, the ReLU that follows (PlannedLayer.fusedRelu) runs on the output in linear
 * memory, before it is copied out: the caller counts it as that ReLU layer's work.
 */
export function convolutionWasm(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts, reluSlope?: number): Float32Array[] {
  const p = convParams(layer);
  const { c: inC, h: inH, w: inW } = layer.inputShapes[0];
  const { c: outC, h: outH, w: outW } = layer.outputShapes[0];
  const m = outC / p.group;
  const n = outH * outW;
  const k = (inC / p.group) * p.kernelH * p.kernelW;
  const { weight, bias } = checkedWeights(layer, outC * k, p.biasTerm, outC);
  const wasm = activeWasmKernels();
  const { exports } = wasm;
  const packed = wasm.packedWeights(weight, bias, outC, `conv ${p.group}x${m}x${k}`, weight.length * 4, (src, dst) => {
    for (let g = 0; g < p.group; g++) exports.packRowPanels(src + g * m * k * 4, m, k, k, dst + g * m * k * 4);
  });

  const mem = wasm.memory;
  const scratch = mem.scratch();
  const desc = scratch.take(DESC_FIELDS.length * 4);
  const x = scratch.take(inputs[0].length * 4);
  const outLength = batch * outC * n;
  const y = scratch.take(outLength * 4);
  const values: Record<DescField, number> = {
    batch, x, y, inC, inH, inW, outC, outH, outW, kernelH: p.kernelH, kernelW: p.kernelW, strideH: p.strideH, strideW: p.strideW,
    padH: p.padH, padW: p.padW, dilationH: p.dilationH, dilationW: p.dilationW, group: p.group,
    weights: packed.weights, bias: packed.bias, scratch: 0,
  };
  const i32 = mem.i32();
  DESC_FIELDS.forEach((field, i) => { i32[(desc >> 2) + i] = values[field]; });
  const work = scratch.take(exports.convolutionScratchBytes(desc));
  mem.i32()[(desc >> 2) + DESC_FIELDS.indexOf('scratch')] = work;
  mem.f32().set(inputs[0], x >> 2);
  exports.convolution(desc);
  if (reluSlope !== undefined) exports.relu(y, outLength, reluSlope);
  const out = mem.copyOut(y, outLength);

  counts.macsExecuted += batch * p.group * m * n * k;
  if (bias) counts.otherOps += batch * outC * n;
  return [out];
}
