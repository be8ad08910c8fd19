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
}

export interface RunOptions {
  /** Keep every intermediate blob in the result. */
  readonly keepBlobs?: boolean;
  /** The dynamic-effort knobs per layer; absent or empty = dense. */
  readonly effort?: EffortProfile;
}

/**
 * A backend executes a whole network on a batch of images. CPU and WebGPU implement it; the plain
 * CPU reference is the oracle every other implementation is tested against.
 */
export interface Backend {
  /** Short name for reports: `cpu`, `cpu-reference`, `webgpu`. */
  readonly name: string;
  /**
   * Runs `batch` images (`input` holds batch x C x H x W values, CHW per image) through `net`.
   * Throws a DataError when the input size does not match the network's input shape.
   */
  run(net: Network, input: Float32Array, batch: number, options?: RunOptions): Promise<RunResult>;
}
