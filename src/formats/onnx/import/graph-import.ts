/**
 * The state of one graph's import: what every tensor name stands for, the IR layers made so far
 * and their blob shapes. Operator translations (see operators.ts) read their inputs and add layers
 * through it; shape inference and its checks are the IR registry's, as for Caffe networks.
 */
import { ModelFormatError, NetworkError } from '../../../errors.js';
import { findLayerDefinition } from '../../../ir/layers/registry.js';
import { checkTensorSize, dimsSize } from '../../../ir/memory-need.js';
import { formatShape, shapeSize, type Layer, type LayerParams, type LayerWeights, type Shape } from '../../../ir/network.js';
import { assertFiniteWeights } from '../../finite-weights.js';
import type { INodeProto } from '../onnx-proto.js';
import type { NodeAttributes } from './onnx-attributes.js';
import { decodeIntegerTensor, decodeTensor, type DecodedTensor, type ExternalDataReader, type IntegerTensor } from './onnx-tensor.js';
import type { Activation, Constant, OnnxRank, PendingFlatten, Value } from './graph-values.js';

/** One ONNX node as a translation sees it. */
export interface OnnxNode {
  readonly proto: INodeProto;
  readonly opType: string;
  /** Position in the graph's node list. */
  readonly index: number;
  /** The name its IR layer takes: the node's name, else `OpType_index` (made unique when the layer is added). */
  readonly layerName: string;
  /** `model.onnx: node 'conv1' (Conv)` or `model.onnx: node #3 (Conv)`: the start of its messages. */
  readonly where: string;
  readonly attrs: NodeAttributes;
  /** The model's opset of the default domain: attributes and inputs changed between opsets. */
  readonly opset: number;
}

/** Where a layer comes from, for its name and messages. */
export interface LayerSite {
  readonly name: string;
  readonly where: string;
}

/** One graph's import in progress (see the file comment). */
export class GraphImport {
  readonly layers: Layer[] = [];
  readonly blobShapes = new Map<string, Shape>();
  private readonly values = new Map<string, Value>();
  private readonly layerNames = new Set<string>();
  private readonly decoded = new WeakMap<Constant, DecodedTensor>();

  constructor(
    readonly fileName: string,
    private readonly readExternal: ExternalDataReader | undefined,
    /** The graph input's batch dim when it is a number (a Reshape may name it), else undefined. */
    readonly batch: number | undefined,
  ) {}

  /** Names a new tensor; ONNX graphs are single-assignment, so a second producer is an error. */
  define(name: string, value: Value, where: string): void {
    if (this.values.has(name)) throw new ModelFormatError(`${where}: tensor '${name}' is produced a second time (ONNX graphs assign each tensor once)`);
    this.values.set(name, value);
  }

  /** What a tensor name stands for, if anything yet. */
  lookup(name: string): Value | undefined {
    return this.values.get(name);
  }

  /** A unique layer name from `base` (`base`, else `base_1`, ...). */
  uniqueLayerName(base: string): string {
    let name = base;
    for (let i = 1; this.layerNames.has(name); i++) name = `${base}_${i}`;
    this.layerNames.add(name);
    return name;
  }

  /** Input `i` of the node, or undefined when absent (an optional input left out or given as ''). */
  input(node: OnnxNode, i: number): Value | undefined {
    const name = node.proto.input?.[i];
    if (name === undefined || name === '') return undefined;
    const v = this.values.get(name);
    if (!v) throw new ModelFormatError(`${node.where}: input '${name}' is not the graph input, an initializer, nor produced by an earlier node`);
    return v;
  }

  /** Input `i`, which the operator requires. */
  required(node: OnnxNode, i: number, role: string): Value {
    const v = this.input(node, i);
    if (!v) throw new ModelFormatError(`${node.where}: its ${role} (input ${i}) is missing`);
    return v;
  }

  /**
   * Input `i` as a run-time tensor in a blob: a pending Flatten gets its layer here; a pending Pad
   * is an error (only Conv and AveragePool take one).
   */
  activation(node: OnnxNode, i: number, role = 'input'): Activation {
    const v = this.required(node, i, role);
    switch (v.kind) {
      case 'activation': return v;
      case 'flatten': return this.flattened(v);
      case 'pad':
        throw new NetworkError(`${v.where}: a Pad is supported only as the input of a Conv or an AveragePool (folded into their padding); ${node.where} reads it`);
      case 'constant':
        throw new NetworkError(`${node.where}: its ${role} (input ${i}, ${v.what}) is a constant: dyvedeep runs operators on the network's input, not on constants alone`);
    }
  }

