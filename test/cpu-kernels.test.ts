import { describe, expect, it } from 'vitest';
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.js';
import { denseMacs } from '../src/ir/layer-metrics.js';
import { gemm } from '../src/backends/cpu/fast/gemm.js';
import type { KernelVariant } from '../src/backends/cpu/kernel-types.js';
import { DataError } from '../src/errors.js';
import type { Layer, LrnParams, Network, PoolingParams, Shape } from '../src/ir/network.js';
import { shapeSize } from '../src/ir/network.js';
import { CONV_GEOMETRY_CASES, convLayer, ipLayer, layer, poolLayer, randomArray, type ConvOptions } from './helpers/synthetic-layers.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

function lrnLayer(input: Shape, lrn: LrnParams): Layer {
  return layer('lrn', { type: 'LRN', lrn }, [input], [input]);
}

/** Runs `l` on random inputs with both variants; asserts parity and returns both runs. */
function parity(l: Layer, batch: number, seed = 42) {
  const inputs = l.inputShapes.map((s, i) => randomArray(batch * shapeSize(s), seed + i));
  const copies = inputs.map((a) => a.slice());
  const ref = runLayer(l, inputs, batch, { kernels: 'reference' });
  const fast = runLayer(l, inputs, batch, { kernels: 'fast' });
  inputs.forEach((a, i) => expect(a, 'kernels must not write to their inputs').toEqual(copies[i]));
  expect(fast.outputs).toHaveLength(l.tops.length);
  fast.outputs.forEach((out, i) => {
    expect(out).toHaveLength(batch * shapeSize(l.outputShapes[i]));
    expect(relativeError(out, ref.outputs[i])).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  });
  return { ref, fast, inputs };
}

function expectDenseCounts(run: ReturnType<typeof parity>, l: Layer, batch: number): void {
  const dense = denseMacs(l, batch);
  expect(dense).toBeGreaterThan(0);
  for (const r of [run.ref, run.fast]) {
    expect(r.counters.macsDense).toBe(dense);
    expect(r.counters.macsExecuted).toBe(dense);
    expect(r.counters.name).toBe(l.name);
    expect(r.counters.type).toBe(l.params.type);
  }
}

describe('GEMM', () => {
  const naive = (m: number, n: number, k: number, a: (i: number, p: number) => number, b: (p: number, j: number) => number) => {
    const c = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) c[i * n + j] += a(i, p) * b(p, j);
    return c;
  };

  // Shapes across every blocking edge: MR/NR remainders, k > KC, m > MC, n > NC, GEMV and skinny
  // (n <= 16) shapes with odd m and odd k.
  const shapes: [number, number, number][] = [[1, 1, 1], [1, 37, 20], [29, 1, 33], [2, 2, 2], [5, 7, 3], [7, 16, 9], [6, 5, 1], [3, 17, 2], [97, 10, 300], [6, 2100, 5], [130, 47, 513]];
  for (const [m, n, k] of shapes) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`${m}x${n}x${k}${ta ? ' A^T' : ''}${tb ? ' B^T' : ''}, offsets and leading dimensions`, () => {
        const lda = (ta ? m : k) + 3;
        const ldb = (tb ? k : n) + 2;
        const ldc = n + 1;
        const A = randomArray(5 + lda * (ta ? k : m), 1);
        const B = randomArray(4 + ldb * (tb ? n : k), 2);
        const C = randomArray(2 + ldc * m, 3);
        const before = C.slice();
        gemm(m, n, k, { data: A, offset: 5, ld: lda, trans: ta }, { data: B, offset: 4, ld: ldb, trans: tb }, { data: C, offset: 2, ld: ldc });
        const ref = naive(m, n, k, (i, p) => A[5 + (ta ? p * lda + i : i * lda + p)], (p, j) => B[4 + (tb ? j * ldb + p : p * ldb + j)]);
        for (let i = 0; i < C.length; i++) {
          const r = i - 2;
          const row = Math.floor(r / ldc);
          const col = r - row * ldc;
          const inside = r >= 0 && row < m && col < n;
          const expected = inside ? before[i] + ref[row * n + col] : before[i];
          expect(Math.abs(C[i] - expected)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(expected)));
        }
      });
    }
  }
});

