import { beforeAll, describe, expect, it } from 'vitest';
import { BlobPool, blobPool } from '../src/backends/cpu/blob-pool.js';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import { parseNetwork } from '../src/formats/parse-network.js';
import { randomArray } from './helpers/synthetic-layers.js';

beforeAll(async () => {
  await initWasmKernels();
});

describe('BlobPool', () => {
  it('hands out new zeroed arrays, then the memory given back, the most recent first', () => {
    const pool = new BlobPool(1 << 20);
    const a = pool.take(100);
    const b = pool.take(100);
    expect(a.every((v) => v === 0)).toBe(true);
    expect(a.buffer).not.toBe(b.buffer);
    pool.give(a);
    pool.give(b);
    expect(pool.bytes).toBe(800);
    expect(pool.take(100).buffer).toBe(b.buffer);
    // A smaller blob reuses larger memory (up to 4x its size), as a view of its first values.
    const c = pool.take(30);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(30);
    expect(pool.bytes).toBe(0);
  });

  it('never reuses memory for a blob it cannot hold, or that is over 4x the blob', () => {
    const pool = new BlobPool(1 << 20);
    const a = pool.take(100);
    pool.give(a);
    expect(pool.take(101).buffer).not.toBe(a.buffer);
    expect(pool.take(24).buffer).not.toBe(a.buffer);
    expect(pool.take(25).buffer).toBe(a.buffer);
  });

  it('ignores arrays it did not make, memory given twice, and memory over its limit', () => {
    const pool = new BlobPool(1000);
    const foreign = new Float32Array(10);
    pool.give(foreign);
    expect(pool.bytes).toBe(0);
    const a = pool.take(100);
    pool.give(a);
    pool.give(a);
    expect(pool.bytes).toBe(400);
    const first = pool.take(100);
    expect(first.buffer).toBe(a.buffer);
    expect(pool.take(100).buffer).not.toBe(a.buffer);
    const big = [pool.take(200), pool.take(200)];
    big.forEach((x) => pool.give(x));
    expect(pool.bytes).toBe(800);
  });

  it('zeros() clears recycled memory; take() leaves it as it was', () => {
    const pool = new BlobPool(1 << 20);
    const a = pool.take(8);
    a.fill(7);
    pool.give(a);
    expect([...pool.zeros(8)]).toEqual(new Array(8).fill(0));
    const b = pool.take(8);
    b.fill(5);
    pool.give(b);
    expect(pool.take(8)[3]).toBe(5);
  });
});

/** Conv -> ReLU -> Split into a Dropout (its input passed on) and a Convolution -> Concat -> InnerProduct. */
const ALIASING_NET = `name: "aliasing" input: "data" input_dim: 2 input_dim: 3 input_dim: 8 input_dim: 8
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "r1" type: "ReLU" bottom: "c1" top: "c1" }
layer { name: "split" type: "Split" bottom: "c1" top: "s1" top: "s2" }
layer { name: "drop" type: "Dropout" bottom: "s1" top: "d1" }
layer { name: "c2" type: "Convolution" bottom: "s2" top: "c2" convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "cat" type: "Concat" bottom: "d1" bottom: "c2" top: "cat" }
layer { name: "fc" type: "InnerProduct" bottom: "cat" top: "fc" inner_product_param { num_output: 5 } }
`;

describe('blobs recycled by CPU runs', () => {
  const net = parseNetwork(ALIASING_NET, 'aliasing.prototxt', { kind: 'synthetic', seed: 5 });
  const inputs = [0, 1, 2].map((s) => randomArray(2 * 3 * 8 * 8, 40 + s));
  const reference = inputs.map((x) => new CpuBackend({ kernels: 'reference' }).runSync(net, x, 2).output);

  for (const kernels of ['wasm', 'fast'] as const) {
    it(`${kernels}: runs after runs give the reference's outputs; earlier outputs and observed blobs stay intact`, () => {
      const backend = new CpuBackend({ kernels });
      const outputs: Float32Array[] = [];
      const observed: [Float32Array, Float32Array][] = [];
      for (let round = 0; round < 3; round++) {
        inputs.forEach((x, i) => {
          const onLayer = round === 1 ? (_l: unknown, _in: unknown, outs: readonly Float32Array[]) => outs.forEach((o) => observed.push([o, o.slice()])) : undefined;
          const out = backend.runSync(net, x, 2, onLayer && { onLayer }).output;
          for (let j = 0; j < out.length; j++) expect(out[j]).toBeCloseTo(reference[i][j], 4);
          outputs.push(out);
        });
      }
      outputs.forEach((out, k) => expect(out).toEqual(outputs[k % inputs.length]));
      expect(observed.length).toBeGreaterThan(0);
      for (const [array, copy] of observed) expect(array).toEqual(copy);
    });
  }

  it('an input that came out of an earlier run is never recycled', () => {
    const backend = new CpuBackend({ kernels: 'wasm' });
    const head = parseNetwork(`name: "head" input: "data" input_dim: 2 input_dim: 6 input_dim: 1 input_dim: 1
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 192 } }
`, 'head.prototxt', { kind: 'synthetic', seed: 2 });
    const fromHead = backend.runSync(head, randomArray(12, 3), 2).output;
    expect(fromHead.length).toBe(inputs[0].length);
    const kept = fromHead.slice();
    const first = backend.runSync(net, fromHead, 2).output.slice();
    for (let round = 0; round < 3; round++) for (const x of inputs) backend.runSync(net, x, 2);
    expect(fromHead).toEqual(kept);
    expect(backend.runSync(net, fromHead, 2).output).toEqual(first);
    expect(blobPool.bytes).toBeLessThanOrEqual(blobPool.limitBytes);
  });
});
