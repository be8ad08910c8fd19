/**
 * Typed reading of an ONNX node's attributes, remembering which were read: an attribute no
 * translation asked for is one whose meaning the importer would ignore, so it is an error naming
 * the node and the attribute (see {@link NodeAttributes.assertAllRead}), never a silent wrong answer.
 */
import { ModelFormatError, NetworkError } from '../../../errors.js';
import { int64Value, onnx, type IAttributeProto, type INodeProto, type ITensorProto } from '../onnx-proto.js';

const A = onnx.AttributeProto.AttributeType;

/**
 * A FLOAT attribute's float32 value as the shortest decimal that reads back as the same float32:
 * `0.2`, not 0.20000000298023224. That is the number the model's author wrote, and the one a Caffe
 * prototxt gives the IR, so a network exported and read back keeps its parameters exactly.
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || Math.fround(value) !== value) return value;
  for (let digits = 1; digits < 17; digits++) {
    const v = Number(value.toPrecision(digits));
    if (Math.fround(v) === value) return v;
  }
  return value;
}

/** The attributes of one node; `where` names the node in messages (`model.onnx: node 'conv1' (Conv)`). */
export class NodeAttributes {
  private readonly byName = new Map<string, IAttributeProto>();
  private readonly read = new Set<string>();

  constructor(node: INodeProto, private readonly where: string) {
    for (const a of node.attribute ?? []) {
      const name = a.name ?? '';
      if (this.byName.has(name)) throw new ModelFormatError(`${where}: attribute '${name}' is given twice`);
      if (a.refAttrName) throw new NetworkError(`${where}: attribute '${name}' refers to a function attribute, which is not supported`);
      this.byName.set(name, a);
    }
  }

  /** Whether the node gives the attribute. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: number, present: (a: IAttributeProto) => boolean, kind: string): IAttributeProto | undefined {
    const a = this.byName.get(name);
    this.read.add(name);
    if (!a) return undefined;
    // Files from before IR version 2 may leave `type` unset: then the field that is set decides.
    if (a.type !== undefined && a.type !== null && a.type !== A.UNDEFINED ? a.type !== type : !present(a)) {
      throw new ModelFormatError(`${this.where}: attribute '${name}' must be ${kind}`);
    }
    return a;
  }

  /** An INT attribute, or `fallback` when absent (absent and no fallback: an error). */
  int(name: string, fallback?: number): number {
    const a = this.get(name, A.INT, (x) => x.i !== undefined && x.i !== null, 'an integer (INT)');
    if (!a) return this.missing(name, fallback);
    const v = int64Value(a.i);
    if (!Number.isSafeInteger(v)) throw new ModelFormatError(`${this.where}: attribute '${name}' is beyond 2^53`);
    return v;
  }

  /** A FLOAT attribute, or `fallback` when absent. */
  float(name: string, fallback?: number): number {
    const a = this.get(name, A.FLOAT, (x) => x.f !== undefined && x.f !== null, 'a float (FLOAT)');
    return a ? shortestFloat32(a.f ?? 0) : this.missing(name, fallback);
  }

  /** An INTS attribute, or `fallback` when absent. */
  ints(name: string, fallback?: readonly number[]): number[] {
    const a = this.get(name, A.INTS, (x) => (x.ints?.length ?? 0) > 0, 'a list of integers (INTS)');
    if (!a) return [...this.missing(name, fallback)];
    const values = (a.ints ?? []).map((v) => int64Value(v));
    if (values.some((v) => !Number.isSafeInteger(v))) throw new ModelFormatError(`${this.where}: attribute '${name}' holds an integer beyond 2^53`);
    return values;
  }

  /** A FLOATS attribute, or `fallback` when absent. */
  floats(name: string, fallback?: readonly number[]): number[] {
    const a = this.get(name, A.FLOATS, (x) => (x.floats?.length ?? 0) > 0, 'a list of floats (FLOATS)');
    return a ? (a.floats ?? []).map(shortestFloat32) : [...this.missing(name, fallback)];
  }

  /** A STRING attribute (UTF-8), or `fallback` when absent. */
  string(name: string, fallback?: string): string {
    const a = this.get(name, A.STRING, (x) => x.s !== undefined && x.s !== null, 'a string (STRING)');
    return a ? new TextDecoder().decode(a.s ?? new Uint8Array()) : this.missing(name, fallback);
  }

  /** A TENSOR attribute, or undefined when absent. */
  tensor(name: string): ITensorProto | undefined {
    return this.get(name, A.TENSOR, (x) => !!x.t, 'a tensor (TENSOR)')?.t ?? undefined;
  }

  /** Marks attributes as read whose every value is accepted as is (documentation-only ones). */
  ignore(...names: string[]): void {
    for (const n of names) this.read.add(n);
  }

  /**
   * Fails on the first attribute no translation read: its meaning would otherwise be ignored.
   *
   * @throws NetworkError naming the node and the attribute.
   */
  assertAllRead(): void {
    for (const name of this.byName.keys()) {
      if (!this.read.has(name)) throw new NetworkError(`${this.where}: attribute '${name}' is not supported`);
    }
  }

  private missing<V>(name: string, fallback: V | undefined): V {
    if (fallback === undefined) throw new ModelFormatError(`${this.where}: attribute '${name}' is required`);
    return fallback;
  }
}
