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
