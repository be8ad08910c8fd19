/** What the parallel backend and its workers say to each other (structured-cloned). */
import type { RunOptions, RunResult } from '../backends/backend.js';
import type { LayerDecisions } from '../records/decisions.js';
import type { LayerCounters } from '../records/counters.js';
import type { LayerEffort } from '../effort/effort.js';
import type { KernelVariant } from '../backends/cpu/kernel-types.js';
import type { Network } from '../ir/network.js';

/** Parent -> worker: run a slice of a batch. `net` travels once per network (then its id alone). */
export interface RunRequest {
  readonly kind: 'run';
  readonly id: number;
  readonly netId: number;
  readonly net?: Network;
  readonly kernels: KernelVariant;
  readonly input: Float32Array;
  readonly batch: number;
  readonly options: RunOptions;
}

/**
 * Parent -> worker: part [from, to) (output rows or channels, see layer-split.ts) of layer `layer`
 * of the network on one image. Either `input` is what the part reads and the reply carries the
 * part's output, or (`shared`) the layer's whole input and output live in shared memory: the
 * worker reads its band there and writes its part in place (the buffers travel once per layer).
 */
export interface LayerRequest {
  readonly kind: 'layer';
  readonly id: number;
  readonly netId: number;
  readonly net?: Network;
  readonly kernels: KernelVariant;
  readonly layer: number;
  readonly by: 'rows' | 'channels';
  readonly from: number;
  readonly to: number;
  readonly input?: Float32Array;
  /** The index of a ReLU layer to run on the part's output (PlannedLayer.fusedRelu). */
  readonly relu?: number;
  /**
   * A sibling layer (index, and its fused ReLU's) to run whole on the layer's shared input
   * before the part (see splitSibling); its output comes back in the reply.
   */
  readonly side?: { readonly layer: number; readonly relu?: number };
  /** A dynamic layer's knobs, whether its output is rectified, whether to trace its decisions. */
  readonly effort?: LayerEffort;
  readonly rectified?: boolean;
  readonly trace?: boolean;
  /** SPET through a residual sum: the part's slice of the sum's other operand (partAddend). */
  readonly addend?: Float32Array;
  readonly shared?: true;
  /** The layer's shared input and output, the first time this worker sees them. */
  readonly buffers?: SharedLayerBuffers;
}

/** A layer's input and output (one image) on SharedArrayBuffers. */
export interface SharedLayerBuffers {
  readonly input: Float32Array;
  readonly output: Float32Array;
}

export type WorkerRequest = RunRequest | LayerRequest;

/**
 * What a layer part returns: its output (unless written to shared memory) and what it executed
 * (the layer's counters, then the fused ReLU's).
 */
export interface PartResult {
  readonly output?: Float32Array;
  readonly counters: LayerCounters[];
  readonly decisions?: LayerDecisions;
  /** The sibling layer's output and counters (its and its ReLU's), when one was asked for. */
  readonly side?: { readonly output: Float32Array; readonly counters: LayerCounters[] };
}

/**
 * Worker -> parent: the result, or the error it threw. A run request's input buffer comes back
 * (`spare`, transferred) for the parent to fill with the next slice (WorkerHandle.stage).
 */
export type WorkerReply =
  | { readonly id: number; readonly result: RunResult | PartResult; readonly spare?: ArrayBuffer }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string } };
