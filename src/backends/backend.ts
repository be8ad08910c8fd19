import { addMechanismStats, type MechanismStats } from '../effort/effort.js';
import type { EffortProfile } from '../effort/profile.js';
import type { Network } from '../ir/network.js';

/**
 * What one layer did in one run, counted by the code that ran.
 * `macs*` cover Convolution and InnerProduct only (the paper's headline metric); `otherOps`
 * counts every other scalar operation (bias adds, comparisons, pooling, normalisation, ...).
 */
export interface LayerCounters {
  readonly name: string;
  readonly type: string;
  /** MACs the dense layer would execute for this batch (from the layer's shapes). */
  macsDense: number;
  /** MACs the kernels really executed. Equal to macsDense on the dense path. */
  macsExecuted: number;
  /** Other scalar operations executed. */
  otherOps: number;
  /** What the dynamic-effort mechanisms did, when the layer ran with any. */
  mechanisms?: MechanismStats;
}

/** The counters of one layer summed over two runs (batches or chunks); a new object. */
export function sumCounters(a: LayerCounters, b: LayerCounters): LayerCounters {
  const mechanisms = addMechanismStats(a.mechanisms, b.mechanisms);
  return {
    ...a, macsDense: a.macsDense + b.macsDense, macsExecuted: a.macsExecuted + b.macsExecuted, otherOps: a.otherOps + b.otherOps,
    ...(mechanisms && { mechanisms }),
  };
}

/**
 * What one GPU dispatch did, read back after the run (the WebGPU scheduler's record; the CPU
 * backends have none).
 */
export interface DispatchRecord {
  readonly layer: string;
  /** The kernel, by its shader file under shaders/ (e.g. `dynamic/convolution`). */
  readonly kernel: string;
  readonly mode: 'direct' | 'indirect';
  /** Workgroups the dispatch asked for (x * y * z; indirect: the arguments the GPU wrote). */
  readonly workgroupsRequested: number;
  /** Workgroups that did work: dynamic convolutions count them (workgroups past their map's list return at once); other kernels run every one. */
  readonly workgroupsExecuted: number;
  /** MACs executed (Convolution / InnerProduct kernels; dynamic ones count them with atomics). */
  readonly macs: number;
}

/** Result of running a batch through a network. */
export interface RunResult {
  /** The network's output blob, N x (C*H*W). */
  readonly output: Float32Array;
  /** One entry per layer, in execution order. */
  readonly counters: readonly LayerCounters[];
  /** Every blob of the run, when `keepBlobs` was asked for (parity tests, debugging). */
  readonly blobs?: ReadonlyMap<string, Float32Array>;
  /** GPU backends: every dispatch of the run, in submission order. */
  readonly dispatches?: readonly DispatchRecord[];
  /**
   * When `traceDecisions` was asked for: the per-neuron decisions of every layer that ran with
   * effort knobs, in execution order (empty for a dense run).
   */
  readonly decisions?: readonly LayerDecisions[];
}

export interface RunOptions {
  /** Keep every intermediate blob in the result. */
  readonly keepBlobs?: boolean;
  /** The dynamic-effort knobs per layer; absent or empty = dense. */
  readonly effort?: EffortProfile;
  /**
   * Record where SPET terminated, SDSS interpolated and SFMA approximated (RunResult.decisions),
   * for heat maps of the run that really happened. Outputs are unchanged; off by default because
   * it costs a map per dynamic layer (and a read-back on GPUs).
   */
  readonly traceDecisions?: boolean;
}

/** A neuron that was computed (possibly over SFMA's kept maps only). */
export const NEURON_EVALUATED = 0;
/** A neuron that SPET predicted to saturate: set to 0 after its significant channels. */
export const NEURON_SPET_TERMINATED = 1;
/** A neuron that SDSS set to the mean of its grid neighbours without computing it. */
export const NEURON_SDSS_INTERPOLATED = 2;

/** One of {@link NEURON_EVALUATED}, {@link NEURON_SPET_TERMINATED}, {@link NEURON_SDSS_INTERPOLATED}. */
export type NeuronDecision = typeof NEURON_EVALUATED | typeof NEURON_SPET_TERMINATED | typeof NEURON_SDSS_INTERPOLATED;

/** Per-neuron decisions of one dynamic layer in one run. */
export interface LayerDecisions {
  /** The layer's name. */
  readonly layer: string;
  /** Images of the run. */
  readonly batch: number;
  /** Output channels per image (InnerProduct: its outputs). */
  readonly channels: number;
  /** Output height (InnerProduct: 1). */
  readonly height: number;
  /** Output width (InnerProduct: 1). */
  readonly width: number;
  /**
   * batch x channels x height x width, laid out like the layer's output blob: NEURON_EVALUATED (0),
   * NEURON_SPET_TERMINATED (1), NEURON_SDSS_INTERPOLATED (2). A non-grid neuron that failed SDSS's
   * test and was then terminated by SPET reads 1.
   */
  readonly neurons: Uint8Array;
  /** Input channels per image (InnerProduct: the channels of its input blob). */
  readonly inputChannels: number;
  /** batch x inputChannels: 1 where SFMA replaced the input map by its mean (all 0 without SFMA). */
  readonly sfmaApproximated: Uint8Array;
}

/**
 * An all-evaluated, nothing-approximated record for a layer, which the kernels then fill in
 * place (the arrays are writable; the interface is read-only for consumers).
 */
export function emptyDecisions(
  layer: string, batch: number, channels: number, height: number, width: number, inputChannels: number,
): LayerDecisions {
  return {
    layer, batch, channels, height, width, inputChannels,
    neurons: new Uint8Array(batch * channels * height * width), sfmaApproximated: new Uint8Array(batch * inputChannels),
  };
}

/** The decisions of one layer over two runs of consecutive images (batches, chunks); a new object. */
export function concatDecisions(a: LayerDecisions, b: LayerDecisions): LayerDecisions {
  const neurons = new Uint8Array(a.neurons.length + b.neurons.length);
  neurons.set(a.neurons);
  neurons.set(b.neurons, a.neurons.length);
  const sfma = new Uint8Array(a.sfmaApproximated.length + b.sfmaApproximated.length);
  sfma.set(a.sfmaApproximated);
  sfma.set(b.sfmaApproximated, a.sfmaApproximated.length);
  return { ...a, batch: a.batch + b.batch, neurons, sfmaApproximated: sfma };
}

/**
 * A backend executes a whole network on a batch of images. CPU and WebGPU implement it; the plain
 * CPU reference is the oracle every other implementation is tested against.
 */
export interface Backend {
  /** Short name for reports: `cpu`, `cpu-reference`, `webgpu`. */
  readonly name: string;
  /** Backends on several threads: the threads that worked on the last run (see ParallelBackend). */
  readonly threadsUsed?: number;
  /**
   * Runs `batch` images (`input` holds batch x C x H x W values, CHW per image) through `net`.
   * Throws a DataError when the input size does not match the network's input shape.
   */
  run(net: Network, input: Float32Array, batch: number, options?: RunOptions): Promise<RunResult>;
}
