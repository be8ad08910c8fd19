/** Layers of a real network with the inputs the CPU reference fed them, for per-layer parity tests. */
import { expect } from 'vitest';
import { CpuBackend } from '../../src/backends/cpu/cpu-backend.js';
import type { Layer, Network } from '../../src/ir/network.js';
import { feedsRelu } from '../../src/ir/relu-reach.js';

/** One layer, its batch's input as the reference computed it, and whether a ReLU decides its output. */
export interface Captured {
  readonly layer: Layer;
  readonly input: Float32Array;
  readonly rectified: boolean;
}

/** Runs `input` through `net` on the reference backend and keeps the layers `names`. */
export async function capture(net: Network, input: Float32Array, batch: number, names: readonly string[]): Promise<Map<string, Captured>> {
  const captured = new Map<string, Captured>();
  new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, {
    onLayer: (layer, inputs) => {
      if (names.includes(layer.name)) captured.set(layer.name, { layer, input: inputs[0].slice(), rectified: feedsRelu(net, layer) });
    },
  });
  expect([...captured.keys()].sort()).toEqual([...names].sort());
  return captured;
}
