/**
 * The CPU backends on several threads: a batch is split by images into one contiguous slice per
 * worker (Node worker_threads, Web Workers, Deno workers), the slices run at the same time and
 * their results are joined in image order — outputs, summed counters, decision traces. A batch of
 * one image runs on the calling thread: splitting one image would need intra-layer parallelism.
 */
import { concatDecisions, sumCounters, type Backend, type RunOptions, type RunResult } from '../backends/backend.js';
import { CpuBackend } from '../backends/cpu/cpu-backend.js';
import type { KernelVariant } from '../backends/cpu/kernel-types.js';
import { DyveError } from '../errors.js';
import { shapeSize, type Network } from '../ir/network.js';
import type { RunReply, RunRequest } from './messages.js';
import { spawnWorker, type Port } from './worker-port.js';

/** Options of {@link ParallelBackend.create}. */
export interface ParallelBackendOptions {
  /** Worker threads (>= 1). */
  readonly threads: number;
  /** The CPU kernels each thread runs (default `fast`). */
  readonly kernels?: KernelVariant;
}

/**
 * The worker module beside this one. When the TypeScript sources run directly: Deno runs the `.ts`
 * worker; Node cannot run TypeScript in a worker, so tests that run the sources under Node use the
 * built worker (dist/, made by `npm run build` before the suites).
 */
function workerUrl(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./backend-worker.js', import.meta.url);
  if ('Deno' in globalThis) return new URL('./backend-worker.ts', import.meta.url);
  return new URL('../../dist/src/threads/backend-worker.js', import.meta.url);
}

interface Pending {
  resolve(r: RunResult): void;
  reject(e: Error): void;
}

/** One worker, its requests in flight and the networks it holds. */
class WorkerHandle {
  private readonly pending = new Map<number, Pending>();
  readonly sent = new WeakSet<Network>();

  constructor(private readonly port: Port) {
    port.onMessage((message) => {
      const reply = message as RunReply;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(reply.error.name === 'Error' ? new Error(reply.error.message) : new DyveError(reply.error.message));
      else p.resolve(reply.result);
    });
    port.onError((error) => {
      for (const p of this.pending.values()) p.reject(new DyveError(`a worker thread failed: ${error.message}`));
      this.pending.clear();
    });
  }

  run(request: RunRequest): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.port.post(request, [request.input.buffer as ArrayBuffer]);
    });
  }

  terminate(): Promise<void> {
    return this.port.terminate();
  }
}

const networkIds = new WeakMap<Network, number>();
let nextNetworkId = 1;
let nextRequestId = 1;

/** Joins slice results (in image order) into the result of the whole batch. */
function joinResults(parts: readonly RunResult[]): RunResult {
  const output = new Float32Array(parts.reduce((n, p) => n + p.output.length, 0));
  let at = 0;
  for (const p of parts) {
    output.set(p.output, at);
    at += p.output.length;
  }
  const counters = parts[0].counters.map((c, i) => parts.slice(1).reduce((acc, p) => sumCounters(acc, p.counters[i]), c));
  const decisions = parts[0].decisions?.map((d, i) => parts.slice(1).reduce((acc, p) => concatDecisions(acc, p.decisions![i]), d));
  let blobs: Map<string, Float32Array> | undefined;
  if (parts[0].blobs) {
    blobs = new Map();
    for (const name of parts[0].blobs.keys()) {
      const slices = parts.map((p) => p.blobs!.get(name)!);
      const joined = new Float32Array(slices.reduce((n, s) => n + s.length, 0));
      slices.reduce((offset, s) => (joined.set(s, offset), offset + s.length), 0);
      blobs.set(name, joined);
    }
  }
  return { output, counters, ...(decisions && { decisions }), ...(blobs && { blobs }) };
}

/**
 * A CPU backend on `threads` worker threads (batches split by images). Create with
 * {@link ParallelBackend.create}; {@link ParallelBackend.close} stops the workers.
 */
export class ParallelBackend implements Backend {
  readonly name: string;
  private readonly local: CpuBackend;

  private constructor(private readonly workers: readonly WorkerHandle[], private readonly kernels: KernelVariant) {
    this.local = new CpuBackend({ kernels });
    this.name = this.local.name;
  }

  /** Starts the workers. */
  static async create(options: ParallelBackendOptions): Promise<ParallelBackend> {
    const threads = options.threads;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new DyveError(`threads must be a whole number >= 1, got ${threads}`);
    const ports = await Promise.all(Array.from({ length: threads }, () => spawnWorker(workerUrl())));
    return new ParallelBackend(ports.map((p) => new WorkerHandle(p)), options.kernels ?? 'fast');
  }

  /** Worker threads. */
  get threads(): number {
    return this.workers.length;
  }

  async run(net: Network, input: Float32Array, batch: number, options: RunOptions = {}): Promise<RunResult> {
    const slices = Math.min(this.workers.length, batch);
    if (slices <= 1) return this.local.run(net, input, batch, options);
    const block = shapeSize(net.inputShape);
    if (input.length !== batch * block) {
      // The same message the single-thread backend gives.
      return this.local.run(net, input, batch, options);
    }
    let netId = networkIds.get(net);
    if (netId === undefined) networkIds.set(net, (netId = nextNetworkId++));
    const runs: Promise<RunResult>[] = [];
    let start = 0;
    for (let w = 0; w < slices; w++) {
      const count = Math.floor(batch / slices) + (w < batch % slices ? 1 : 0);
      const worker = this.workers[w];
      const first = !worker.sent.has(net);
      worker.sent.add(net);
      runs.push(worker.run({
        id: nextRequestId++, netId, ...(first && { net }), kernels: this.kernels,
        input: input.slice(start * block, (start + count) * block), batch: count, options,
      }));
      start += count;
    }
    return joinResults(await Promise.all(runs));
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
