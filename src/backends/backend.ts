import type { LayerEffort } from '../effort/effort.js';
import type { EffortProfile } from '../effort/profile.js';
import type { Layer, Network } from '../ir/network.js';
import type { LayerCounters } from '../records/counters.js';
import type { LayerDecisions } from '../records/decisions.js';
import type { DispatchRecord } from '../records/dispatches.js';


/** What a layer run alone (a backend's `runLayer`) takes besides its inputs. */
export interface LayerEffortOptions {
  /** The layer's knobs; with any mechanism on, its dynamic kernel runs (else the dense one, bit for bit). */
  readonly effort?: LayerEffort;
  /**
   * The layer's output reaches the network only through a ReLU (PlannedLayer.rectified), which
   * lets SDSS compare rectified values.
   */
  readonly rectified?: boolean;
  /**
   * SPET through a residual sum (PlannedLayer.residual): the sum's other operand, batch x the
   * layer's output size, indexed like the output. SPET tests partial + bias + addend[n] and stores
   * -addend[n] for a terminated neuron.
   */
  readonly addend?: Float32Array;
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
  /**
   * GPU backends: time every dispatch on the GPU (DispatchRecord.gpuNs). Each dispatch then runs
   * in its own compute pass, so the run is a little slower; where the device has no
   * 'timestamp-query' the records carry no time.
   */
  readonly timeDispatches?: boolean;
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
  /**
   * Why this backend cannot run `layer` with `effort` on `batch` images, or null when it can;
   * absent where every valid effort runs (the CPU backends). A calibration for the backend leaves
   * such settings out.
   */
  unsupported?(layer: Layer, effort: LayerEffort, batch: number): Promise<string | null>;
}
