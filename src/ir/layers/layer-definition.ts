import { NetworkError } from '../../errors.js';
import type { LayerParams, Shape } from '../network.js';

/**
 * A parsed Caffe message as the layer registry reads it: the layout of protobufjs `toObject`
 * (snake_case keys, enums as names), which the Caffe loader's message objects have.
 */
export interface MessageObject {
  readonly [field: string]: unknown;
}

/** Where a layer is, for error messages: `layer 'conv1' (Convolution)`, with its prototxt position. */
export interface LayerContext {
  readonly name: string;
  readonly where: string;
}

/**
 * Everything the IR knows about one layer type: how to read its Caffe parameters, how many blobs
 * it takes and makes, its output shapes, the shapes of its learned blobs and its dense MACs.
 * Backends keep their own kernel tables keyed by the same `type`.
 */
export interface LayerDefinition<P extends LayerParams = LayerParams> {
  readonly type: P['type'];
  /** Names of the type in Caffe's legacy V1 enum (e.g. CONVOLUTION). */
  readonly v1Names: readonly string[];
  /** Number of bottoms accepted: [min, max]. */
  readonly bottoms: readonly [number, number];
  /** Number of tops accepted: [min, max]. */
  readonly tops: readonly [number, number];
  /** Reads the type's parameters from a Caffe LayerParameter / V1LayerParameter object. */
  parse(layer: MessageObject, ctx: LayerContext): P;
  /** Output shapes per image; throws NetworkError when the inputs do not fit. */
  outputShapes(params: P, inputs: readonly Shape[], tops: number, ctx: LayerContext): Shape[];
  /** Shapes of the learned blobs in Caffe order (weights, then bias), or [] for none. */
  blobShapes(params: P, inputs: readonly Shape[]): number[][];
  /** Multiply-accumulates of the dense layer for one image (0 for layers without weights). */
  macs(params: P, inputs: readonly Shape[], outputs: readonly Shape[]): number;
}

/** Reads a message-typed sub-object (`convolution_param`), or an empty one. */
export function subMessage(layer: MessageObject, field: string): MessageObject {
  return (layer[field] as MessageObject | undefined) ?? {};
}

export function optionalNumber(msg: MessageObject, field: string): number | undefined {
  const v = msg[field];
  return typeof v === 'number' ? v : undefined;
}

export function numberOr(msg: MessageObject, field: string, fallback: number): number {
  return optionalNumber(msg, field) ?? fallback;
}

export function booleanOr(msg: MessageObject, field: string, fallback: boolean): boolean {
  const v = msg[field];
  return typeof v === 'boolean' ? v : fallback;
}

export function numberList(msg: MessageObject, field: string): number[] {
  const v = msg[field];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]) as number[];
}

export function layerError(ctx: LayerContext, message: string): NetworkError {
  return new NetworkError(`${ctx.where}: ${message}`);
}

/**
 * Resolves Caffe's three ways of giving a 2-D size: `hw_h` + `hw_w` (kernel_h, kernel_w), or the
 * (repeated) `field` (kernel_size) with one value for both dims or two (h, w).
 */
export function pair(msg: MessageObject, field: string, hw: string, fallback: number | undefined, ctx: LayerContext): [number, number] {
  const h = optionalNumber(msg, `${hw}_h`);
  const w = optionalNumber(msg, `${hw}_w`);
  const list = numberList(msg, field);
  if (h !== undefined || w !== undefined) {
    if (list.length > 0) throw layerError(ctx, `give either ${field} or ${hw}_h/${hw}_w, not both`);
    if (h === undefined || w === undefined) throw layerError(ctx, `${hw}_h and ${hw}_w must be given together`);
    return [h, w];
  }
  if (list.length === 1) return [list[0], list[0]];
  if (list.length === 2) return [list[0], list[1]];
  if (list.length > 2) throw layerError(ctx, `${field} has ${list.length} values; only 2-D layers are supported`);
  if (fallback === undefined) throw layerError(ctx, `${field} is required`);
  return [fallback, fallback];
}

export function requirePositive(value: number, what: string, ctx: LayerContext): number {
  if (!Number.isInteger(value) || value <= 0) throw layerError(ctx, `${what} must be a positive integer, found ${value}`);
  return value;
}
