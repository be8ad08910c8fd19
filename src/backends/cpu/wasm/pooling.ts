/**
 * The `wasm` Pooling kernel: wasm/assembly/pooling.ts over the whole batch in one call (input
 * copied into linear memory, output copied out).
 *
 * Counting, what those loops execute: every plane is bordered so that all windows are whole, so
 * (kernelW - 1) per output column of each bordered row (the row pass), (kernelH - 1) per output
 * (the column pass), plus one divide per output for AVE. This is a little more than poolingFast
 * counts, whose border windows are clipped instead.
 */
import type { Layer } from '../../../ir/network.js';
import { poolKernel } from '../../../ir/layers/pooling.js';
import { type OpCounts } from '../../../records/counters.js';
import { poolParams } from '../../../ir/layer-params.js';
import { activeWasmKernels } from './wasm-loader.js';

/** Runs a Pooling layer with the WebAssembly kernels (initWasmKernels() must have completed). */
export function poolingWasm(layer: Layer, inputs: readonly Float32Array[], batch: number, counts: OpCounts): Float32Array[] {
  const p = poolParams(layer);
  const input = layer.inputShapes[0];
  const { c: C, h: H, w: W } = input;
  const { h: outH, w: outW } = layer.outputShapes[0];
  const [kernelH, kernelW] = poolKernel(p, input);
  const isMax = p.method === 'max';
  const { exports, memory: mem } = activeWasmKernels();
  const scratch = mem.scratch();
  const x = scratch.take(inputs[0].length * 4);
  const outLength = batch * C * outH * outW;
  const y = scratch.take(outLength * 4);
  const work = scratch.take(exports.poolingScratchBytes(H, W, outH, outW, kernelH, kernelW, p.strideH, p.strideW, p.padH, p.padW));
  mem.f32().set(inputs[0], x >> 2);
  exports.pooling(x, y, batch * C, H, W, outH, outW, kernelH, kernelW, p.strideH, p.strideW, p.padH, p.padW, isMax ? 1 : 0, work);
  const out = mem.copyOut(y, outLength);

  // Rows of the bordered plane (wasm/assembly/pooling.ts borderedHeight).
  const borderedH = Math.max(H + p.padH, (outH - 1) * p.strideH + kernelH);
  const opsPerPlane = borderedH * outW * (kernelW - 1) + outH * outW * (kernelH - 1 + (isMax ? 0 : 1));
  counts.otherOps += opsPerPlane * batch * C;
  return [out];
}
