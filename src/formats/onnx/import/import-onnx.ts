/**
 * Reads an ONNX model (ModelProto) into the IR: the CNN operators of operators.ts at the versions
 * it lists, one run-time input of rank 4 (N x C x H x W), 3 (N x C x L, read as C x 1 x L) or 2
 * (N x C) whose batch may be symbolic, one output. Portable (no file access): external data comes through a reader the
 * caller gives (load-onnx.ts gives one for files).
 *
 * Each node becomes at most one IR layer named after the node, so an ONNX file written by
 * `dyve export` comes back with the Caffe network's layer names and layers (an effort profile
 * applies to both). Nodes that do not reach the output are skipped. Every operator, attribute or
 * data type the importer does not read is an error naming the node, never ignored.
 */
import { ModelFormatError, NetworkError } from '../../../errors.js';
import { foldScales } from '../../../ir/fold-scale.js';
import { checkMemoryNeed } from '../../../ir/memory-need.js';
import type { Network, Shape } from '../../../ir/network.js';
import { int64Value, onnx, type IGraphProto, type IModelProto, type INodeProto, type IValueInfoProto } from '../onnx-proto.js';
import { GraphImport, type OnnxNode } from './graph-import.js';
import { blobShape, type Activation, type OnnxRank } from './graph-values.js';
import { NodeAttributes } from './onnx-attributes.js';
import { dataTypeName, type ExternalDataReader } from './onnx-tensor.js';
import { OLDEST_OPSET, OPERATORS, supportedOperators } from './operators.js';

/** Options of {@link parseOnnxNetwork}. */
export interface ParseOnnxOptions {
  /**
   * Reads an external-data file named by a tensor's `location`, relative to the model's folder.
   * Without it a model whose weights are in external files is an error (loadOnnxNetwork gives one).
   */
  readonly readExternal?: ExternalDataReader;
  /** Receives informational lines (nodes skipped because they do not reach the output); default: console.warn. */
  readonly notice?: (line: string) => void;
  /**
   * Fold each Scale (a BatchNormalization, an Add or Mul by a per-channel constant) into the Conv
   * or Gemm before it when that layer's output goes nowhere else (ir/fold-scale.ts), as the Caffe
   * loader does; default true.
   */
  readonly foldScales?: boolean;
}

/** Decodes the ModelProto; a file protobuf cannot read is a ModelFormatError. */
function decodeModel(bytes: Uint8Array, name: string): IModelProto {
  let model: IModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ModelFormatError(`${name}: truncated or corrupt ONNX model: protobuf decoding failed (${(err as Error).message}); the file has ${bytes.length} bytes`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) {
    throw new ModelFormatError(`${name}: no graph with nodes in this file: is it an ONNX model (.onnx)? (${bytes.length} bytes)`);
  }
  return model;
}

/** The opset of the default domain, checked to be one the importer reads. */
function defaultOpset(model: IModelProto, name: string): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) throw new ModelFormatError(`${name}: the model imports no opset of the default ONNX domain (opset_import)`);
  const version = int64Value(entry.version);
  if (version < OLDEST_OPSET) throw new ModelFormatError(`${name}: opset ${version} of the default ONNX domain does not exist (the first is ${OLDEST_OPSET})`);
  return version;
}

/** The run-time input: exactly one graph input that is not an initializer, float, rank 4, 3 or 2, fixed dims after the batch. */
function runtimeInput(graph: IGraphProto, initializers: ReadonlySet<string>, name: string): { info: IValueInfoProto; rank: OnnxRank; shape: Shape; batch?: number } {
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  if (inputs.length !== 1) {
    throw new NetworkError(`${name}: the graph has ${inputs.length} run-time inputs (${inputs.map((i) => `'${i.name}'`).join(', ') || 'none'}); dyvedeep runs networks with one input`);
  }
  const info = inputs[0];
  const tensor = info.type?.tensorType;
  const what = `${name}: input '${info.name}'`;
  if (!tensor) throw new NetworkError(`${what} is not a tensor`);
  if (tensor.elemType !== onnx.TensorProto.DataType.FLOAT) throw new NetworkError(`${what} has data type ${dataTypeName(tensor.elemType ?? 0)}; only FLOAT inputs are supported`);
  const dims = tensor.shape?.dim;
  if (!dims) throw new NetworkError(`${what} declares no shape: dyvedeep needs its channels, height and width`);
  const rank = dims.length;
  if (rank !== 4 && rank !== 3 && rank !== 2) {
    throw new NetworkError(`${what} has rank ${rank}; only N x C x H x W (rank 4), N x C x L (rank 3) or N x C (rank 2) inputs are supported`);
  }
  const values = dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null ? int64Value(d.dimValue) : undefined));
  const described = dims.map((d, i) => values[i] ?? (d.dimParam || '?')).join('x');
  const bad = values.slice(1).findIndex((v) => !(v !== undefined && Number.isSafeInteger(v) && v > 0));
  if (bad >= 0) throw new NetworkError(`${what} has dims ${described}: its dims after the batch must be fixed numbers > 0`);
  const batch = values[0] !== undefined && values[0] > 0 ? values[0] : undefined;
  return { info, rank, shape: blobShape(rank, (values as number[]).slice(1)), batch };
}

