/** What the parallel backend and its workers say to each other (structured-cloned). */
import type { RunOptions, RunResult } from '../backends/backend.js';
import type { KernelVariant } from '../backends/cpu/kernel-types.js';
import type { Network } from '../ir/network.js';

/** Parent -> worker: run a slice of a batch. `net` travels once per network (then its id alone). */
export interface RunRequest {
  readonly id: number;
  readonly netId: number;
  readonly net?: Network;
  readonly kernels: KernelVariant;
  readonly input: Float32Array;
  readonly batch: number;
  readonly options: RunOptions;
}

/** Worker -> parent: the slice's result, or the error it threw. */
export type RunReply =
  | { readonly id: number; readonly result: RunResult }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string } };
