/**
 * ONNX's sliding-window geometry (Conv, MaxPool, AveragePool) -> the IR's, one axis at a time.
 *
 * ONNX pads each side of an axis separately (`pads` = [h_begin, w_begin, h_end, w_end], or
 * `auto_pad`; a 1-D window over N x C x L, read as 1 x L, has [begin, end] along the width) and
 * pools may round the output size down or up (`ceil_mode`). The IR pads both sides
 * equally and rounds as Caffe (up, or down with `ceilMode` false). A window geometry is accepted
 * when the IR computes exactly the same windows: the same first window (begin pad), the same
 * number of windows, and for an average the same divisor in every window. A padding at the end
 * that no window reaches changes nothing, so asymmetric pads are accepted whenever the output size
 * agrees. Anything else is refused with the numbers, never approximated.
 */
import { NetworkError } from '../../../errors.js';
import { convOutputSize } from '../../../ir/layers/convolution.js';
import { poolOutputSize } from '../../../ir/layers/pooling.js';
import type { OnnxNode } from './graph-import.js';

/** Begin and end padding along H and W as the node declares it (`pads` or `auto_pad`). */
export interface DeclaredPads {
  readonly begin: readonly [number, number];
  readonly end: readonly [number, number];
  /** auto_pad SAME_*: the output size is ceil(input / stride), whatever the rounding. */
  readonly same: boolean;
}

const AXES = ['height', 'width'] as const;

/** The spatial axes of a window: 2 (H x W), or 1 (L, read as a 1 x L image: nothing along the height). */
export type WindowAxes = 1 | 2;

/**
 * Reads `auto_pad` and `pads` for a window of the given (dilated) extents and strides over an
 * input of `input` = [H, W] (a 1-D window's height: extent 1, stride 1, never padded).
 */
export function declaredPads(node: OnnxNode, axes: WindowAxes, input: readonly [number, number], extent: readonly [number, number], strides: readonly [number, number]): DeclaredPads {
  const autoPad = node.attrs.string('auto_pad', 'NOTSET');
  const pads = node.attrs.ints('pads', Array<number>(2 * axes).fill(0));
  if (pads.length !== 2 * axes) {
    throw new NetworkError(`${node.where}: pads has ${pads.length} values; its ${axes}-D window takes ${2 * axes} (${axes === 2 ? 'h_begin, w_begin, h_end, w_end' : 'begin, end'})`);
  }
  if (pads.some((p) => p < 0)) throw new NetworkError(`${node.where}: negative pads [${pads.join(', ')}] (cropping) are not supported`);
  if (autoPad === 'NOTSET') {
    return axes === 2 ? { begin: [pads[0], pads[1]], end: [pads[2], pads[3]], same: false } : { begin: [0, pads[0]], end: [0, pads[1]], same: false };
  }
  if (pads.some((p) => p !== 0)) throw new NetworkError(`${node.where}: auto_pad ${autoPad} together with explicit pads: give one or the other`);
  if (autoPad === 'VALID') return { begin: [0, 0], end: [0, 0], same: false };
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') {
    throw new NetworkError(`${node.where}: auto_pad '${autoPad}' is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER)`);
  }
  const begin: number[] = [];
  const end: number[] = [];
  for (let a = 0; a < 2; a++) {
    const out = Math.ceil(input[a] / strides[a]);
    const total = Math.max(0, (out - 1) * strides[a] + extent[a] - input[a]);
    const before = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    begin.push(before);
    end.push(total - before);
  }
  return { begin: [begin[0], begin[1]], end: [end[0], end[1]], same: true };
}

/**
 * The IR's symmetric convolution padding for the declared pads, plus `extra` (a Pad node folded
 * in, per axis): the begin pad, when the IR's floor rounding then gives ONNX's output size.
 */
