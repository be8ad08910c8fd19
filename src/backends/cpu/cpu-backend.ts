import { convolutionDynamic } from '../../dynamic/dynamic-convolution.js';
import { innerProductDynamic } from '../../dynamic/dynamic-inner-product.js';
import { hasEffort, type LayerEffort } from '../../effort/effort.js';
import { feedsRelu } from '../../effort/profile.js';
import { DataError, NetworkError } from '../../errors.js';
import type { Layer, LayerType, Network } from '../../ir/network.js';
import { formatShape, shapeSize } from '../../ir/network.js';
import { emptyDecisions, type Backend, type LayerCounters, type LayerDecisions, type RunOptions, type RunResult } from '../backend.js';
import { denseMacs } from './dense-macs.js';
import type { KernelVariant } from './kernel-types.js';
import { kernelFor } from './kernels.js';

export type { KernelVariant } from './kernel-types.js';

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /** Which kernel table runs: `fast` (default) or the plain `reference` loops. */
  readonly kernels?: KernelVariant;
  /** Per layer type, a variant that replaces the table's choice (e.g. `{ LRN: 'reference' }`). */
  readonly overrides?: Partial<Readonly<Record<LayerType, KernelVariant>>>;
}

/**
 * Called after each layer with the arrays it read and wrote. Lets a parity test compare every
 * layer of a real network on the exact inputs the run fed it, in-place layers included (whose
 * input blob the run's blob map no longer holds afterwards).
 */
export type LayerObserver = (layer: Layer, inputs: readonly Float32Array[], outputs: readonly Float32Array[], counters: LayerCounters) => void;

/** RunOptions of the CPU backend. */
export interface CpuRunOptions extends RunOptions {
  /** Called after every layer; it must not modify the arrays. */
  readonly onLayer?: LayerObserver;
}

/** The outputs of one layer run on its own, and what it executed. */
export interface LayerRun {
  /** One array per top, batch x C x H x W each. */
  readonly outputs: Float32Array[];
  readonly counters: LayerCounters;
  /** Where the mechanisms acted, when asked for (`trace`) and the layer ran with effort knobs. */
  readonly decisions?: LayerDecisions;
}

function checkBatch(batch: number): void {
  if (!Number.isInteger(batch) || batch < 1) throw new DataError(`batch must be a positive integer, got ${batch}`);
}

/**
 * Runs one layer on given bottoms, without a network: per-layer parity tests feed the reference
 * run's blobs to each variant. With `effort` knobs on, the layer's dynamic kernel runs; `rectified`
 * says that the layer's output reaches the network only through a ReLU (see feedsRelu), which lets
 * SDSS compare rectified values. `inputs[i]` holds batch x shapeSize(layer.inputShapes[i]) values.
 * `trace`: a layer with effort knobs also returns its decisions (RunOptions.traceDecisions); both
 * variants' kernels record them where they take them, and they take the same ones.
 * Throws a DataError when an input has the wrong size.
 */
export function runLayer(
  layer: Layer, inputs: readonly Float32Array[], batch: number, variant: KernelVariant = 'fast', effort?: LayerEffort,
  rectified = false, trace = false,
): LayerRun {
  checkBatch(batch);
  if (inputs.length !== layer.inputShapes.length) {
    throw new DataError(`layer '${layer.name}' takes ${layer.inputShapes.length} input(s), got ${inputs.length}`);
  }
  layer.inputShapes.forEach((shape, i) => {
    const expected = batch * shapeSize(shape);
    if (inputs[i].length !== expected) {
      throw new DataError(
        `layer '${layer.name}' input ${i} ('${layer.bottoms[i] ?? '?'}'): expected ${expected} values (batch ${batch} x ${formatShape(shape)}), got ${inputs[i].length}`,
      );
    }
  });
  const counters: LayerCounters = { name: layer.name, type: layer.params.type, macsDense: denseMacs(layer, batch), macsExecuted: 0, otherOps: 0 };
  if (!hasEffort(effort)) return { outputs: kernelFor(layer.params.type, variant)(layer, inputs, batch, counters), counters };
  // A layer with knobs on runs its dynamic kernel; every other layer keeps the dense one, bit for bit.
  const type = layer.params.type;
  if (type !== 'Convolution' && type !== 'InnerProduct') {
    throw new NetworkError(`layer '${layer.name}' (${type}) has effort knobs, but only Convolution and InnerProduct layers take them`);
  }
  const out = layer.outputShapes[0];
  const decisions = trace ? emptyDecisions(layer.name, batch, out.c, out.h, out.w, layer.inputShapes[0].c) : undefined;
  const outputs = type === 'Convolution'
    ? convolutionDynamic(layer, inputs, batch, counters, effort, variant, rectified, decisions)
    : innerProductDynamic(layer, inputs, batch, counters, effort, variant, decisions);
  return decisions ? { outputs, counters, decisions } : { outputs, counters };
}

