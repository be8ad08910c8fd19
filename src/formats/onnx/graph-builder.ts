/**
 * Accumulates the nodes and initializers of one ONNX graph, with unique tensor and node names.
 *
 * ONNX graphs are single-assignment: every tensor name is produced once. Caffe rewrites blobs in
 * place (`ReLU` with top == bottom), so the exporter never uses a blob name twice: the builder
 * hands out `relu1`, `relu1_1`, ... and keeps a set of names already taken.
 */
import { onnx, type IAttributeProto, type INodeProto, type ITensorProto } from './onnx-proto.js';

/** An attribute value: integers, a float, integer lists or a string. */
export type AttributeValue =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly string: string };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The little-endian bytes of float32 values (TensorProto.raw_data is little-endian by definition). */
function float32Bytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function attribute(name: string, value: AttributeValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: T.INTS, ints: [...value.ints] };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}

/** Builds one graph: `tensor()` names, `node()` operators, `floats()` / `int64s()` constants. */
export class GraphBuilder {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  private readonly tensorNames = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly int64Constants = new Map<string, string>();

  /** Claims `name` exactly (graph input and output names); false when it is already taken. */
  reserve(name: string): boolean {
    if (this.tensorNames.has(name)) return false;
    this.tensorNames.add(name);
    return true;
  }

  /** A new tensor name: `base` itself when free, else `base_1`, `base_2`, ... */
  tensor(base: string): string {
    return unique(this.tensorNames, base);
  }

  /** Appends a node; its name is `name` made unique. Returns its first output. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attributes: Record<string, AttributeValue> = {}): string {
    this.nodes.push({
      opType,
      name: unique(this.nodeNames, name),
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return outputs[0];
  }

  /** A float32 initializer of the given dims, named from `base`. */
  floats(base: string, dims: readonly number[], values: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== values.length) throw new Error(`internal: initializer ${base} has ${values.length} values for dims ${dims.join('x')}`);
    const name = this.tensor(base);
    this.initializers.push({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: float32Bytes(values) });
    return name;
  }

  /** A 1-D int64 initializer (axes, pads); equal lists share one tensor. */
  int64s(base: string, values: readonly number[]): string {
    const key = values.join(',');
    const known = this.int64Constants.get(key);
    if (known) return known;
    const name = this.tensor(base);
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] });
    this.int64Constants.set(key, name);
    return name;
  }
}

function unique(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}