describe('Convolution', () => {
  it('hand-computed: 2x2 kernel, pad 1, stride 2', () => {
    // 1x3x3 input 1..9; kernel [[1, 2], [3, 4]]; bias 0.5. Output 2x2:
    // (0,0): window rows -1..0, cols -1..0 -> only x[0][0]=1 under weight 4 -> 4.5
    // (0,1): rows -1..0, cols 1..2 -> x[0][1]*3 + x[0][2]*4 = 6 + 12 -> 18.5
    // (1,0): rows 1..2, cols -1..0 -> x[1][0]*2 + x[2][0]*4 = 8 + 28 -> 36.5
    // (1,1): rows 1..2, cols 1..2 -> 5*1 + 6*2 + 8*3 + 9*4 = 77 -> 77.5
    const l = convLayer({ c: 1, h: 3, w: 3 }, { numOutput: 1, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 1, padW: 1 }, 1, Float32Array.of(1, 2, 3, 4));
    l.weights = { weight: Float32Array.of(1, 2, 3, 4), bias: Float32Array.of(0.5) };
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const { outputs, counters } = runLayer(l, [ramp(9)], 1, { kernels: v });
      expect(Array.from(outputs[0])).toEqual([4.5, 18.5, 36.5, 77.5]);
      expect(counters.macsExecuted).toBe(16);
      expect(counters.otherOps).toBe(4);
    }
  });

  const cases: [string, Shape, ConvOptions, number][] = [
    ...CONV_GEOMETRY_CASES,
    ['1x1 (no im2col)', { c: 16, h: 7, w: 7 }, { numOutput: 24, kernelH: 1, kernelW: 1 }, 3],
    ['1x1 with groups', { c: 8, h: 5, w: 6 }, { numOutput: 12, kernelH: 1, kernelW: 1, group: 4 }, 2],
    ['1x1 stride 2 (im2col)', { c: 6, h: 9, w: 9 }, { numOutput: 5, kernelH: 1, kernelW: 1, strideH: 2, strideW: 2 }, 1],
    ['1x1 pad 1', { c: 3, h: 4, w: 4 }, { numOutput: 2, kernelH: 1, kernelW: 1, padH: 1, padW: 1 }, 1],
    ['7x7 stride 2 (conv1-like)', { c: 3, h: 31, w: 31 }, { numOutput: 8, kernelH: 7, kernelW: 7, strideH: 2, strideW: 2 }, 1],
    ['K > 256, M > 96 (GEMM blocking)', { c: 32, h: 6, w: 6 }, { numOutput: 100, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 1],
    ['N > 2046 (GEMM column blocking)', { c: 2, h: 50, w: 48 }, { numOutput: 5, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 1],
    ['kernel covers the whole input', { c: 3, h: 5, w: 4 }, { numOutput: 7, kernelH: 5, kernelW: 4 }, 3],
  ];
  for (const [name, input, o, batch] of cases) {
    it(`${name}: fast == reference, MACs executed == dense`, () => {
      const l = convLayer(input, o, name.length);
      const run = parity(l, batch);
      expectDenseCounts(run, l, batch);
      const outSize = batch * shapeSize(l.outputShapes[0]);
      for (const r of [run.ref, run.fast]) expect(r.counters.otherOps).toBe(o.biasTerm === false ? 0 : outSize);
    });
  }
});

describe('InnerProduct', () => {
  it('hand-computed', () => {
    const l = ipLayer({ c: 2, h: 1, w: 2 }, 2);
    l.weights = { weight: Float32Array.of(1, 0, -1, 2, 0.5, 0.5, 0.5, 0.5), bias: Float32Array.of(1, -1) };
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const { outputs, counters } = runLayer(l, [Float32Array.of(1, 2, 3, 4, 0, 0, 0, 2)], 2, { kernels: v });
      expect(Array.from(outputs[0])).toEqual([1 + 1 - 3 + 8, -1 + 5, 1 + 4, -1 + 1]);
      expect(counters.macsExecuted).toBe(16);
      expect(counters.otherOps).toBe(4);
    }
  });
  for (const [input, out, batch, bias] of [
    [{ c: 8, h: 3, w: 3 }, 10, 1, true],
    [{ c: 8, h: 3, w: 3 }, 10, 5, true],
    [{ c: 300, h: 1, w: 1 }, 37, 9, false],
    [{ c: 4, h: 2, w: 2 }, 1, 3, true],
  ] as [Shape, number, number, boolean][]) {
    it(`${shapeSize(input)} -> ${out}, batch ${batch}${bias ? '' : ', no bias'}: fast == reference`, () => {
      const l = ipLayer(input, out, bias);
      const run = parity(l, batch);
      expectDenseCounts(run, l, batch);
    });
  }
});

