/**
 * ONNX TensorProto -> values: initializers, Constant nodes and the conformance suite's `.pb` files.
 *
 * A tensor's values are in one of three places: `raw_data` (little-endian bytes, by definition of
 * the format), the typed field of its data type (`float_data`, `int64_data`, ...), or an external
 * file (`data_location` EXTERNAL, `external_data` location / offset / length). Every count is
 * checked against the dims before anything is allocated, so a corrupt or hostile file fails in a
 * sentence, not in an allocation or a silently short tensor.
 */
import { ModelFormatError, NetworkError } from '../../../errors.js';
import { checkTensorSize } from '../../../ir/memory-need.js';
import { int64Value, onnx, type ITensorProto } from '../onnx-proto.js';

/**
 * Reads the bytes of an external-data file, named by a tensor's `location` (relative to the
 * model's folder). The Node loader supplies one that refuses paths leaving that folder.
 */
export type ExternalDataReader = (location: string) => Uint8Array;

/** A tensor's dims and its values as float32. */
export interface DecodedTensor {
  readonly dims: number[];
  readonly data: Float32Array;
}

/** A tensor's dims and its values as exact integers (shapes, axes, pads). */
export interface IntegerTensor {
  readonly dims: number[];
  readonly values: number[];
}

const T = onnx.TensorProto.DataType;

/** How one data type is stored: bytes per value in raw_data, the reader of one raw value, its typed field. */
interface Storage {
  readonly name: string;
  readonly bytes: number;
  readonly raw: (view: DataView, offset: number) => number;
  readonly field: 'floatData' | 'doubleData' | 'int32Data' | 'int64Data' | 'uint64Data';
  /** Maps a typed-field value to the tensor's value (float16 bits in int32_data). */
  readonly fromField?: (v: number) => number;
  readonly integer: boolean;
}

/** IEEE half precision bits -> number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 bits -> number (the upper half of a float32). */
function bfloat16ToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (bits & 0xffff) << 16);
  return view.getFloat32(0);
}

const STORAGE: ReadonlyMap<number, Storage> = new Map<number, Storage>([
  [T.FLOAT, { name: 'FLOAT', bytes: 4, raw: (v, o) => v.getFloat32(o, true), field: 'floatData', integer: false }],
  [T.DOUBLE, { name: 'DOUBLE', bytes: 8, raw: (v, o) => v.getFloat64(o, true), field: 'doubleData', integer: false }],
  [T.FLOAT16, { name: 'FLOAT16', bytes: 2, raw: (v, o) => halfToNumber(v.getUint16(o, true)), field: 'int32Data', fromField: halfToNumber, integer: false }],
  [T.BFLOAT16, { name: 'BFLOAT16', bytes: 2, raw: (v, o) => bfloat16ToNumber(v.getUint16(o, true)), field: 'int32Data', fromField: bfloat16ToNumber, integer: false }],
  [T.INT64, { name: 'INT64', bytes: 8, raw: (v, o) => Number(v.getBigInt64(o, true)), field: 'int64Data', integer: true }],
  [T.UINT64, { name: 'UINT64', bytes: 8, raw: (v, o) => Number(v.getBigUint64(o, true)), field: 'uint64Data', integer: true }],
  [T.INT32, { name: 'INT32', bytes: 4, raw: (v, o) => v.getInt32(o, true), field: 'int32Data', integer: true }],
  [T.UINT32, { name: 'UINT32', bytes: 4, raw: (v, o) => v.getUint32(o, true), field: 'uint64Data', integer: true }],
  [T.INT16, { name: 'INT16', bytes: 2, raw: (v, o) => v.getInt16(o, true), field: 'int32Data', integer: true }],
  [T.UINT16, { name: 'UINT16', bytes: 2, raw: (v, o) => v.getUint16(o, true), field: 'int32Data', integer: true }],
  [T.INT8, { name: 'INT8', bytes: 1, raw: (v, o) => v.getInt8(o), field: 'int32Data', integer: true }],
  [T.UINT8, { name: 'UINT8', bytes: 1, raw: (v, o) => v.getUint8(o), field: 'int32Data', integer: true }],
  [T.BOOL, { name: 'BOOL', bytes: 1, raw: (v, o) => v.getUint8(o), field: 'int32Data', integer: true }],
]);

/** The name of an ONNX data type, for messages (`FLOAT`, `STRING`, or the number when unknown). */
export function dataTypeName(type: number): string {
  return STORAGE.get(type)?.name ?? (onnx.TensorProto.DataType as unknown as Record<number, string>)[type] ?? `data type ${type}`;
}

/** The tensor's dims, checked: whole numbers >= 0 whose product one tensor may hold. */
export function tensorDims(proto: ITensorProto, what: string): number[] {
  const dims = (proto.dims ?? []).map((d) => int64Value(d));
  const bad = dims.find((d) => !(Number.isSafeInteger(d) && d >= 0));
  if (bad !== undefined) throw new ModelFormatError(`${what}: invalid dims [${dims.join(', ')}]: every dim must be a whole number >= 0`);
  checkTensorSize(dims.reduce((a, b) => a * b, 1), () => `${what} (dims [${dims.join(', ')}])`);
  return dims;
}