  /** The Flatten layer of a pending flatten, made on first use. */
  flattened(p: PendingFlatten): Activation {
    p.made ??= this.addLayer({ name: this.uniqueLayerName(p.layerName), where: `${this.fileName}: node '${p.layerName}' (Flatten)` },
      { type: 'Flatten' }, [p.source], p.output, 2);
    return p.made;
  }

  /** Input `i` as a constant (an initializer or a Constant node's output). */
  constant(node: OnnxNode, i: number, role: string): Constant {
    const v = this.required(node, i, role);
    if (v.kind !== 'constant') {
      throw new NetworkError(`${node.where}: its ${role} (input ${i}, '${node.proto.input?.[i]}') must be an initializer or a Constant: dyvedeep needs it known when the model loads`);
    }
    return v;
  }

  /**
   * A constant's values as float32. With `finite` (weights), a NaN or infinity is an error naming
   * the tensor: one would make every output NaN.
   */
  floats(c: Constant, finite = true): DecodedTensor {
    let t = this.decoded.get(c);
    if (!t) {
      t = decodeTensor(c.proto, c.what, this.readExternal);
      this.decoded.set(c, t);
    }
    if (finite) {
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new ModelFormatError(`${c.what}: value [${bad}] is ${t.data[bad]}: the file is corrupt (a weight must be a finite number)`);
    }
    return t;
  }

  /** A constant's values as exact integers (shapes, axes, pads). */
  integers(c: Constant): IntegerTensor {
    return decodeIntegerTensor(c.proto, c.what, this.readExternal);
  }

  /** Gives output `i` of the node a value (an alias of another tensor, a constant, a pending one). */
  setOutput(node: OnnxNode, i: number, value: Value): void {
    const name = node.proto.output?.[i];
    if (name === undefined || name === '') return;
    this.define(name, value, node.where);
  }

  /**
   * Adds an IR layer reading `bottoms` and writing the tensor `top`, its shape inferred and checked by
   * the IR registry (as a Caffe layer's is), its weights (for a weighted type) checked against the
   * shapes the registry expects and for non-finite values.
   */
  addLayer(site: LayerSite, params: LayerParams, bottoms: readonly Activation[], top: string, rank: OnnxRank, weights?: LayerWeights): Activation {
    const definition = findLayerDefinition(params.type);
    if (!definition) throw new NetworkError(`${site.where}: layer type ${params.type} is not available in this build`);
    const ctx = { name: site.name, where: site.where };
    const inputShapes = bottoms.map((b) => b.shape);
    const [shape] = definition.outputShapes(params, inputShapes, 1, ctx);
    checkTensorSize(shapeSize(shape), () => `${site.where}: its output '${top}' (${formatShape(shape)} per image)`);
    const expected = definition.blobShapes(params, inputShapes);
    expected.forEach((d, i) => checkTensorSize(dimsSize(d), () => `${site.where}: its ${i === 0 ? 'weights' : 'bias'} (${d.join('x')})`));
    if (expected.length > 0 || weights) {
      const got = [weights?.weight, weights?.bias].filter((w) => w !== undefined);
      const sizes = expected.map(dimsSize);
      if (got.length !== sizes.length || got.some((w, i) => w.length !== sizes[i])) {
        throw new NetworkError(`${site.where}: internal: weights of ${got.map((w) => w.length).join(' + ')} values for blobs ${expected.map((d) => d.join('x')).join(' + ')}`);
      }
    }
    const layer: Layer = { name: site.name, params, bottoms: bottoms.map((b) => b.blob), tops: [top], inputShapes, outputShapes: [shape], weights };
    assertFiniteWeights(this.fileName, layer);
    this.layers.push(layer);
    this.blobShapes.set(top, shape);
    const value: Activation = { kind: 'activation', blob: top, rank, shape };
    if (this.values.get(top)?.kind !== 'flatten') this.define(top, value, site.where);
    return value;
  }

  /** Adds the node's layer, writing its output 0 (see {@link addLayer}). */
  addNodeLayer(node: OnnxNode, params: LayerParams, bottoms: readonly Activation[], rank: OnnxRank, weights?: LayerWeights): Activation {
    const top = node.proto.output?.[0];
    if (!top) throw new ModelFormatError(`${node.where}: has no output`);
    return this.addLayer({ name: this.uniqueLayerName(node.layerName), where: node.where }, params, bottoms, top, rank, weights);
  }
}
