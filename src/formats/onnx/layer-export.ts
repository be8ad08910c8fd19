/** The interface of one layer type's ONNX translation (see layer-exports.ts for the table). */
import { NetworkError } from '../../errors.js';
import type { Layer, LayerWeights } from '../../ir/network.js';
import type { GraphBuilder } from './graph-builder.js';
import type { TensorRef } from './tensor-ref.js';

/** What a layer's translation gets: the graph so far, the layer, and its bottoms' tensors. */
export interface ExportContext {
  readonly g: GraphBuilder;
  readonly layer: Layer;
  /** The tensors of the layer's bottoms, in order. */
  readonly inputs: readonly TensorRef[];
  /**
   * The name the tensor of top `i` must take. A translation that only forwards an input (Dropout,
   * Split) returns that input instead and does not call this.
   */
  top(i: number): string;
}

/** Translates one layer into nodes; returns the tensor of each top. */
export type LayerExport = (ctx: ExportContext) => TensorRef[];

/** A layer's weights, or a NetworkError that names the layer and says how to get them. */
export function requireWeights(layer: Layer): LayerWeights {
  if (!layer.weights) {
    throw new NetworkError(`layer '${layer.name}' (${layer.params.type}) has no weights: load the network with weights `
      + `(a .caffemodel, a Deep Compression .net, or synthetic ones) before exporting it to ONNX`);
  }
  return layer.weights;
}

/** The message of an exporter error about `layer`. */
export function exportError(layer: Layer, message: string): NetworkError {
  return new NetworkError(`cannot export layer '${layer.name}' (${layer.params.type}) to ONNX: ${message}`);
}
