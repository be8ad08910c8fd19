/**
 * The `wasm` ReLU kernel: wasm/assembly/relu.ts on a copy of the input in linear memory.
 *
 * Counting, as reluFast: one op per value; with a negative slope two (the comparison, and the
 * multiply the SIMD loop runs for every value).
 */
import type { Layer } from '../../../ir/network.js';
import { type OpCounts } from '../../../records/counters.js';
import { reluParams } from '../../../ir/layer-params.js';
import { activeWasmKernels } from './wasm-loader.js';

/** The ops the wasm ReLU counts over `n` values: one per value, two with a negative slope. */
export function reluOps(slope: number, n: number): number {
  return (slope === 0 ? 1 : 2) * n;
}

/** Runs a ReLU layer with the WebAssembly kernels (initWasmKernels() must have completed). */
export function reluWasm(layer: Layer, inputs: readonly Float32Array[], _batch: number, counts: OpCounts): Float32Array[] {
  const slope = reluParams(layer).negativeSlope;
  const x = inputs[0];
  const { exports, memory: mem } = activeWasmKernels();
  const address = mem.scratch().take(x.length * 4);
  mem.f32().set(x, address >> 2);
  exports.relu(address, x.length, slope);
  counts.otherOps += reluOps(slope, x.length);
  return [mem.copyOut(address, x.length)];
}
