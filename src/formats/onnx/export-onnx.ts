/**
 * Exports an IR network with its weights as an ONNX model (opset 13), for other runtimes
 * (onnxruntime, the peers of `dyve compare`) and for `dyve export`.
 *
 * The graph has one input, named as the network's input blob, N x C x H x W float32 with a
 * dynamic batch dimension `N`, and one output named as the network's output blob, with Caffe's
 * rank (N x classes after InnerProduct; N x C x H x W after a convolution or pooling). Caffe
 * blobs rewritten in place become fresh tensors (ONNX is single-assignment): see GraphBuilder.
 * Portable (no Node built-ins): it is part of the browser API.
 */
import { NetworkError } from '../../errors.js';
import type { Network, Shape } from '../../ir/network.js';
import { GraphBuilder } from './graph-builder.js';
import { layerExportFor } from './layer-exports.js';
import { onnx, type IValueInfoProto } from './onnx-proto.js';
import type { TensorRef } from './tensor-ref.js';

/** The ONNX opset the export targets (Softmax's per-axis semantics need >= 13). */
export const ONNX_OPSET = 13;

/** ONNX IR version 7: the oldest that carries opset 13, so older runtimes load the file too. */
const ONNX_IR_VERSION = 7;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** A fixed batch size instead of the dynamic dimension `N`. */
  readonly batch?: number;
  /** Written to the model's doc_string (e.g. where the weights came from). */
  readonly docString?: string;
}

function valueInfo(name: string, dims: readonly (number | string)[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function dimsOf(shape: Shape, rank: 2 | 4, batch: number | string): (number | string)[] {
  return rank === 4 ? [batch, shape.c, shape.h, shape.w] : [batch, shape.c * shape.h * shape.w];
}

/**
 * Encodes `net` (which must carry weights) as an ONNX ModelProto. Throws a NetworkError naming
 * the layer when a layer has no weights or a construct has no exact ONNX equivalent.
 *
 * @example
 * ```ts
 * const bytes = exportOnnx(net);            // then: new ort.InferenceSession / writeFile
 * ```
 */
export function exportOnnx(net: Network, options: ExportOnnxOptions = {}): Uint8Array {
  const batch = options.batch ?? 'N';
  if (typeof batch === 'number' && !(Number.isInteger(batch) && batch > 0)) {
    throw new NetworkError(`ONNX export: batch must be a positive integer, found ${batch}`);
  }
  if (net.inputName === net.outputName) {
    throw new NetworkError(`ONNX export: the output blob '${net.outputName}' has the input's name; ONNX needs distinct graph input and output names`);
  }
  const g = new GraphBuilder();
  g.reserve(net.inputName);
  g.reserve(net.outputName);
  // The last layer that writes the output blob produces the graph output under its own name.
  let outputWriter = -1;
  net.layers.forEach((l, i) => { if (l.tops.includes(net.outputName)) outputWriter = i; });

  const blobs = new Map<string, TensorRef>([[net.inputName, { name: net.inputName, rank: 4 }]]);
  net.layers.forEach((layer, i) => {
    const inputs = layer.bottoms.map((b) => {
      const t = blobs.get(b);
      if (!t) throw new NetworkError(`ONNX export: layer '${layer.name}' reads blob '${b}', which no earlier layer writes`);
      return t;
    });
    const ctx = {
      g,
      layer,
      inputs,
      top: (t: number) => (i === outputWriter && layer.tops[t] === net.outputName ? net.outputName : g.tensor(layer.tops[t])),
    };
    const outputs = layerExportFor(ctx)(ctx);
    layer.tops.forEach((top, t) => blobs.set(top, outputs[t]));
  });

  let output = blobs.get(net.outputName);
  if (!output) throw new NetworkError(`ONNX export: no layer writes the output blob '${net.outputName}'`);
  if (output.name !== net.outputName) {
    // The output blob is another tensor under a second name (a final Dropout or Split).
    output = { name: g.node('Identity', [output.name], [net.outputName], `${net.outputName}/output`), rank: output.rank };
  }
  const outputShape = net.blobShapes.get(net.outputName);
  if (!outputShape) throw new NetworkError(`ONNX export: the output blob '${net.outputName}' has no shape`);

  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'dyvedeep',
    docString: options.docString ?? '',
    graph: {
      name: net.name || 'dyvedeep',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(net.inputName, dimsOf(net.inputShape, 4, batch))],
      output: [valueInfo(net.outputName, dimsOf(outputShape, output.rank, batch))],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