describe('Pooling', () => {
  it('AVE, hand-computed Caffe case: the divisor counts padding inside input + pad', () => {
    // 1x4x4 input 1..16, kernel 3, stride 2, pad 1 -> 3x3 output (ceil rounding).
    // (0,0): rows/cols -1..1, divisor 9, clipped sum 1+2+5+6 = 14.
    // (2,2): hstart 3, hend min(6, 4+1) = 5 -> divisor 2*2 = 4; clipped window is x[3][3] = 16.
    // (0,2): rows -1..1 (3), cols 3..4 (2) -> divisor 6; clipped rows 0..1, col 3: 4 + 8 = 12.
    const l = poolLayer({ c: 1, h: 4, w: 4 }, { method: 'ave', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 });
    expect(l.outputShapes[0]).toEqual({ c: 1, h: 3, w: 3 });
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const { outputs, counters } = runLayer(l, [ramp(16)], 1, { kernels: v });
      const y = outputs[0];
      expect(y[0]).toBeCloseTo(14 / 9, 6);
      expect(y[2]).toBeCloseTo(12 / 6, 6);
      expect(y[8]).toBeCloseTo(16 / 4, 6);
      // Clipped window sizes are 2, 3, 1 along each axis. Reference: one add per window element,
      // (2+3+1)^2 = 36, plus 9 divides. Fast (separable): 4 rows x (1+2+0) adds across, 3 columns
      // x (1+2+0) adds down, plus 9 divides.
      expect(counters.otherOps).toBe(v === 'reference' ? 36 + 9 : 12 + 9 + 9);
      expect(counters.macsExecuted).toBe(0);
    }
  });

  it('AVE, kernel 2 stride 2 pad 1 on 3x3', () => {
    // Output 2x2 (the third window would start in the padding); every divisor is 4.
    const l = poolLayer({ c: 1, h: 3, w: 3 }, { method: 'ave', kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 1, padW: 1 });
    expect(l.outputShapes[0]).toEqual({ c: 1, h: 2, w: 2 });
    const { outputs } = runLayer(l, [ramp(9)], 1, { kernels: 'reference' });
    expect(Array.from(outputs[0])).toEqual([1 / 4, 5 / 4, 11 / 4, 28 / 4]);
  });

  it('MAX with ceil rounding: the last window is clipped', () => {
    const l = poolLayer({ c: 1, h: 5, w: 5 }, { method: 'max', kernelH: 2, kernelW: 2, strideH: 2, strideW: 2 });
    expect(l.outputShapes[0]).toEqual({ c: 1, h: 3, w: 3 });
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const { outputs, counters } = runLayer(l, [ramp(25)], 1, { kernels: v });
      expect(Array.from(outputs[0])).toEqual([7, 9, 10, 17, 19, 20, 22, 24, 25]);
      // Reference: one comparison per clipped window element (2+2+1)^2; fast (separable):
      // 5 rows x (1+1+0) across, then 3 columns x (1+1+0) down.
      expect(counters.otherOps).toBe(v === 'reference' ? 25 : 10 + 6);
    }
  });

  it('MAX of all-negative values with padding ignores the padding', () => {
    const l = poolLayer({ c: 1, h: 2, w: 2 }, { method: 'max', kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 });
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const { outputs } = runLayer(l, [Float32Array.of(-1, -2, -3, -4)], 1, { kernels: v });
      expect(Array.from(outputs[0])).toEqual([-1, -1, -1, -1]);
    }
  });

  const cases: [string, Shape, Partial<PoolingParams> & { method: 'max' | 'ave' }][] = [
    ['MAX 3x3 s2 (SqueezeNet)', { c: 4, h: 13, w: 13 }, { method: 'max', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2 }],
    ['MAX 3x2 s2x1 pad 1x1', { c: 3, h: 8, w: 7 }, { method: 'max', kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padH: 1, padW: 1 }],
    ['AVE 3x3 s2 pad 1', { c: 3, h: 9, w: 10 }, { method: 'ave', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 }],
    ['AVE global', { c: 5, h: 6, w: 7 }, { method: 'ave', global: true }],
    ['MAX global', { c: 5, h: 6, w: 7 }, { method: 'max', global: true }],
  ];
  for (const [name, input, o] of cases) {
    it(`${name}: fast == reference`, () => {
      const run = parity(poolLayer(input, o), 2);
      expect(run.fast.counters.macsDense).toBe(0);
      expect(run.fast.counters.otherOps).toBeGreaterThan(0);
    });
  }

  it('global AVE is the plane mean and MAX the plane max', () => {
    const input = randomArray(2 * 3 * 4 * 5, 9);
    const ave = runLayer(poolLayer({ c: 3, h: 4, w: 5 }, { method: 'ave', global: true }), [input], 2, { kernels: 'fast' }).outputs[0];
    const max = runLayer(poolLayer({ c: 3, h: 4, w: 5 }, { method: 'max', global: true }), [input], 2, { kernels: 'fast' }).outputs[0];
    for (let pl = 0; pl < 6; pl++) {
      const plane = Array.from(input.subarray(pl * 20, pl * 20 + 20));
      expect(ave[pl]).toBeCloseTo(plane.reduce((a, b) => a + b, 0) / 20, 6);
      expect(max[pl]).toBe(Math.max(...plane));
    }
  });
});

