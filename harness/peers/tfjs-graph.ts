/**
 * An IR network compiled to TF.js ops once: weights uploaded in TF.js's layouts, each ReLU that
 * directly follows a Convolution or InnerProduct fused into it, and every blob freed as soon as
 * its last reader has run (a batch of 64 SqueezeNet images would not fit the wasm heap otherwise).
 *
 * Caffe reuses blob names (in-place layers write their bottom), so blobs are tracked as versions:
 * every top a layer writes is a new version, read by the layers up to the next write of its name.
 * A ReLU is fused only when it is the next layer and the only reader of the version it rectifies,
 * so the pre-activation values are never needed.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import { DataError, NetworkError } from '../../src/errors.js';
import { formatShape, shapeSize, type Layer, type Network, type ReluParams } from '../../src/ir/network.js';
import { tfjsLayer } from './tfjs-layer.js';
import type { TfjsLayer } from './tfjs-layer-form.js';
import type { Tf } from './tfjs-wasm-runtime.js';

type Tensor4D = TfCore.Tensor4D;

/** One op of the compiled graph. */
interface Step {
  /** The IR layer(s) it runs, for messages: `conv1+relu1`. */
  readonly name: string;
  readonly op: TfjsLayer;
  /** Blob versions read, in bottom order. */
  readonly reads: readonly number[];
  /** Blob versions written, in top order. */
  readonly writes: readonly number[];
  /** Versions to free once the step has run (their last reader, or written and never read). */
  readonly frees: readonly number[];
}

/** A network as TF.js ops. */
export interface TfjsGraph {
  /** Names of the steps, fused layers joined by `+`. */
  readonly steps: readonly string[];
  /** Runs `batch` images, NCHW in, the output blob NCHW out (batch x c x h x w values). */
  run(input: Float32Array, batch: number): Float32Array;
  /**
   * As {@link run}, reading the output asynchronously: the GPU backends' way (TF.js WebGPU's
   * synchronous read goes through canvases and warns that it is slow).
   */
  runAsync(input: Float32Array, batch: number): Promise<Float32Array>;
  /** Frees the uploaded weights. */
  dispose(): void;
}

/** The layer's parameters when it is a ReLU that can be fused into layer `i - 1`, else undefined. */
function fusableRelu(layers: readonly Layer[], i: number, readers: ReadonlyMap<number, number[]>, writes: readonly number[][]): ReluParams | undefined {
  const prev = layers[i - 1];
  const layer = layers[i];
  if (!prev || !layer || layer.params.type !== 'ReLU') return undefined;
  if (prev.params.type !== 'Convolution' && prev.params.type !== 'InnerProduct') return undefined;
  if (layer.bottoms[0] !== prev.tops[0]) return undefined;
  const only = readers.get(writes[i - 1][0]) ?? [];
  return only.length === 1 && only[0] === i ? layer.params.relu : undefined;
}

