/**
 * Splitting ONE image's layer across threads, so that a batch of one uses every core:
 * - a Convolution by output ROWS: each part computes every output channel for a band of rows
 *   from the band of input rows it reads (padding rows written as explicit zeros, so the part
 *   is an ordinary padding-free convolution): no im2col is done twice, each thread gets only
 *   its band of the input, and every output is the same sum in the same order as the whole layer;
 * - an InnerProduct (and, on the fast TypeScript kernels, a group-1 Convolution) by OUTPUT
 *   CHANNELS: each part has its rows of the weights;
 * - a dynamic layer (SPET in threshold mode, SDSS) by OUTPUT CHANNELS: its decisions are per
 *   neuron and per output map, so each part takes the decisions the whole layer takes, and the
 *   parts' counters and decision traces add up to the whole layer's.
 * Parts of one layer, laid back in place, are the layer's output bit for bit.
 */
import { denseMacs } from '../ir/layer-metrics.js';
import type { LayerDecisions } from '../records/decisions.js';
import type { LayerCounters } from '../records/counters.js';
import { runLayer } from '../backends/cpu/cpu-backend.js';
import type { KernelVariant } from '../backends/cpu/kernel-types.js';
import { hasEffort, type LayerEffort } from '../effort/effort.js';
import { isConvOrInnerProduct, type Layer } from '../ir/network.js';
import type { ExecutionPlan } from '../plan/execution-plan.js';

/**
 * Dense MACs per image under which a layer runs whole: a round trip to a worker (copies, wake-up,
 * reply) costs ~0.1-0.3 ms, what 4-8 M MACs cost on one thread of the wasm kernels (measured:
 * cifar10-quick's conv2, 6.5 M, ran slower split). Dynamic layers run ~4x fewer MACs per second,
 * so they pay from a quarter of that.
 */
export const MIN_SPLIT_MACS = 8_000_000;
export const MIN_SPLIT_MACS_DYNAMIC = MIN_SPLIT_MACS / 4;
/**
 * MACs per input value under which a layer runs whole: copying a value to a worker and into its
 * kernel costs about what 30-60 MACs do, so layers that do little per value (SqueezeNet's 1 x 1
 * squeeze layers: 16-48) gain nothing from a second thread.
 */
export const MIN_MACS_PER_INPUT = 64;

/** How a layer is split: its kind and the `parts` ranges (rows or output channels). */
export interface SplitPlan {
  readonly by: 'rows' | 'channels';
  readonly ranges: ReadonlyArray<readonly [number, number]>;
}

/**
 * How to split `layer` (with its `effort` knobs) into at most `parts` parts for the `kernels`
 * variant, or null when it runs whole on one thread. Dense convolutions split by rows on the wasm
 * and reference kernels; the fast TypeScript GEMM's summation order depends on how many columns
 * (positions) it blocks, so there a group-1 convolution splits by output channels instead (its
 * rows' sums do not depend on M). Dynamic layers split by output channels (see below).
 */
export function planSplit(layer: Layer, effort: LayerEffort | undefined, parts: number, kernels: KernelVariant): SplitPlan | null {
  if (parts < 2 || !layer.weights) return null;
  const macs = denseMacs(layer, 1);
  const input = layer.inputShapes[0];
  const minMacs = hasEffort(effort) ? MIN_SPLIT_MACS_DYNAMIC : MIN_SPLIT_MACS;
  if (macs < minMacs || macs < MIN_MACS_PER_INPUT * input.c * input.h * input.w) return null;
  const p = layer.params;
  const ranges = (n: number, align: number) => evenRanges(n, parts, align);
  if (hasEffort(effort)) {
    // A dynamic layer splits by output channels, where every decision is per neuron or per output
    // map; SFMA's and exact SPET's per-input-map statistics belong to the whole layer: run whole.
    if (effort.sfma || effort.spet?.mode === 'exact') return null;
    // Tile mode's channel order and per-channel thresholds belong to the whole layer too.
    if (effort.tile) return null;
    const n = p.type === 'Convolution' && p.conv.group === 1 ? p.conv.numOutput : p.type === 'InnerProduct' ? p.ip.numOutput : 0;
    const r = ranges(n, 4);
    return r.length > 1 ? { by: 'channels', ranges: r } : null;
  }
  if (p.type === 'Convolution' && kernels !== 'fast') {
    const r = ranges(layer.outputShapes[0].h, 1);
    return r.length > 1 ? { by: 'rows', ranges: r } : null;
  }
  if (p.type === 'Convolution' && p.conv.group === 1) {
    const r = ranges(p.conv.numOutput, 4);
    return r.length > 1 ? { by: 'channels', ranges: r } : null;
  }
  if (p.type === 'InnerProduct') {
    const r = ranges(p.ip.numOutput, 4);
    return r.length > 1 ? { by: 'channels', ranges: r } : null;
  }
  return null;
}

