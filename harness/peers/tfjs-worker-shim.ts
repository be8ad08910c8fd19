/**
 * Lets the threaded build of TensorFlow.js's wasm backend start its pthreads in Node.
 *
 * The threaded build is Emscripten output that knows Node (it spawns `worker_threads` workers),
 * but TensorFlow.js wraps it for browsers: the worker script it hands to Emscripten is a `blob:`
 * URL, and the main script each worker must import is a `Blob` posted in the worker's `load`
 * message. Node's `worker_threads.Worker` takes neither (a path, a file: URL or source with
 * `eval: true` only), and reading a Blob is asynchronous where Emscripten needs it synchronously.
 *
 * While installed, the global `Worker` is a `worker_threads.Worker` subclass that runs the worker
 * script from its source text (the same text TensorFlow.js puts in the blob) and rewrites the
 * `load` message to name the package's copy of the main script, which the worker then imports
 * from disk. Emscripten assigns `global.Worker = worker_threads.Worker` as it starts; the shim
 * ignores that assignment until it is removed.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** What the shim needs from the package (see tfjs-wasm-runtime.ts). */
export interface ThreadedBuildFiles {
  /** Source of the pthread worker script (wasm-out/tfjs-backend-wasm-threaded-simd.worker.js). */
  readonly workerSource: string;
  /** Path of the Emscripten main script that defines `WasmBackendModuleThreadedSimd`. */
  readonly mainScriptPath: string;
}

/** Emscripten's message that gives a fresh worker the module and the main script to import. */
interface LoadMessage {
  readonly cmd: 'load';
  readonly urlOrBlob: unknown;
}

function isLoadMessage(msg: unknown): msg is LoadMessage {
  return typeof msg === 'object' && msg !== null && (msg as { cmd?: unknown }).cmd === 'load';
}

/**
 * Installs the shim as the global `Worker`; returns the function that restores what was there.
 * Install it only around the backend's initialisation: Emscripten creates its whole worker pool
 * (8 workers) while the module starts, and needs no new worker later for up to 8 threads.
 */
export function installWorkerShim(files: ThreadedBuildFiles): () => void {
  class EmscriptenNodeWorker extends Worker {
    constructor(url: string | URL, options?: WorkerOptions) {
      // The only worker Emscripten creates is the pthread script, always given as a blob: URL.
      super(String(url).startsWith('blob:') ? files.workerSource : url, { ...options, eval: String(url).startsWith('blob:') });
    }

    override postMessage(value: unknown, transferList?: Parameters<Worker['postMessage']>[1]): void {
      if (isLoadMessage(value) && typeof value.urlOrBlob !== 'string') {
        // The worker's importScripts() reads a path synchronously; a Blob cannot be read that way.
        value = { ...value, urlOrBlob: files.mainScriptPath };
      }
      super.postMessage(value, transferList);
    }
  }

  const global = globalThis as Record<string, unknown>;
  const previous = Object.getOwnPropertyDescriptor(global, 'Worker');
  Object.defineProperty(global, 'Worker', {
    configurable: true,
    enumerable: false,
    get: () => EmscriptenNodeWorker,
    // Emscripten's `global.Worker = nodeWorkerThreads.Worker` must not replace the shim.
    set: () => undefined,
  });
  return () => {
    if (previous) Object.defineProperty(global, 'Worker', previous);
    else delete global.Worker;
  };
}