/** The bytes of an external tensor: the file named by `location`, from `offset`, `length` bytes. */
function externalBytes(proto: ITensorProto, what: string, expected: number, readExternal: ExternalDataReader | undefined): Uint8Array {
  const entries = new Map((proto.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new ModelFormatError(`${what}: its data is external but external_data gives no 'location'`);
  if (!readExternal) {
    throw new ModelFormatError(`${what}: its data is in the external file '${location}', which cannot be read here: load the model from its file (loadOnnxNetwork) so that its folder is known`);
  }
  const number = (key: string): number | undefined => {
    const text = entries.get(key);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!(Number.isSafeInteger(n) && n >= 0)) throw new ModelFormatError(`${what}: external_data ${key} '${text}' is not a whole number >= 0`);
    return n;
  };
  const offset = number('offset') ?? 0;
  const file = readExternal(location);
  const length = number('length') ?? file.length - offset;
  if (offset + length > file.length) {
    throw new ModelFormatError(`${what}: external_data asks for bytes ${offset} to ${offset + length} of '${location}', which has only ${file.length} bytes: the file is truncated or not this model's`);
  }
  if (length !== expected) {
    throw new ModelFormatError(`${what}: external_data length is ${length} bytes in '${location}', but its dims and data type need ${expected}`);
  }
  return file.subarray(offset, offset + length);
}

/** Decodes every value of a tensor as numbers (float64), checked against its dims. */
function tensorValues<A extends Float32Array | Float64Array>(
  proto: ITensorProto, what: string, readExternal: ExternalDataReader | undefined, make: (count: number) => A,
): { dims: number[]; values: A; storage: Storage } {
  const type = proto.dataType ?? 0;
  const storage = STORAGE.get(type);
  if (!storage) throw new NetworkError(`${what}: data type ${dataTypeName(type)} is not supported (numeric tensors only)`);
  if (proto.segment) throw new ModelFormatError(`${what}: a segmented tensor is not supported`);
  const dims = tensorDims(proto, what);
  const count = dims.reduce((a, b) => a * b, 1);
  let raw: Uint8Array | undefined;
  if (proto.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    raw = externalBytes(proto, what, count * storage.bytes, readExternal);
  } else if (proto.rawData && proto.rawData.length > 0) {
    raw = proto.rawData;
    if (raw.length !== count * storage.bytes) {
      throw new ModelFormatError(`${what}: raw_data has ${raw.length} bytes, but dims [${dims.join(', ')}] of ${storage.name} need ${count * storage.bytes}: the file is truncated or corrupt`);
    }
  }
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const values = make(count);
    for (let i = 0; i < count; i++) values[i] = storage.raw(view, i * storage.bytes);
    return { dims, values, storage };
  }
  const field = (proto[storage.field] ?? []) as (number | { toNumber(): number; toString(): string })[];
  if (field.length !== count) {
    throw new ModelFormatError(`${what}: holds ${field.length} value(s) (${storage.field}) for dims [${dims.join(', ')}], which need ${count}`);
  }
  const values = make(count);
  for (let i = 0; i < count; i++) {
    const v = int64Value(field[i]);
    values[i] = storage.fromField ? storage.fromField(v) : v;
  }
  return { dims, values, storage };
}

/**
 * A tensor's dims and values as float32 (any numeric data type; integers and doubles converted).
 *
 * @param what names the tensor in errors, e.g. `model.onnx: initializer 'conv1.weight'`.
 * @param readExternal reads external-data files; without it an external tensor is an error.
 * @throws ModelFormatError when the values do not match the dims or cannot be read; NetworkError
 *   for a non-numeric data type or a tensor too large to hold.
 */
export function decodeTensor(proto: ITensorProto, what = `tensor '${proto.name ?? ''}'`, readExternal?: ExternalDataReader): DecodedTensor {
  const { dims, values } = tensorValues(proto, what, readExternal, (n) => new Float32Array(n));
  return { dims, data: values };
}

/** A tensor of an integer data type (INT64 shapes, axes) as exact integers; see {@link decodeTensor}. */
export function decodeIntegerTensor(proto: ITensorProto, what: string, readExternal?: ExternalDataReader): IntegerTensor {
  const { dims, values, storage } = tensorValues(proto, what, readExternal, (n) => new Float64Array(n));
  if (!storage.integer) throw new NetworkError(`${what}: expected an integer tensor (INT64 or INT32), found ${storage.name}`);
  const list = Array.from(values);
  if (list.some((v) => !Number.isSafeInteger(v))) throw new ModelFormatError(`${what}: holds an integer beyond 2^53`);
  return { dims, values: list };
}

/**
 * Decodes a serialized TensorProto (the ONNX backend tests' `test_data_set_N/input_0.pb` files).
 *
 * @throws ModelFormatError when the bytes are not a TensorProto or its values do not match its dims.
 */
export function decodeTensorBytes(bytes: Uint8Array, what: string): DecodedTensor {
  let proto: ITensorProto;
  try {
    proto = onnx.TensorProto.decode(bytes);
  } catch (err) {
    throw new ModelFormatError(`${what}: not a serialized ONNX TensorProto (protobuf decoding failed: ${(err as Error).message})`);
  }
  return decodeTensor(proto, what);
}