describe('LRN', () => {
  const across: LrnParams = { localSize: 5, alpha: 1e-2, beta: 0.75, k: 2, region: 'across-channels' };
  const within: LrnParams = { localSize: 3, alpha: 5e-2, beta: 0.75, k: 7, region: 'within-channel' };

  it('ACROSS_CHANNELS, hand-computed at both channel edges', () => {
    const input = Float32Array.of(1, 2, 3); // 3 channels of 1x1
    const { outputs } = runLayer(lrnLayer({ c: 3, h: 1, w: 1 }, across), [input], 1, { kernels: 'reference' });
    // local_size 5 covers every channel: scale = 2 + 0.01 / 5 * 14 for all three.
    const scale = 2 + (0.01 / 5) * 14;
    [1, 2, 3].forEach((x, c) => expect(outputs[0][c]).toBeCloseTo(x * scale ** -0.75, 6));
  });

  it('WITHIN_CHANNEL, hand-computed corner (k unused, divisor n*n)', () => {
    const input = ramp(9); // 1x3x3
    const { outputs } = runLayer(lrnLayer({ c: 1, h: 3, w: 3 }, within), [input], 1, { kernels: 'reference' });
    const corner = (1 + 4 + 16 + 25) / 9;
    expect(outputs[0][0]).toBeCloseTo(1 * (1 + 0.05 * corner) ** -0.75, 6);
    const centre = [1, 2, 3, 4, 5, 6, 7, 8, 9].reduce((s, v) => s + v * v, 0) / 9;
    expect(outputs[0][4]).toBeCloseTo(5 * (1 + 0.05 * centre) ** -0.75, 6);
  });

  for (const [name, p, input] of [
    ['ACROSS_CHANNELS n=5', across, { c: 7, h: 4, w: 5 }],
    ['ACROSS_CHANNELS n=3, 2 channels', { ...across, localSize: 3 }, { c: 2, h: 3, w: 3 }],
    ['ACROSS_CHANNELS n=7 > channels', { ...across, localSize: 7 }, { c: 3, h: 2, w: 2 }],
    ['WITHIN_CHANNEL n=3', within, { c: 3, h: 6, w: 5 }],
    ['WITHIN_CHANNEL n=5', { ...within, localSize: 5 }, { c: 2, h: 7, w: 4 }],
  ] as [string, LrnParams, Shape][]) {
    it(`${name}: fast == reference`, () => {
      const run = parity(lrnLayer(input, p), 2);
      expect(run.fast.counters.otherOps).toBeGreaterThan(0);
    });
  }
});

