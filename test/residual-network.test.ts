/**
 * Issue 18's residual network: Conv-BN-ReLU blocks (Caffe's BatchNorm + Scale, folded into the
 * convolutions at load), a residual Eltwise sum then ReLU, global average pooling and an inner
 * product — run dense and under DyVEDeep on every backend (reference, fast TypeScript, WebAssembly,
 * two worker threads, WebGPU), each against the CPU reference with the same knobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import type { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { parseProfile, type EffortProfile } from '../src/effort/profile.js';
import { loadNetwork } from '../src/formats/load-network.js';
import { shapeSize, type Network } from '../src/ir/network.js';
import { ParallelBackend } from '../src/threads/parallel-backend.js';
import { tempFile } from './helpers/files.js';
import { openTestGpu } from './helpers/gpu.js';
import { TINY_RESNET } from './helpers/residual-nets.js';
import { randomArray } from './helpers/synthetic-layers.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

/**
 * DyVEDeep knobs on every convolution: SPET (exact mode, so its outputs are the dense ones) where a
 * ReLU follows the folded Conv-BN, SDSS and SFMA everywhere, including the convolutions that feed
 * a residual sum (SPET through the sum, which tests partial + the other operand, is checked on
 * every CPU backend in residual-spet.test.ts).
 */
function knobs(tile: boolean): string {
  const t = tile ? { tile: { positions: 8 } } : {};
  const spet = { spet: { mode: 'exact', fraction: 0.5 } };
  const sdss = { sdss: { stride: 2, delta: 0.02 } };
  const sfma = { sfma: { epsilon: 0.05 } };
  return JSON.stringify({
    layers: {
      stem: { ...spet, ...sdss, ...t },
      b1a: { ...spet, ...sfma, ...t },
      b1b: { ...sdss, ...sfma, ...t },
      b2a: { ...spet, ...sdss, ...t },
      b2b: { ...sdss, ...t },
    },
  });
}

const BATCH = 3;
let net: Network;
let input: Float32Array;
let gpu: WebGpuBackend;

beforeAll(async () => {
  net = await loadNetwork(tempFile('tiny-resnet.prototxt', TINY_RESNET), { kind: 'synthetic', seed: 5 });
  // Non-negative images, as after a data layer: SFMA and SDSS then see maps of one sign.
  input = randomArray(BATCH * shapeSize(net.inputShape), 21, 1).map((v) => Math.abs(v));
  gpu = await openTestGpu();
});

afterAll(() => gpu?.destroy());

describe('a residual network (Conv-BN-ReLU, Eltwise sum, global pooling, inner product)', () => {
  it('loads with each batch normalization folded into its convolution, the residual sums kept', () => {
    const types = net.layers.map((l) => l.params.type);
    expect(types).not.toContain('Scale');
    expect(types.filter((t) => t === 'Eltwise')).toHaveLength(2);
    expect(types.filter((t) => t === 'Convolution')).toHaveLength(5);
  });

  it('dense: every backend gives the reference outputs and MACs', async () => {
    const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, BATCH);
    const parallel = await ParallelBackend.create({ threads: 2 });
    try {
      for (const [what, backend] of [
        ['fast', new CpuBackend({ kernels: 'fast' })],
        ['wasm', new CpuBackend({ kernels: 'wasm' })],
        ['2 threads', parallel],
        ['webgpu', gpu],
      ] as const) {
        const r = await backend.run(net, input, BATCH);
        expect(relativeError(r.output, ref.output), what).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
        expect(r.counters.map((c) => c.macsExecuted), what).toEqual(ref.counters.map((c) => c.macsExecuted));
      }
    } finally {
      await parallel.close();
    }
  });

  for (const mode of ['neuron', 'tile'] as const) {
    it(`under DyVEDeep (${mode} mode): every backend that runs the mode matches the reference with the same knobs`, async () => {
      const profile: EffortProfile = parseProfile(knobs(mode === 'tile'), net);
      const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, BATCH, { effort: profile });
      const executed = ref.counters.reduce((s, c) => s + c.macsExecuted, 0);
      const denseMacs = ref.counters.reduce((s, c) => s + c.macsDense, 0);
      expect(executed).toBeLessThan(denseMacs);
      const parallel = await ParallelBackend.create({ threads: 2 });
      try {
        const backends = [
          ['fast', new CpuBackend({ kernels: 'fast' })],
          ['wasm', new CpuBackend({ kernels: 'wasm' })],
          ['2 threads', parallel],
          ['webgpu', gpu],
        ] as const;
        for (const [what, backend] of backends) {
          const r = await backend.run(net, input, BATCH, { effort: profile });
          expect(relativeError(r.output, ref.output), what).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
          const macs = r.counters.reduce((s, c) => s + c.macsExecuted, 0);
          expect(Math.abs(macs - executed) / executed, `${what} executed MACs`).toBeLessThan(0.01);
        }
      } finally {
        await parallel.close();
      }
    });
  }
});