/** Compiles `net` for TF.js; the weights are uploaded now (call dispose() to free them). */
export function buildTfjsGraph(tf: Tf, net: Network): TfjsGraph {
  // Blob versions: 0 is the network input.
  const current = new Map<string, number>([[net.inputName, 0]]);
  let versions = 1;
  const reads: number[][] = [];
  const writes: number[][] = [];
  const readers = new Map<number, number[]>();
  net.layers.forEach((layer, i) => {
    reads.push(layer.bottoms.map((b) => {
      const v = current.get(b);
      if (v === undefined) throw new NetworkError(`tfjs-wasm: layer '${layer.name}' reads blob '${b}', which no earlier layer produced`);
      readers.set(v, [...(readers.get(v) ?? []), i]);
      return v;
    }));
    writes.push(layer.tops.map((t) => {
      current.set(t, versions);
      return versions++;
    }));
  });
  const output = current.get(net.outputName);
  if (output === undefined) throw new NetworkError(`tfjs-wasm: no layer writes the output blob '${net.outputName}'`);
  const outputShape = net.blobShapes.get(net.outputName);
  if (!outputShape) throw new NetworkError(`tfjs-wasm: the output blob '${net.outputName}' has no shape`);

  const steps: Omit<Step, 'frees'>[] = [];
  const built: TfjsLayer[] = [];
  try {
    for (let i = 0; i < net.layers.length; i++) {
      const layer = net.layers[i];
      const relu = fusableRelu(net.layers, i + 1, readers, writes);
      const op = tfjsLayer(tf, layer, relu);
      built.push(op);
      if (relu) {
        // The fused op writes the ReLU's top; the pre-activation version is never materialised.
        steps.push({ name: `${layer.name}+${net.layers[i + 1].name}`, op, reads: reads[i], writes: writes[i + 1] });
        i++;
      } else {
        steps.push({ name: layer.name, op, reads: reads[i], writes: writes[i] });
      }
    }
  } catch (err) {
    built.forEach((op) => op.dispose());
    throw err;
  }
  // Each version is freed after its last reader, or right after it is written when nobody reads it.
  const lastStep = new Map<number, number>();
  steps.forEach((s, k) => {
    for (const v of s.writes) lastStep.set(v, k);
    for (const v of s.reads) lastStep.set(v, k);
  });
  const compiled: Step[] = steps.map((s, k) => ({
    ...s,
    frees: [...new Set([...s.reads, ...s.writes])].filter((v) => v !== output && lastStep.get(v) === k),
  }));

  const { c: inC, h: inH, w: inW } = net.inputShape;
  const perImage = shapeSize(net.inputShape);
  const outPerImage = shapeSize(outputShape);

  /** Runs the steps; returns the output NCHW tensor (the caller reads, then disposes it with `done`). */
  const forward = (input: Float32Array, batch: number): { out: Tensor4D; done: () => void } => {
    if (!Number.isInteger(batch) || batch < 1 || input.length !== batch * perImage) {
      throw new DataError(`tfjs: network '${net.name}' input: expected ${batch * perImage} values (batch ${batch} x ${formatShape(net.inputShape)}), got ${input.length}`);
    }
    const values: (Tensor4D | undefined)[] = new Array(versions);
    // Identity layers hand the same tensor to several versions: count the holders of each.
    const holders = new Map<Tensor4D, number>();
    const hold = (v: number, t: Tensor4D) => {
      values[v] = t;
      holders.set(t, (holders.get(t) ?? 0) + 1);
    };
    const free = (v: number) => {
      const t = values[v];
      if (!t) return;
      values[v] = undefined;
      const left = (holders.get(t) ?? 1) - 1;
      if (left > 0) {
        holders.set(t, left);
      } else {
        holders.delete(t);
        t.dispose();
      }
    };
    const disposeAll = () => { for (const t of holders.keys()) t.dispose(); };
    try {
      hold(0, tf.tidy(() => {
        const x = tf.tensor4d(input, [batch, inC, inH, inW]);
        return inC === 1 || inH * inW === 1 ? tf.reshape(x, [batch, inH, inW, inC]) : tf.transpose(x, [0, 2, 3, 1]);
      }));
      for (const step of compiled) {
        const outs = tf.tidy(() => step.op.run(step.reads.map((v) => values[v] as Tensor4D)));
        step.writes.forEach((v, j) => hold(v, outs[j]));
        step.frees.forEach(free);
      }
      const y = values[output] as Tensor4D;
      const { c, h, w } = outputShape;
      const nchw = c === 1 || h * w === 1 ? y : tf.tidy(() => tf.transpose(y, [0, 3, 1, 2]));
      return { out: nchw, done: () => { if (nchw !== y) nchw.dispose(); disposeAll(); } };
    } catch (err) {
      disposeAll();
      throw err;
    }
  };
  const checked = (data: Float32Array, batch: number): Float32Array => {
    if (data.length !== batch * outPerImage) throw new Error(`internal: tfjs produced ${data.length} values, not ${batch * outPerImage}`);
    return data;
  };

  return {
    steps: compiled.map((s) => s.name),
    run(input, batch) {
      const { out, done } = forward(input, batch);
      try {
        return checked(out.dataSync() as Float32Array, batch);
      } finally {
        done();
      }
    },
    async runAsync(input, batch) {
      const { out, done } = forward(input, batch);
      try {
        return checked((await out.data()) as Float32Array, batch);
      } finally {
        done();
      }
    },
    dispose: () => built.forEach((op) => op.dispose()),
  };
}
