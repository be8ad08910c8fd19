import { runLayer } from '../src/backends/cpu/cpu-backend.js';
import { gemm } from '../src/backends/cpu/fast/gemm.js';
import type { KernelVariant } from '../src/backends/cpu/kernel-types.js';
import { convOutputSize } from '../src/ir/layers/convolution.js';
import type { ConvolutionParams, Layer, Shape } from '../src/ir/network.js';

/** Micro-benchmarks of the CPU kernels (best of repeated runs), for the BENCHMARKS.md kernel table. */

/** One timed kernel. */
export interface KernelTiming {
  readonly name: string;
  /** Multiply-accumulates per repetition. */
  readonly macs: number;
  /** Best wall time of one repetition, in seconds. */
  readonly seconds: number;
  /** macs / seconds / 1e9. */
  readonly gmacPerSecond: number;
}

/** Convolution shapes worth timing: SqueezeNet v1.0's heaviest layer kinds. */
export const BENCHMARK_CONVOLUTIONS: readonly { name: string; input: Shape; conv: ConvolutionParams }[] = [
  { name: 'conv1 3->96 7x7/2 @227', input: { c: 3, h: 227, w: 227 }, conv: conv(96, 7, 2, 0) },
  { name: 'fire2 expand3x3 16->64 @55', input: { c: 16, h: 55, w: 55 }, conv: conv(64, 3, 1, 1) },
  { name: 'fire9 expand3x3 64->256 @13', input: { c: 64, h: 13, w: 13 }, conv: conv(256, 3, 1, 1) },
  { name: 'fire9 expand1x1 64->256 @13', input: { c: 64, h: 13, w: 13 }, conv: conv(256, 1, 1, 0) },
  { name: 'conv10 512->1000 1x1 @13', input: { c: 512, h: 13, w: 13 }, conv: conv(1000, 1, 1, 0) },
];

function conv(numOutput: number, kernel: number, stride: number, pad: number): ConvolutionParams {
  return {
    numOutput, kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride, padH: pad, padW: pad,
    dilationH: 1, dilationW: 1, group: 1, biasTerm: true,
  };
}

function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

/** Best time of `fn` over repetitions lasting about `budgetSeconds` in all (after a warm-up). */
function bestTime(fn: () => void, budgetSeconds: number): number {
  fn();
  let best = Infinity;
  const start = performance.now();
  do {
    const t = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t) / 1e3);
  } while ((performance.now() - start) / 1e3 < budgetSeconds);
  return best;
}

/** Times the GEMM alone on C[m x n] += A[m x k] B[k x n]. */
export function benchmarkGemm(m: number, n: number, k: number, budgetSeconds = 1): KernelTiming {
  const a = filled(m * k, 1);
  const b = filled(k * n, 2);
  const c = new Float32Array(m * n);
  const seconds = bestTime(() => gemm(m, n, k, { data: a, offset: 0, ld: k }, { data: b, offset: 0, ld: n }, { data: c, offset: 0, ld: n }), budgetSeconds);
  const macs = m * n * k;
  return { name: `gemm ${m}x${n}x${k}`, macs, seconds, gmacPerSecond: macs / seconds / 1e9 };
}

/** Times one convolution layer (one image) with a kernel variant. */
export function benchmarkConvolution(
  spec: { name: string; input: Shape; conv: ConvolutionParams }, variant: KernelVariant = 'fast', budgetSeconds = 1,
): KernelTiming {
  const { input, conv: p } = spec;
  const outH = convOutputSize(input.h, p.kernelH, p.strideH, p.padH, p.dilationH);
  const outW = convOutputSize(input.w, p.kernelW, p.strideW, p.padW, p.dilationW);
  const k = (input.c / p.group) * p.kernelH * p.kernelW;
  const layer: Layer = {
    name: spec.name,
    params: { type: 'Convolution', conv: p },
    bottoms: ['in'],
    tops: ['out'],
    inputShapes: [input],
    outputShapes: [{ c: p.numOutput, h: outH, w: outW }],
    weights: { weight: filled(p.numOutput * k, 3), bias: filled(p.numOutput, 4) },
  };
  const x = filled(input.c * input.h * input.w, 5);
  const seconds = bestTime(() => runLayer(layer, [x], 1, { kernels: variant }), budgetSeconds);
  const macs = p.numOutput * outH * outW * k;
  return { name: `${spec.name} (${variant})`, macs, seconds, gmacPerSecond: macs / seconds / 1e9 };
}

/** The GEMM and convolution timings the CPU backend is tuned on. */
export function benchmarkCpuKernels(budgetSeconds = 1): KernelTiming[] {
  return [
    benchmarkGemm(256, 169, 576, budgetSeconds),
    benchmarkGemm(512, 512, 512, budgetSeconds),
    benchmarkGemm(96, 12321, 147, budgetSeconds),
    ...BENCHMARK_CONVOLUTIONS.map((spec) => benchmarkConvolution(spec, 'fast', budgetSeconds)),
  ];
}
