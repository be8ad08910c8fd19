/**
 * The page's CPU threads: the Web Workers the parallel CPU backend (src/threads/) runs on, and a
 * record of the threads that really ran each job, so that the page reports threads that worked,
 * not threads that exist.
 */
import type { Backend, Network, RunOptions, RunResult } from '../../src/browser.js';
// vite bundles a worker only when the page's own code names it: this import makes it emit
// src/threads/backend-worker.ts as a module worker (dev and build; `worker.format` in vite.config.ts).
import BackendWorker from '../../src/threads/backend-worker.ts?worker';

/** The most threads the page offers: the browser's logical processors. */
export function maxThreads(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** The default thread count: up to 4 (more rarely pays on the demo's small batches). */
export function defaultThreads(): number {
  return Math.min(maxThreads(), 4);
}

/**
 * The workers of one opened CPU backend: pass {@link WorkerPool.createWorker} to `openBackend`.
 * It also records which workers returned results since {@link WorkerPool.reset}.
 */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private replied = new Set<Worker>();

  /** Starts one backend worker (openBackend's `createWorker`). */
  readonly createWorker = (): Worker => {
    const worker = new BackendWorker();
    // Beside the backend's own onmessage: a worker posts only the results of work it did.
    worker.addEventListener('message', () => this.replied.add(worker));
    this.workers.push(worker);
    return worker;
  };

  /** Workers started (the backend's `threads`; 0 when it runs on the page's thread). */
  get started(): number {
    return this.workers.length;
  }

  /** Forgets which workers returned results. */
  reset(): void {
    this.replied = new Set();
  }

  /** Workers that returned results since {@link WorkerPool.reset}. */
  get replies(): number {
    return this.replied.size;
  }
}

/**
 * A backend that records the most CPU threads any of its runs used since {@link ThreadMeter.reset}:
 * the backend's own count where it keeps one (`threadsUsed` of the parallel backend), else the
 * workers that returned results (a batch's slices), or 1 — the page's thread — when none did.
 */
export class ThreadMeter implements Backend {
  private most = 0;
  private mostReplies = 0;

  constructor(private readonly inner: Backend, private readonly pool: WorkerPool) {}

  get name(): string {
    return this.inner.name;
  }

  async run(net: Network, input: Float32Array, batch: number, options?: RunOptions): Promise<RunResult> {
    this.pool.reset();
    const result = await this.inner.run(net, input, batch, options);
    this.mostReplies = Math.max(this.mostReplies, this.pool.replies);
    this.most = Math.max(this.most, this.inner.threadsUsed ?? Math.max(1, this.pool.replies));
    return result;
  }

  /** Forgets the runs so far (call before a job). */
  reset(): void {
    this.most = this.mostReplies = 0;
  }

  /** The most threads a run used since {@link ThreadMeter.reset} (0: no run). */
  get used(): number {
    return this.most;
  }

  /** The most workers that returned results to one run since {@link ThreadMeter.reset}: the page's own evidence. */
  get workersReplied(): number {
    return this.mostReplies;
  }
}