export function convolutionPads(node: OnnxNode, axes: WindowAxes, input: readonly [number, number], kernel: readonly [number, number], strides: readonly [number, number],
  dilations: readonly [number, number], extra: readonly [number, number]): [number, number] {
  const padded: [number, number] = [input[0] + 2 * extra[0], input[1] + 2 * extra[1]];
  const extent: [number, number] = [dilations[0] * (kernel[0] - 1) + 1, dilations[1] * (kernel[1] - 1) + 1];
  const pads = declaredPads(node, axes, padded, extent, strides);
  const result: number[] = [];
  for (let a = 0; a < 2; a++) {
    const onnxOut = pads.same ? Math.ceil(padded[a] / strides[a]) : Math.floor((padded[a] + pads.begin[a] + pads.end[a] - extent[a]) / strides[a]) + 1;
    const pad = extra[a] + pads.begin[a];
    if (convOutputSize(input[a], kernel[a], strides[a], pad, dilations[a]) !== onnxOut) {
      throw new NetworkError(`${node.where}: asymmetric padding along the ${AXES[a]} (${pads.begin[a]} before, ${pads.end[a]} after${pads.same ? ', from auto_pad' : ''}) `
        + 'is not supported: the IR pads both sides of an axis equally');
    }
    result.push(pad);
  }
  return [result[0], result[1]];
}

/** One axis of a pooling, as ONNX declares it. */
export interface PoolAxis {
  readonly input: number;
  readonly kernel: number;
  readonly stride: number;
  /** Zero padding of a folded Pad node, on both sides. */
  readonly extra: number;
  readonly begin: number;
  readonly end: number;
  readonly same: boolean;
  readonly ceil: boolean;
}

/** ONNX's output size of a pooling axis: rounded as `ceil`, the last window starting inside the input or its begin padding. */
function onnxPoolOutput(a: PoolAxis): number {
  const size = a.input + 2 * a.extra;
  if (a.same) return Math.ceil(size / a.stride);
  let out = (a.ceil ? Math.ceil : Math.floor)((size + a.begin + a.end - a.kernel) / a.stride) + 1;
  if (a.ceil && (out - 1) * a.stride >= size + a.begin) out--;
  return out;
}

/**
 * The IR padding of a pooling axis that computes exactly ONNX's windows, with the IR roundings
 * (`ceilModes`: up, down or both) that give its output size, or a NetworkError saying where they differ.
 *
 * @param countIncludePad AveragePool's count_include_pad; undefined for MaxPool.
 */
export function poolingAxis(node: OnnxNode, axis: 0 | 1, a: PoolAxis, countIncludePad: boolean | undefined): { pad: number; ceilModes: boolean[] } {
  const name = AXES[axis];
  const pad = a.extra + a.begin;
  if (pad >= a.kernel) throw new NetworkError(`${node.where}: padding ${pad} along the ${name} is not smaller than the kernel (${a.kernel}): not supported`);
  const out = onnxPoolOutput(a);
  const ceilModes = [true, false].filter((c) => poolOutputSize(a.input, a.kernel, a.stride, pad, c) === out);
  if (ceilModes.length === 0) {
    throw new NetworkError(`${node.where}: its ${out} windows along the ${name} (pads ${a.begin} before, ${a.end} after) are not what a pooling padded equally on both sides gives: asymmetric padding is not supported here`);
  }
  for (let i = 0; i < out; i++) {
    const start = i * a.stride - pad;
    const end = start + a.kernel;
    if (start >= a.input) throw new NetworkError(`${node.where}: its last window along the ${name} lies wholly in the padding: not supported`);
    if (countIncludePad === undefined) continue;
    // The IR divides by the window clipped to the input and its (equal) padding (Caffe's rule).
    const ours = Math.min(end, a.input + pad) - start;
    const [lo, hi] = countIncludePad ? [-pad, a.input + a.extra + a.end] : [-a.extra, a.input + a.extra];
    const theirs = Math.min(end, hi) - Math.max(start, lo);
    if (ours !== theirs) {
      const why = countIncludePad ? 'the padding at its two ends differs' : 'count_include_pad 0 leaves the padding out of the divisor, the IR counts it (Caffe)';
      throw new NetworkError(`${node.where}: its window ${i} along the ${name} averages over ${theirs} positions where the IR's would divide by ${ours} (${why}): not supported`);
    }
  }
  return { pad, ceilModes };
}
