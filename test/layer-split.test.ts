/**
 * The parts a layer of one image is split into across threads (src/threads/layer-split.ts): laid
 * back in place, they are the whole layer's output bit for bit, on every kernel variant the plan
 * uses them for, through padding, strides, dilation, groups and uneven bands.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runLayer } from '../src/backends/cpu/cpu-backend.js';
import type { KernelVariant } from '../src/backends/cpu/kernel-types.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import type { Layer } from '../src/ir/network.js';
import { compilePlan } from '../src/plan/execution-plan.js';
import { evenRanges, layerPart, partInput, placePart, planSplit, splitSibling, weightedRanges, type SplitPlan } from '../src/threads/layer-split.js';
import { convLayer, ipLayer, randomArray, reluLayer } from './helpers/synthetic-layers.js';

beforeAll(async () => {
  await initWasmKernels('simd');
});

/** The layer computed as `parts` parts split `by`, laid back in place. */
function splitRun(l: Layer, input: Float32Array, by: SplitPlan['by'], parts: number, variant: KernelVariant): Float32Array {
  const out = l.outputShapes[0];
  const y = new Float32Array(out.c * out.h * out.w);
  // Channel parts keep whole 4-row tiles, as the plan makes them.
  for (const [from, to] of by === 'rows' ? evenRanges(out.h, parts) : evenRanges(out.c, parts, 4)) {
    const part = runLayer(layerPart(l, by, from, to), [partInput(l, by, from, to, input)], 1, { kernels: variant }).outputs[0];
    placePart(l, by, from, to, part, y);
  }
  return y;
}

const convs: Array<[string, Layer]> = [
  ['3x3 pad 1', convLayer({ c: 5, h: 13, w: 11 }, { numOutput: 12, kernelH: 3, kernelW: 3, padH: 1, padW: 1 })],
  ['7x7 stride 2', convLayer({ c: 3, h: 23, w: 23 }, { numOutput: 9, kernelH: 7, kernelW: 7, strideH: 2, strideW: 2 })],
  ['5x3 pad 2/1 stride 2', convLayer({ c: 4, h: 17, w: 10 }, { numOutput: 8, kernelH: 5, kernelW: 3, padH: 2, padW: 1, strideH: 2, strideW: 2 })],
  ['3x3 dilation 2 pad 2', convLayer({ c: 6, h: 12, w: 12 }, { numOutput: 10, kernelH: 3, kernelW: 3, padH: 2, padW: 2, dilationH: 2, dilationW: 2 })],
  ['3x3 group 2', convLayer({ c: 8, h: 9, w: 9 }, { numOutput: 6, kernelH: 3, kernelW: 3, padH: 1, padW: 1, group: 2 })],
  ['1x1 pad 1', convLayer({ c: 16, h: 6, w: 6 }, { numOutput: 20, kernelH: 1, kernelW: 1, padH: 1, padW: 1 })],
];

describe('layer parts laid back in place equal the whole layer', () => {
  for (const [name, l] of convs) {
    const s = l.inputShapes[0];
    const input = randomArray(s.c * s.h * s.w, 11, 2);
    for (const variant of ['wasm', 'reference'] as const) {
      it(`${name}: by rows, 2 and 3 parts, ${variant}`, () => {
        const whole = runLayer(l, [input], 1, { kernels: variant }).outputs[0];
        expect(splitRun(l, input, 'rows', 2, variant)).toEqual(whole);
        expect(splitRun(l, input, 'rows', 3, variant)).toEqual(whole);
      });
    }
    if (l.params.type === 'Convolution' && l.params.conv.group === 1) {
      it(`${name}: by output channels, fast`, () => {
        expect(splitRun(l, input, 'channels', 2, 'fast')).toEqual(runLayer(l, [input], 1, { kernels: 'fast' }).outputs[0]);
      });
    }
  }

  it('an inner product by output channels, wasm and fast', () => {
    const l = ipLayer({ c: 32, h: 3, w: 3 }, 50);
    const input = randomArray(288, 5);
    for (const variant of ['wasm', 'fast'] as const) {
      expect(splitRun(l, input, 'channels', 2, variant)).toEqual(runLayer(l, [input], 1, { kernels: variant }).outputs[0]);
    }
  });
});