/**
 * `parts` contiguous ranges covering [0, n), as equal as whole multiples of `align` allow (so
 * channel parts keep whole micro-tiles of rows); empty ranges are dropped.
 */
export function evenRanges(n: number, parts: number, align = 1): Array<readonly [number, number]> {
  return weightedRanges(n, new Array<number>(parts).fill(1), align).filter(([from, to]) => to > from);
}

/** Contiguous ranges covering [0, n), one per weight, sized in proportion (multiples of `align`); some may be empty. */
export function weightedRanges(n: number, weights: readonly number[], align = 1): Array<readonly [number, number]> {
  const total = weights.reduce((a, b) => a + b, 0);
  const ranges: Array<readonly [number, number]> = [];
  let from = 0;
  let sum = 0;
  weights.forEach((w, k) => {
    sum += w;
    const to = k === weights.length - 1 ? n : Math.max(from, Math.min(n, Math.round((n * sum) / total / align) * align));
    ranges.push([from, to]);
    from = to;
  });
  return ranges;
}

/**
 * A sibling of a split layer: `side` (a dense Convolution / InnerProduct too small to split,
 * followed or not by its fused ReLU `sideRelu`) reads the same single input as the split layer
 * `main` right after it and nothing reads `side`'s output before `main`: a worker can run `side`
 * whole beside its part of `main` (SqueezeNet's fire modules: the 1 x 1 expand beside the 3 x 3).
 * Returns `main`'s index (and the ReLU's), or null.
 */
export function splitSibling(plan: ExecutionPlan, side: number): { readonly main: number; readonly sideRelu?: number } | null {
  const { layer, fusedRelu: relu } = plan.steps[side];
  if (!isConvOrInnerProduct(layer) || !layer.weights || layer.bottoms.length !== 1 || layer.tops.length !== 1) return null;
  const k = relu === undefined ? side + 1 : side + 2;
  const main = plan.steps[k]?.layer;
  if (!main || main.bottoms.length !== 1 || main.bottoms[0] !== layer.bottoms[0] || main.bottoms[0] === layer.tops[0]) return null;
  return relu === undefined ? { main: k } : { main: k, sideRelu: relu };
}

const parts = new WeakMap<Layer, Map<string, Layer>>();

function cached(layer: Layer, key: string, make: () => Layer): Layer {
  let byKey = parts.get(layer);
  if (!byKey) parts.set(layer, (byKey = new Map()));
  let part = byKey.get(key);
  if (!part) byKey.set(key, (part = make()));
  return part;
}

/** Input rows [y0, y1) (y0 may be negative: padding) that output rows [from, to) of a convolution read. */
function inputBand(layer: Layer, from: number, to: number): readonly [number, number] {
  if (layer.params.type !== 'Convolution') throw new Error(`dyvedeep: layer '${layer.name}' is no convolution`);
  const c = layer.params.conv;
  const y0 = from * c.strideH - c.padH;
  return [y0, (to - 1) * c.strideH - c.padH + (c.kernelH - 1) * c.dilationH + 1];
}

/**
 * Part [from, to) of `layer` split `by` rows or channels (cached per layer, so each part's weight
 * views are packed once per thread). A ReLU's part is the ReLU on part [from, to) of the output
 * of `producer`, the layer it rectifies.
 */
export function layerPart(layer: Layer, by: SplitPlan['by'], from: number, to: number, producer?: Layer): Layer {
  return cached(layer, `${by}:${from}:${to}`, () => {
    const p = layer.params;
    if (p.type === 'ReLU' && producer) {
      const shape = layerPart(producer, by, from, to).outputShapes[0];
      return { ...layer, inputShapes: [shape], outputShapes: [shape] };
    }
    const w = layer.weights;
    if (!w) throw new Error(`dyvedeep: layer '${layer.name}' has no weights to split`);
    const out = layer.outputShapes[0];
    if (by === 'rows' && p.type === 'Convolution') {
      const [y0, y1] = inputBand(layer, from, to);
      return {
        ...layer,
        params: { ...p, conv: { ...p.conv, padH: 0 } },
        inputShapes: [{ ...layer.inputShapes[0], h: y1 - y0 }],
        outputShapes: [{ ...out, h: to - from }],
      };
    }
    if (by === 'channels' && (p.type === 'InnerProduct' || p.type === 'Convolution')) {
      const perOutput = w.weight.length / out.c;
      return {
        ...layer,
        params: p.type === 'Convolution' ? { ...p, conv: { ...p.conv, numOutput: to - from } } : { ...p, ip: { ...p.ip, numOutput: to - from } },
        outputShapes: [{ ...out, c: to - from }],
        weights: { weight: w.weight.subarray(from * perOutput, to * perOutput), ...(w.bias && { bias: w.bias.subarray(from, to) }) },
      };
    }
    throw new Error(`dyvedeep: layer '${layer.name}' (${p.type}) cannot be split by ${by}`);
  });
}