/** The nodes whose outputs reach the graph output (ONNX lists nodes in topological order). */
function liveNodes(nodes: readonly INodeProto[], output: string): { live: boolean[]; read: Set<string> } {
  const read = new Set<string>([output]);
  const live = nodes.map(() => false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (!(nodes[i].output ?? []).some((o) => read.has(o))) continue;
    live[i] = true;
    for (const input of nodes[i].input ?? []) if (input) read.add(input);
  }
  return { live, read };
}

/**
 * Builds an IR network from the bytes of an ONNX model, weights included (`name` names the file
 * in messages).
 *
 * @throws ModelFormatError for a file that cannot be read (truncated, a tensor whose values do not
 *   match its dims, a missing input); NetworkError for an unsupported operator (or version of one),
 *   attribute, data type or shape (naming the node: `node 'name' (OpType)`, or `node #i (OpType)`
 *   when unnamed), or a network over the memory limit.
 */
export function parseOnnxNetwork(bytes: Uint8Array, name: string, options: ParseOnnxOptions = {}): Network {
  const model = decodeModel(bytes, name);
  const opset = defaultOpset(model, name);
  const graph = model.graph as IGraphProto;
  const initializerNames = new Set<string>();
  for (const t of graph.initializer ?? []) {
    if (initializerNames.has(t.name ?? '')) throw new ModelFormatError(`${name}: initializer '${t.name}' is given twice`);
    initializerNames.add(t.name ?? '');
  }
  if ((graph.sparseInitializer ?? []).length > 0) throw new NetworkError(`${name}: sparse initializers are not supported`);
  const input = runtimeInput(graph, initializerNames, name);
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) throw new NetworkError(`${name}: the graph has ${outputs.length} outputs; dyvedeep runs networks with one output`);
  const outputName = outputs[0].name ?? '';

  const g = new GraphImport(name, options.readExternal, input.batch);
  const inputName = input.info.name ?? '';
  const inputValue: Activation = { kind: 'activation', blob: inputName, rank: input.rank, shape: input.shape };
  g.define(inputName, inputValue, name);
  g.blobShapes.set(inputName, input.shape);
  for (const t of graph.initializer ?? []) {
    g.define(t.name ?? '', { kind: 'constant', proto: t, what: `${name}: initializer '${t.name}'` }, name);
  }

  const nodes = graph.node ?? [];
  const { live, read } = liveNodes(nodes, outputName);
  nodes.forEach((proto, index) => {
    if (!live[index]) return;
    const opType = proto.opType ?? '';
    const where = `${name}: ${proto.name ? `node '${proto.name}'` : `node #${index}`} (${opType})`;
    if (proto.domain && proto.domain !== 'ai.onnx') throw new NetworkError(`${where}: operator domain '${proto.domain}' is not supported (only the default ONNX domain)`);
    const support = OPERATORS.get(opType);
    if (!support) throw new NetworkError(`${where}: operator '${opType}' is not supported (supported: ${supportedOperators().join(', ')})`);
    if (opset < support.since) {
      throw new NetworkError(`${where}: ${opType} as opset ${opset} defines it is not supported (dyvedeep reads ${opType} from opset ${support.since} on): `
        + 'convert the model first (in Python: onnx.version_converter.convert_version(model, 13))');
    }
    const node: OnnxNode = { proto, opType, index, layerName: proto.name || `${opType}_${index}`, where, attrs: new NodeAttributes(proto, where), opset };
    if (support.consumedInputs && opset < 6) node.attrs.ignore('consumed_inputs');
    support.translate(node, g);
    node.attrs.assertAllRead();
    (proto.output ?? []).forEach((out, i) => {
      if (out && read.has(out) && !g.lookup(out)) throw new NetworkError(`${where}: its output ${i} ('${out}') is not supported`);
    });
  });
  const skipped = live.filter((l) => !l).length;
  if (skipped > 0) (options.notice ?? ((line: string) => console.warn(line)))(`${name}: ${skipped} node(s) that do not reach the output '${outputName}' were skipped`);

  const result = g.lookup(outputName);
  if (!result) throw new ModelFormatError(`${name}: the graph output '${outputName}' is produced by no node`);
  let output: Activation;
  if (result.kind === 'flatten') output = g.flattened(result);
  else if (result.kind === 'activation') output = result;
  else throw new NetworkError(`${name}: the graph output '${outputName}' is ${result.kind === 'constant' ? 'a constant' : 'a Pad'}: not supported`);
  const last = g.layers[g.layers.length - 1];
  if (!last) throw new NetworkError(`${name}: the network has no layers (its output is its input)`);
  if (last.tops[0] !== output.blob) {
    throw new NetworkError(`${name}: the graph output '${outputName}' is not written by the last layer ('${last.name}'); reorder or prune the graph`);
  }
  const net: Network = {
    name: graph.name ?? '',
    inputName,
    inputShape: input.shape,
    layers: g.layers,
    outputName: output.blob,
    blobShapes: g.blobShapes,
    synthetic: false,
  };
  checkMemoryNeed(net, 1);
  return options.foldScales === false ? net : foldScales(net);
}

