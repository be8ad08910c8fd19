/**
 * The ONNX protobuf schema (npm `onnx-proto`: protobufjs static code generated from onnx.proto).
 *
 * The package is CommonJS with `module.exports = $root`, so ES modules see the namespace only as
 * the default export's `onnx` property: this file is the one place that knows it.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

/** The `onnx` namespace of message classes and enums (ModelProto, TensorProto.DataType, ...). */
export const onnx = onnxProto.onnx;

export type INodeProto = OnnxTypes.INodeProto;
export type ITensorProto = OnnxTypes.ITensorProto;
export type IAttributeProto = OnnxTypes.IAttributeProto;
export type IValueInfoProto = OnnxTypes.IValueInfoProto;
export type IModelProto = OnnxTypes.IModelProto;
export type IGraphProto = OnnxTypes.IGraphProto;

/**
 * An int64 field as decoded: protobufjs gives a `Long` object when the `long` package is present,
 * else a number. Returns the exact value, or NaN when it is beyond 2^53 (no size here is).
 */
export function int64Value(v: number | { toNumber(): number; toString(): string } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  return Number.isSafeInteger(n) ? n : Number.NaN;
}