describe('element-wise and routing layers', () => {
  const shape = { c: 4, h: 3, w: 2 };

  it('Softmax sums to 1 over channels at every position, stable for large inputs', () => {
    const l = layer('prob', { type: 'Softmax' }, [shape], [shape]);
    const input = randomArray(2 * 24, 5, 1000);
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const { outputs, counters } = runLayer(l, [input], 2, { kernels: v });
      const y = outputs[0];
      for (let n = 0; n < 2; n++) {
        for (let s = 0; s < 6; s++) {
          let sum = 0;
          for (let c = 0; c < 4; c++) sum += y[n * 24 + c * 6 + s];
          expect(sum).toBeCloseTo(1, 5);
        }
      }
      expect(y.every((v) => Number.isFinite(v))).toBe(true);
      expect(counters.otherOps).toBe(5 * 4 * 6 * 2);
    }
  });

  it('ReLU, with and without negative slope', () => {
    const x = Float32Array.of(-2, -0.5, 0, 0.5, 3, -1);
    const shape6 = { c: 6, h: 1, w: 1 };
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const plain = runLayer(layer('r', { type: 'ReLU', relu: { negativeSlope: 0 } }, [shape6], [shape6]), [x], 1, { kernels: v });
      expect(Array.from(plain.outputs[0])).toEqual([0, 0, 0, 0.5, 3, 0]);
      expect(plain.counters.otherOps).toBe(6);
      const leaky = runLayer(layer('r', { type: 'ReLU', relu: { negativeSlope: 0.25 } }, [shape6], [shape6]), [x], 1, { kernels: v });
      expect(Array.from(leaky.outputs[0])).toEqual([-0.5, -0.125, 0, 0.5, 3, -0.25]);
      // Reference: a comparison per value and a multiply per non-positive one; fast: both for all.
      expect(leaky.counters.otherOps).toBe(v === 'reference' ? 6 + 4 : 12);
    }
  });

  it('ReLU and MAX pooling: fast is bit-identical to reference on finite values', () => {
    const shape = { c: 3, h: 11, w: 9 };
    const x = randomArray(2 * shapeSize(shape), 21, 1e3);
    x[5] = 3e38;
    x[6] = -3e38;
    x[7] = 1e-30;
    const relu = layer('r', { type: 'ReLU', relu: { negativeSlope: 0.1 } }, [shape], [shape]);
    expect(runLayer(relu, [x], 2, { kernels: 'fast' }).outputs[0]).toEqual(runLayer(relu, [x], 2, { kernels: 'reference' }).outputs[0]);
    const pool = poolLayer(shape, { method: 'max', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 });
    expect(runLayer(pool, [x], 2, { kernels: 'fast' }).outputs[0]).toEqual(runLayer(pool, [x], 2, { kernels: 'reference' }).outputs[0]);
  });

  it('Concat stacks channels per image', () => {
    const a = { c: 1, h: 1, w: 2 };
    const b = { c: 2, h: 1, w: 2 };
    const l = layer('cat', { type: 'Concat' }, [a, b], [{ c: 3, h: 1, w: 2 }]);
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const { outputs } = runLayer(l, [Float32Array.of(1, 2, 10, 20), Float32Array.of(3, 4, 5, 6, 30, 40, 50, 60)], 2, { kernels: v });
      expect(Array.from(outputs[0])).toEqual([1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60]);
    }
  });

  it('Split, Flatten and Dropout pass values through, counting nothing', () => {
    const x = randomArray(24, 3);
    const split = layer('split', { type: 'Split' }, [shape], [shape, shape, shape]);
    const flat = layer('flat', { type: 'Flatten' }, [shape], [{ c: 24, h: 1, w: 1 }]);
    const drop = layer('drop', { type: 'Dropout' }, [shape], [shape]);
    for (const v of ['reference', 'fast'] as KernelVariant[]) {
      const s = runLayer(split, [x], 1, { kernels: v });
      expect(s.outputs).toHaveLength(3);
      for (const o of s.outputs) expect(o).toEqual(x);
      for (const l of [flat, drop]) {
        const r = runLayer(l, [x], 1, { kernels: v });
        expect(r.outputs[0]).toEqual(x);
        expect(r.counters.otherOps + r.counters.macsExecuted).toBe(0);
      }
    }
  });

  it('runLayer rejects inputs of the wrong size with a DataError naming both sizes', () => {
    const l = layer('r', { type: 'ReLU', relu: { negativeSlope: 0 } }, [shape], [shape]);
    expect(() => runLayer(l, [new Float32Array(23)], 1)).toThrow(DataError);
    expect(() => runLayer(l, [new Float32Array(23)], 1)).toThrow(/expected 24 values.*got 23/);
  });
});

