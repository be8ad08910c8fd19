import protobuf from 'protobufjs';
import { ModelFormatError } from '../../errors.js';
import type { TextField, TextMessage, TextPosition, TextScalar } from './prototxt.js';

/** Where a message came from in the prototxt: attached to every converted object. */
export const SOURCE_POSITION: unique symbol = Symbol('sourcePosition');
/** Field names the schema does not know, kept so the caller can report them with a position. */
export const UNKNOWN_FIELDS: unique symbol = Symbol('unknownFields');

export interface UnknownField extends TextPosition {
  readonly name: string;
}

/** A plain object with the same layout as protobufjs `toObject` (snake_case keys, enums as names). */
export interface MessageObject {
  [field: string]: unknown;
  [SOURCE_POSITION]?: TextPosition;
  [UNKNOWN_FIELDS]?: UnknownField[];
}

const INTEGER_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);
const UNSIGNED_TYPES = new Set(['uint32', 'uint64', 'fixed32', 'fixed64']);

/**
 * The integers each type holds. A value outside would be silently wrapped by a protobuf encoder (or
 * reach a shape as 1e20); 64-bit fields stop at 2^53, where a JavaScript number stops being exact.
 */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sint64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sfixed64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  fixed64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * Checks a prototxt syntax tree against a message type of the schema and converts it to a plain
 * object. Type errors (a string where a number belongs, an unknown enum value, a repeated
 * singular field) throw with file, line and column; unknown field names are collected instead
 * (see UNKNOWN_FIELDS) so that the caller can first report a more useful error, such as an
 * unsupported layer type.
 */
export function textToMessage(tree: TextMessage, type: protobuf.Type, fileName: string, at: TextPosition = tree): MessageObject {
  const out: MessageObject = {};
  out[SOURCE_POSITION] = { line: at.line, column: at.column };
  for (const field of tree.fields) {
    // Own properties only: `constructor` or `__proto__` written as a field name must read as
    // unknown, not as a member of Object.prototype.
    const spec = Object.hasOwn(type.fields, field.name) ? type.fields[field.name] : undefined;
    if (!spec) {
      (out[UNKNOWN_FIELDS] ??= []).push({ name: field.name, line: field.line, column: field.column });
      continue;
    }
    const value = convertValue(field, spec, type, fileName);
    if (spec.repeated) {
      ((out[field.name] ??= []) as unknown[]).push(value);
    } else {
      if (Object.hasOwn(out, field.name)) {
        throw new ModelFormatError(`${fileName}:${field.line}:${field.column}: field '${field.name}' of ${type.name} is not repeated but is given more than once`);
      }
      out[field.name] = value;
    }
  }
  return out;
}

function convertValue(field: TextField, spec: protobuf.Field, parent: protobuf.Type, fileName: string): unknown {
  const at = `${fileName}:${field.value.line}:${field.value.column}`;
  const resolved = spec.resolvedType;
  if (resolved instanceof protobuf.Type) {
    if (field.value.kind !== 'message') {
      throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} is a message (${resolved.name}): write '${field.name} { ... }'`);
    }
    return textToMessage(field.value, resolved, fileName, field);
  }
  if (field.value.kind === 'message') {
    throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} takes a ${resolved instanceof protobuf.Enum ? 'enum value' : spec.type}, not a '{ ... }' block`);
  }
  const v: TextScalar = field.value;
  if (resolved instanceof protobuf.Enum) {
    if (v.kind === 'identifier' && Object.hasOwn(resolved.values, v.value as string)) return v.value;
    if (v.kind === 'number' && Number.isInteger(v.value)) {
      const name = resolved.valuesById[v.value as number];
      if (name !== undefined) return name;
    }
    throw new ModelFormatError(`${at}: '${v.text}' is not a value of ${resolved.name} (field '${field.name}'); expected one of ${Object.keys(resolved.values).join(', ')}`);
  }
  switch (spec.type) {
    case 'string':
      if (v.kind !== 'string') throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} takes a quoted string, found ${v.text}`);
      return v.value;
    case 'bytes':
      if (v.kind !== 'string') throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} takes a quoted string, found ${v.text}`);
      return new TextEncoder().encode(v.value as string);
    case 'bool':
      if (v.kind === 'identifier' && /^(true|t|True)$/.test(v.text)) return true;
      if (v.kind === 'identifier' && /^(false|f|False)$/.test(v.text)) return false;
      if (v.kind === 'number' && (v.value === 0 || v.value === 1)) return v.value === 1;
      throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} takes true or false, found ${v.text}`);
    case 'float':
    case 'double':
      if (v.kind === 'number') return v.value;
      if (v.kind === 'identifier' && /^(inf|infinity)$/i.test(v.text)) return Infinity;
      if (v.kind === 'identifier' && /^nan$/i.test(v.text)) return NaN;
      throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} takes a number, found ${v.text}`);
    default:
      if (INTEGER_TYPES.has(spec.type)) {
        if (v.kind !== 'number' || !Number.isInteger(v.value)) {
          throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} takes an integer, found ${v.text}`);
        }
        if (UNSIGNED_TYPES.has(spec.type) && (v.value as number) < 0) {
          throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} cannot be negative, found ${v.text}`);
        }
        const [min, max] = INTEGER_RANGES[spec.type];
        if ((v.value as number) < min || (v.value as number) > max) {
          throw new ModelFormatError(`${at}: field '${field.name}' of ${parent.name} is a ${spec.type}: ${v.text} is out of its range [${min}, ${max}]`);
        }
        return v.value;
      }
      throw new ModelFormatError(`${at}: field '${field.name}' has unsupported type ${spec.type}`);
  }
}

/**
 * Throws for the first field name the schema did not know, anywhere inside `msg`, e.g.
 * `net.prototxt:14:5: unknown field 'kernal_size' in convolution_param`.
 */
export function assertNoUnknownFields(msg: MessageObject, fileName: string, path = 'message'): void {
  const unknown = msg[UNKNOWN_FIELDS];
  if (unknown && unknown.length > 0) {
    const u = unknown[0];
    throw new ModelFormatError(`${fileName}:${u.line}:${u.column}: unknown field '${u.name}' in ${path}`);
  }
  for (const [key, value] of Object.entries(msg)) {
    const children = Array.isArray(value) ? value : [value];
    for (const child of children) {
      if (child !== null && typeof child === 'object' && SOURCE_POSITION in (child as object)) {
        assertNoUnknownFields(child as MessageObject, fileName, key);
      }
    }
  }
}
