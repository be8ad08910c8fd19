/**
 * Constants that broadcast along the channels only: the operand of an Add / Mul that becomes a
 * per-channel Scale, PRelu's slopes, BatchNormalization's statistics.
 */
import { NetworkError } from '../../../errors.js';
import type { GraphImport, OnnxNode } from './graph-import.js';
import { innerDims, onnxDims, type Activation, type Constant } from './graph-values.js';

/** C values per channel, and whether the constant was one value for all (a scalar or all-ones dims). */
export interface ChannelValues {
  readonly values: Float32Array;
  readonly shared: boolean;
}

/** The constant as messages name it after the node (`initializer 'w'`): the node already names the file. */
function constantName(g: GraphImport, c: Constant): string {
  const prefix = `${g.fileName}: `;
  return c.what.startsWith(prefix) ? c.what.slice(prefix.length) : c.what;
}

/** The per-channel dims that broadcast against `a` (numpy rules): `[C, 1, 1] or [1, C, 1, 1]` for rank 4. */
function perChannelDims(a: Activation): string {
  const ones = Array<number>(a.rank - 2).fill(1);
  const short = [a.shape.c, ...ones];
  return a.rank === 2 ? `[${a.shape.c}]` : `[${short.join(', ')}] or [1, ${short.join(', ')}]`;
}

/** One value for every channel. */
function sharedValue(a: Activation, value: number): ChannelValues {
  return { values: new Float32Array(a.shape.c).fill(value), shared: true };
}

/**
 * The per-channel values of constant `c` broadcast (numpy rules, aligned on the last axis, opset 7
 * on) against activation `a`: dims [C, 1, 1] or [1, C, 1, 1] (rank 4), [C, 1] or [1, C, 1]
 * (rank 3), [C] or [1, C] (rank 2), or one value (a scalar, or all dims 1).
 *
 * @param finite require finite values (weights); Clip-like bounds may be infinite.
 * @throws NetworkError naming the node and the dims when the constant varies along another axis
 *   (or would enlarge the tensor).
 */
export function channelValues(g: GraphImport, node: OnnxNode, c: Constant, a: Activation, role: string, finite = true): ChannelValues {
  const { dims, data } = g.floats(c, finite);
  const refuse = (): NetworkError => new NetworkError(
    `${node.where}: its ${role} ${constantName(g, c)} has dims [${dims.join(', ')}], which does not broadcast against its input ${onnxDims(a)} `
    + `along the channels only: only per-channel (${perChannelDims(a)}) or single-value constants are supported`,
  );
  if (dims.length > a.rank) throw refuse();
  const padded = [...Array<number>(a.rank - dims.length).fill(1), ...dims];
  const channel = padded[1];
  if (padded.some((d, i) => i !== 1 && d !== 1) || (channel !== 1 && channel !== a.shape.c)) throw refuse();
  if (data.length === 1) return sharedValue(a, data[0]);
  return { values: data.slice(), shared: false };
}

/**
 * The per-channel values of the second operand `c` of an Add, Sub, Mul or Div before opset 7,
 * which broadcast only with `broadcast` 1 and then by the old rule: a one-element tensor (of rank
 * at most A's), or dims equal to a contiguous run of A's dims starting at `axis` (by default, A's
 * last dims); no dim of 1 expands. Per channel means the run starts at the channels (axis 1) and
 * any dims after C are A's own 1s. `broadcast` 0 wants A's full shape, batch included: refused.
 *
 * @throws NetworkError naming the node, the attribute and the dims for anything else.
 */
export function legacyChannelValues(g: GraphImport, node: OnnxNode, c: Constant, a: Activation, role: string): ChannelValues {
  const broadcast = node.attrs.int('broadcast', 0);
  const axis = node.attrs.has('axis') ? node.attrs.int('axis') : undefined;
  const { dims, data } = g.floats(c);
  const described = `its ${role} ${constantName(g, c)} of dims [${dims.join(', ')}]`;
  if (broadcast !== 1) {
    throw new NetworkError(`${node.where}: broadcast ${broadcast} (opset ${node.opset}): ${described} would need the input's full shape ${onnxDims(a)}, batch included: `
      + 'not supported (only broadcast 1 with a per-channel or single-value constant)');
  }
  if (data.length === 1 && dims.length <= a.rank) return sharedValue(a, data[0]);
  const aDims = innerDims(a);
  const start = axis ?? a.rank - dims.length;
  const run = aDims.slice(0, dims.length);
  if (start !== 1 || dims.length > aDims.length || dims.some((d, i) => d !== run[i]) || run.slice(1).some((d) => d !== 1)) {
    throw new NetworkError(`${node.where}: ${described} broadcast from axis ${start}${axis === undefined ? ' (suffix matching: no axis given)' : ''} `
      + `against its input ${onnxDims(a)} (opset ${node.opset}) is not per channel: only [${a.shape.c}] with axis 1, or a single value, is supported`);
  }
  return { values: data.slice(), shared: false };
}