/**
 * What part [from, to) of `layer` reads from the layer's input (one image). `reuse`: write it into
 * the array kept for this part (its padding rows, never written, stay zero), for a part consumed
 * before the next call (this thread's own); otherwise a new array (one sent to a worker).
 */
export function partInput(layer: Layer, by: SplitPlan['by'], from: number, to: number, input: Float32Array, reuse = false): Float32Array {
  if (by === 'channels') return input;
  const { c, h, w } = layer.inputShapes[0];
  const [y0, y1] = inputBand(layer, from, to);
  const rows = y1 - y0;
  const band = reuse ? kept(layerPart(layer, by, from, to), c * rows * w) : new Float32Array(c * rows * w);
  // Rows outside [0, h) stay zero: the padding the whole layer would have read.
  const first = Math.max(0, y0);
  const last = Math.min(h, y1);
  if (last > first) {
    for (let ch = 0; ch < c; ch++) band.set(input.subarray((ch * h + first) * w, (ch * h + last) * w), (ch * rows + first - y0) * w);
  }
  return band;
}

const bands = new WeakMap<Layer, Float32Array>();

/** The input array kept for a layer part (a new one of `n` zeros the first time). */
function kept(part: Layer, n: number): Float32Array {
  let band = bands.get(part);
  if (!band) bands.set(part, (band = new Float32Array(n)));
  return band;
}

/** What a part computed: its output (ReLU'd when asked for), the counters of the layer (and the ReLU), its decisions when traced. */
export interface PartRun {
  readonly output: Float32Array;
  readonly counters: LayerCounters[];
  readonly decisions?: LayerDecisions;
}

/** How a part runs: the kernels, the layer's effort knobs (dynamic layers) and the ReLU to run after it. */
export interface PartOptions {
  readonly kernels: KernelVariant;
  readonly effort?: LayerEffort;
  /** The layer's output reaches the network through a ReLU only (SDSS compares rectified values). */
  readonly rectified?: boolean;
  readonly trace?: boolean;
  /** A ReLU layer to run on the part's output (PlannedLayer.fusedRelu). */
  readonly relu?: Layer;
  /** SPET through a residual sum: the part's slice of the sum's other operand (partAddend). */
  readonly addend?: Float32Array;
}

/** Part [from, to) of `layer` on `input` (what partInput gave), then the fused ReLU when given. */
export function runPart(layer: Layer, by: SplitPlan['by'], from: number, to: number, input: Float32Array, o: PartOptions): PartRun {
  const r = runLayer(layerPart(layer, by, from, to), [input], 1, {
    kernels: o.kernels, effort: o.effort, rectified: o.rectified, trace: o.trace, ...(o.addend && { addend: o.addend }),
  });
  const decisions = r.decisions ? { decisions: r.decisions } : {};
  if (!o.relu) return { output: r.outputs[0], counters: [r.counters], ...decisions };
  const rectified = runLayer(layerPart(o.relu, by, from, to, layer), r.outputs, 1, { kernels: o.kernels });
  return { output: rectified.outputs[0], counters: [r.counters, rectified.counters], ...decisions };
}

/**
 * The part [from, to) of a residual sum's other operand (one image, indexed like the layer's
 * output): dynamic layers split by output channels, so a view of those channels' maps.
 */
export function partAddend(layer: Layer, by: SplitPlan['by'], from: number, to: number, addend: Float32Array): Float32Array {
  if (by !== 'channels') throw new Error(`dyvedeep: layer '${layer.name}': a residual addend splits by output channels only`);
  const { h, w } = layer.outputShapes[0];
  return addend.subarray(from * h * w, to * h * w);
}

/** Writes part [from, to)'s output into the layer's output `y` (one image). */
export function placePart(layer: Layer, by: SplitPlan['by'], from: number, to: number, part: Float32Array, y: Float32Array): void {
  const { c, h, w } = layer.outputShapes[0];
  if (by === 'channels') {
    y.set(part, from * h * w);
    return;
  }
  const rows = to - from;
  for (let ch = 0; ch < c; ch++) y.set(part.subarray(ch * rows * w, (ch + 1) * rows * w), (ch * h + from) * w);
}