/** A small network using every layer type, in-place ReLU and a Split/Concat fork. */
function smallNetwork(): Network {
  const input: Shape = { c: 3, h: 12, w: 12 };
  const layers: Layer[] = [];
  const named = (l: Layer, bottoms: string[], tops: string[]): Layer => ({ ...l, bottoms, tops });
  const conv1 = convLayer(input, { numOutput: 8, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 11);
  layers.push(named({ ...conv1, name: 'conv1' }, ['data'], ['conv1']));
  layers.push(named(layer('relu1', { type: 'ReLU', relu: { negativeSlope: 0 } }, [conv1.outputShapes[0]], [conv1.outputShapes[0]]), ['conv1'], ['conv1']));
  const pool1 = poolLayer(conv1.outputShapes[0], { method: 'max', kernelH: 3, kernelW: 3, strideH: 2, strideW: 2 });
  layers.push(named({ ...pool1, name: 'pool1' }, ['conv1'], ['pool1']));
  const ps = pool1.outputShapes[0];
  layers.push(named(layer('split', { type: 'Split' }, [ps], [ps, ps]), ['pool1'], ['pool1_a', 'pool1_b']));
  const ea = convLayer(ps, { numOutput: 4, kernelH: 1, kernelW: 1 }, 12);
  layers.push(named({ ...ea, name: 'expand1x1' }, ['pool1_a'], ['e1']));
  const eb = convLayer(ps, { numOutput: 6, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 13);
  layers.push(named({ ...eb, name: 'expand3x3' }, ['pool1_b'], ['e3']));
  const cs: Shape = { c: 10, h: ps.h, w: ps.w };
  layers.push(named(layer('concat', { type: 'Concat' }, [ea.outputShapes[0], eb.outputShapes[0]], [cs]), ['e1', 'e3'], ['cat']));
  layers.push(named(lrnLayer(cs, { localSize: 5, alpha: 1e-4, beta: 0.75, k: 1, region: 'across-channels' }), ['cat'], ['norm']));
  layers.push(named(layer('drop', { type: 'Dropout' }, [cs], [cs]), ['norm'], ['norm']));
  const fs: Shape = { c: shapeSize(cs), h: 1, w: 1 };
  layers.push(named(layer('flat', { type: 'Flatten' }, [cs], [fs]), ['norm'], ['flat']));
  const ip = ipLayer(fs, 5, true, 14);
  layers.push(named({ ...ip, name: 'fc' }, ['flat'], ['fc']));
  layers.push(named(layer('prob', { type: 'Softmax' }, [ip.outputShapes[0]], [ip.outputShapes[0]]), ['fc'], ['prob']));
  const blobShapes = new Map<string, Shape>([['data', input]]);
  for (const l of layers) l.tops.forEach((t, i) => blobShapes.set(t, l.outputShapes[i]));
  return { name: 'small', inputName: 'data', inputShape: input, layers, outputName: 'prob', blobShapes, synthetic: true };
}

describe('CpuBackend', () => {
  const net = smallNetwork();
  const batch = 3;
  const input = randomArray(batch * shapeSize(net.inputShape), 77);

  it('names itself after its kernels', () => {
    expect(new CpuBackend().name).toBe('cpu');
    expect(new CpuBackend({ kernels: 'reference' }).name).toBe('cpu-reference');
    expect(new CpuBackend({ overrides: { LRN: 'reference' } }).variantFor('LRN')).toBe('reference');
  });

  it('fast == reference on a whole network, blob by blob', async () => {
    const ref = await new CpuBackend({ kernels: 'reference' }).run(net, input, batch, { keepBlobs: true });
    const fast = await new CpuBackend().run(net, input, batch, { keepBlobs: true });
    expect(fast.output).toHaveLength(batch * 5);
    expect(relativeError(fast.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    expect([...(ref.blobs?.keys() ?? [])].sort()).toEqual([...net.blobShapes.keys()].sort());
    for (const [name, blob] of ref.blobs ?? []) {
      expect(relativeError(fast.blobs?.get(name) ?? [], blob), name).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    }
    // In-place ReLU: the kept 'conv1' blob is the rectified one.
    expect(ref.blobs?.get('conv1')?.every((v) => v >= 0)).toBe(true);
    for (let n = 0; n < batch; n++) {
      expect(Array.from(ref.output.subarray(n * 5, n * 5 + 5)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('counts one entry per layer; dense layers execute exactly their dense MACs', async () => {
    for (const kernels of ['fast', 'reference'] as const) {
      const { counters, blobs } = await new CpuBackend({ kernels }).run(net, input, batch);
      expect(blobs).toBeUndefined();
      expect(counters.map((c) => c.name)).toEqual(net.layers.map((l) => l.name));
      expect(counters.map((c) => c.type)).toEqual(net.layers.map((l) => l.params.type));
      net.layers.forEach((l, i) => {
        expect(counters[i].macsDense).toBe(denseMacs(l, batch));
        expect(counters[i].macsExecuted).toBe(counters[i].macsDense);
      });
      expect(counters.find((c) => c.name === 'conv1')?.macsDense).toBe(batch * 8 * 144 * 27);
      expect(counters.find((c) => c.name === 'relu1')?.otherOps).toBe(batch * 8 * 144);
    }
  });

  it('per-layer parity through onLayer: each fast kernel on the reference run\'s exact inputs', () => {
    const seen: string[] = [];
    new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, {
      onLayer: (l, inputs, outputs, counters) => {
        seen.push(l.name);
        const fast = runLayer(l, inputs, batch, { kernels: 'fast' });
        outputs.forEach((o, i) => expect(relativeError(fast.outputs[i], o), l.name).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE));
        expect(fast.counters.macsExecuted).toBe(counters.macsExecuted);
      },
    });
    // relu1 is in place: its input ('conv1' before rectification) exists only during the run.
    expect(seen).toEqual(net.layers.map((l) => l.name));
  });

  it('does not modify the caller\'s input', async () => {
    const copy = input.slice();
    await new CpuBackend().run(net, input, batch);
    expect(input).toEqual(copy);
  });

  it('rejects an input of the wrong size with a DataError naming both sizes', async () => {
    const backend = new CpuBackend();
    await expect(backend.run(net, input.subarray(1), batch)).rejects.toThrow(DataError);
    await expect(backend.run(net, input, batch + 1)).rejects.toThrow(/expected 1728 values \(batch 4 x 3x12x12\), got 1296/);
  });
});