describe('the split plan', () => {
  const big = convLayer({ c: 64, h: 56, w: 56 }, { numOutput: 64, kernelH: 3, kernelW: 3, padH: 1, padW: 1 });
  it('splits large layers by rows (wasm, reference) or output channels (fast)', () => {
    expect(planSplit(big, undefined, 2, 'wasm')).toEqual({ by: 'rows', ranges: [[0, 28], [28, 56]] });
    expect(planSplit(big, undefined, 2, 'fast')).toEqual({ by: 'channels', ranges: [[0, 32], [32, 64]] });
  });
  it('splits dynamic layers by output channels, but keeps SFMA and exact SPET (per-input-map statistics) whole', () => {
    const spet = { mode: 'threshold', fraction: 0.5, threshold: 0 } as const;
    expect(planSplit(big, { spet, sdss: { stride: 2, delta: 1 } }, 2, 'wasm')).toEqual({ by: 'channels', ranges: [[0, 32], [32, 64]] });
    expect(planSplit(big, { spet, sfma: { epsilon: 1 } }, 2, 'wasm')).toBeNull();
    expect(planSplit(big, { spet: { mode: 'exact', fraction: 0.5 } }, 2, 'wasm')).toBeNull();
  });
  it('keeps whole: one thread, small layers, layers doing little per input value', () => {
    expect(planSplit(big, undefined, 1, 'wasm')).toBeNull();
    expect(planSplit(convLayer({ c: 3, h: 8, w: 8 }, { numOutput: 8, kernelH: 3, kernelW: 3 }), undefined, 2, 'wasm')).toBeNull();
    // A 1 x 1 squeeze: 16 MACs per input value.
    expect(planSplit(convLayer({ c: 128, h: 55, w: 55 }, { numOutput: 16, kernelH: 1, kernelW: 1 }), undefined, 2, 'wasm')).toBeNull();
  });
});

describe('fusing a ReLU into parts, and sibling layers', () => {
  const conv = (name: string, bottom: string, top: string): Layer => ({ ...convLayer({ c: 4, h: 6, w: 6 }, { numOutput: 4, kernelH: 1, kernelW: 1 }), name, bottoms: [bottom], tops: [top] });
  const relu = (name: string, bottom: string, top: string): Layer => ({ ...reluLayer({ c: 4, h: 6, w: 6 }, 0), name, bottoms: [bottom], tops: [top] });
  // A fire module as the IR names it: in-place ReLUs get blobs of their own ('x@relu').
  const fire = [
    conv('squeeze', 'in', 's'), relu('relu_s', 's', 's@r'),
    conv('expand1', 's@r', 'e1'), relu('relu_e1', 'e1', 'e1@r'),
    conv('expand3', 's@r', 'e3'), relu('relu_e3', 'e3', 'e3@r'),
  ];
  // The execution plan decides which ReLU may be fused; the threads read it.
  const planOf = (layers: readonly Layer[]) => compilePlan({ layers, inputs: new Map(), outputs: [] }, {}, () => false);
  const fusableRelu = (layers: readonly Layer[], i: number) => planOf(layers).steps[i].fusedRelu;
  it('fuses the ReLU that alone reads a layer\'s output', () => {
    expect(fusableRelu(fire, 0)).toBe(1);
    expect(fusableRelu(fire, 4)).toBe(5);
    expect(fusableRelu(fire, 1)).toBeUndefined();
    // Another reader of the layer's own blob: the ReLU cannot replace it.
    expect(fusableRelu([...fire, conv('other', 'e3', 'o')], 4)).toBeUndefined();
  });
  it('finds the split layer reading the same input after a small layer (and its ReLU)', () => {
    expect(splitSibling(planOf(fire), 2)).toEqual({ main: 4, sideRelu: 3 });
    expect(splitSibling(planOf(fire), 0)).toBeNull();
    expect(splitSibling(planOf([fire[2], fire[4]]), 0)).toEqual({ main: 1 });
  });
  it('weighs ranges: a part can be made smaller for a thread that has a sibling to run', () => {
    expect(weightedRanges(55, [1, 0.8])).toEqual([[0, 31], [31, 55]]);
    expect(weightedRanges(64, [1, 1], 4)).toEqual([[0, 32], [32, 64]]);
  });
});