/**
 * Runs networks on the CPU, one layer after the other, single-threaded. `kernels: 'reference'`
 * gives the oracle (`cpu-reference`); the default `fast` variant (`cpu`) uses im2col + a blocked
 * GEMM for Convolution and InnerProduct.
 */
export class CpuBackend implements Backend {
  readonly name: string;
  private readonly variant: KernelVariant;
  private readonly overrides: Partial<Readonly<Record<LayerType, KernelVariant>>>;

  constructor(options: CpuBackendOptions = {}) {
    this.variant = options.kernels ?? 'fast';
    this.overrides = options.overrides ?? {};
    this.name = this.variant === 'fast' ? 'cpu' : 'cpu-reference';
  }

  /** The variant that runs layers of type `type`. */
  variantFor(type: LayerType): KernelVariant {
    return this.overrides[type] ?? this.variant;
  }

  async run(net: Network, input: Float32Array, batch: number, options: CpuRunOptions = {}): Promise<RunResult> {
    return this.runSync(net, input, batch, options);
  }

  /** `run` without the Promise, for callers that time or loop over layers synchronously. */
  runSync(net: Network, input: Float32Array, batch: number, options: CpuRunOptions = {}): RunResult {
    checkBatch(batch);
    const expected = batch * shapeSize(net.inputShape);
    if (input.length !== expected) {
      throw new DataError(
        `network '${net.name}' input: expected ${expected} values (batch ${batch} x ${formatShape(net.inputShape)}), got ${input.length}`,
      );
    }
    const keep = options.keepBlobs === true;
    const blobs = new Map<string, Float32Array>([[net.inputName, input]]);
    // Index of the last layer reading each blob name, so a blob can be dropped right after it.
    const lastUse = new Map<string, number>();
    net.layers.forEach((layer, i) => layer.bottoms.forEach((b) => lastUse.set(b, i)));
    const release = (name: string, i: number): void => {
      if (!keep && name !== net.outputName && (lastUse.get(name) ?? -1) <= i) blobs.delete(name);
    };

    const counters: LayerCounters[] = [];
    const trace = options.traceDecisions === true;
    const decisions: LayerDecisions[] = [];
    net.layers.forEach((layer, i) => {
      const inputs = layer.bottoms.map((b) => {
        const blob = blobs.get(b);
        if (!blob) throw new NetworkError(`layer '${layer.name}' reads blob '${b}', which no earlier layer produced`);
        return blob;
      });
      const effort = options.effort?.layers[layer.name];
      const rectified = effort?.sdss !== undefined && feedsRelu(net, layer);
      const { outputs, counters: c, decisions: d } = runLayer(layer, inputs, batch, this.variantFor(layer.params.type), effort, rectified, trace);
      counters.push(c);
      if (d) decisions.push(d);
      options.onLayer?.(layer, inputs, outputs, c);
      layer.tops.forEach((t, j) => blobs.set(t, outputs[j]));
      for (const b of layer.bottoms) if (!layer.tops.includes(b)) release(b, i);
      for (const t of layer.tops) release(t, i);
    });

    const output = blobs.get(net.outputName);
    if (!output) throw new NetworkError(`network '${net.name}' never produces its output blob '${net.outputName}'`);
    return { output, counters, ...(keep && { blobs }), ...(trace && { decisions }) };
  }
}
