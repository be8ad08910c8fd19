/**
 * TensorFlow.js and its wasm backend (XNNPACK, SIMD) in this process: loaded on demand, started
 * with a thread count, shared by the runners open at the same time, and stopped (its pthread
 * workers ended, so the process can exit) when the last of them closes.
 *
 * TensorFlow.js keeps one engine and one `wasm` backend per process, so every runner open at a
 * time shares one thread count; a runner asking for another count while one is open is refused.
 *
 * Threads in Node (TensorFlow.js 4.22 enables them in browsers only):
 * - the feature flag `WASM_HAS_MULTITHREAD_SUPPORT` is forced to true, which selects the
 *   threaded-SIMD build;
 * - the build's pthread workers need a Node `Worker` (tfjs-worker-shim.ts);
 * - the backend caps its thread pool at `emscripten_num_logical_cores() / 2` (it assumes two
 *   hyper-threads per core), read once as the module starts, from `os.cpus().length` in Node: on a
 *   two-core machine it would never start a second thread. While the module starts, `os.cpus()`
 *   reports 2 x threads entries; the count XNNPACK really got is checked afterwards.
 * One thread uses the plain SIMD build: no workers and no shared memory, its best case.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfWasm from '@tensorflow/tfjs-backend-wasm';
import { DyveError } from '../../src/errors.js';
import { installWorkerShim, type ThreadedBuildFiles } from './tfjs-worker-shim.js';

/** The `@tensorflow/tfjs-core` module. */
export type Tf = typeof TfCore;
type Wasm = typeof TfWasm;

/** Most threads the backend's pool takes (its Emscripten build pre-creates 8 workers). */
export const TFJS_WASM_MAX_THREADS = 8;

/** The started backend, as a runner holds it. */
export interface TfjsWasmRuntime {
  readonly tf: Tf;
  /** Threads XNNPACK runs on (the caller's own included). */
  readonly threads: number;
  /** `@tensorflow/tfjs-backend-wasm` version. */
  readonly version: string;
  /** Whether the SIMD build runs (always, on Node >= 16). */
  readonly simd: boolean;
  /** Gives the runtime back; the last release stops the backend. Call once. */
  release(): Promise<void>;
}

interface Loaded {
  readonly tf: Tf;
  readonly wasm: Wasm;
  /** The backend factory the package registered, kept to register it again after a stop. */
  readonly factory: ReturnType<Tf['findBackendFactory']>;
  readonly files: ThreadedBuildFiles;
}

/** The backend's priority in the package's own registration (base.ts: WASM_PRIORITY). */
const WASM_PRIORITY = 2;
const BACKEND = 'wasm';

let loaded: Promise<Loaded> | undefined;
/** The running backend: its thread count and how many runners hold it. */
let running: { threads: number; holders: number; simd: boolean } | undefined;
/** Starts and stops happen one at a time. */
let queue: Promise<unknown> = Promise.resolve();

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function load(): Promise<Loaded> {
  let tf: Tf;
  let wasm: Wasm;
  try {
    tf = await import('@tensorflow/tfjs-core');
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    if (!isModuleNotFound(err)) throw err;
    throw new DyveError(
      `the peer engine tfjs-wasm needs @tensorflow/tfjs-core and @tensorflow/tfjs-backend-wasm (${(err as Error).message.split('\n')[0]}): ` +
      'npm install --no-save @tensorflow/tfjs-core@4.22 @tensorflow/tfjs-backend-wasm@4.22',
    );
  }
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  // In Node the .wasm files are read from disk: a folder path, with its trailing separator.
  wasm.setWasmPaths(join(packageDir, 'dist') + sep);
  const wasmOut = join(packageDir, 'wasm-out');
  const workerModule = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // The same escaping TensorFlow.js applies before it puts this text in a blob (backend_wasm.ts).
  const workerSource = workerModule.wasmWorkerContents.replace(/\n/g, '\\n');
  const mainScriptPath = join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  if (!existsSync(mainScriptPath)) throw new DyveError(`tfjs-wasm: ${mainScriptPath} is missing: reinstall @tensorflow/tfjs-backend-wasm`);
  // Checks tfjs-core would otherwise run on every op (debug mode stays off); the peer at its best.
  tf.enableProdMode();
  return { tf, wasm, factory: tf.findBackendFactory(BACKEND), files: { workerSource, mainScriptPath } };
}

/** Runs `body` while `os.cpus()` reports `count` CPUs (see the file comment). */
async function withReportedCpus<T>(count: number, body: () => Promise<T>): Promise<T> {
  const os = createRequire(import.meta.url)('node:os') as { cpus: () => import('node:os').CpuInfo[] };
  const real = os.cpus;
  const one = real()[0];
  os.cpus = () => Array.from({ length: count }, () => one);
  try {
    return await body();
  } finally {
    os.cpus = real;
  }
}

async function start(l: Loaded, threads: number): Promise<void> {
  const { tf, wasm } = l;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
  wasm.setThreadsCount(threads);
  const init = () => tf.setBackend(BACKEND);
  let ok: boolean;
  if (threads === 1) {
    ok = await init();
  } else {
    const restore = installWorkerShim(l.files);
    try {
      ok = await withReportedCpus(2 * threads, init);
    } finally {
      restore();
    }
  }
  if (!ok) throw new DyveError(`TensorFlow.js could not start its wasm backend with ${threads} thread(s) (see the warning above)`);
  const got = wasm.getThreadsCount();
  if (got !== threads) {
    await stop(l);
    throw new DyveError(`TensorFlow.js wasm started ${got} thread(s) where ${threads} were asked for`);
  }
  // Emscripten ref()s a worker while a pthread runs on it, and XNNPACK's pool threads never end:
  // unref them so that a runner left open does not keep the process alive (close() still ends them).
  const pthreads = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers: { unref(): void }[] } } }).wasm?.PThread;
  pthreads?.runningWorkers.forEach((w) => w.unref());
}

/** Removes the backend (its dispose() ends the pthread workers) and registers it again, unstarted. */
async function stop(l: Loaded): Promise<void> {
  l.tf.removeBackend(BACKEND);
  l.tf.registerBackend(BACKEND, l.factory, WASM_PRIORITY);
  running = undefined;
}

function serial<T>(task: () => Promise<T>): Promise<T> {
  const result = queue.then(task);
  queue = result.catch(() => undefined);
  return result;
}

/**
 * Loads TensorFlow.js (once) and returns its wasm backend running on `threads` threads (1 to 8).
 * Throws a DyveError when the packages are missing, when the backend already runs with another
 * thread count for a runner still open, or when the threads asked for did not start.
 */
export function acquireTfjsWasm(threads: number): Promise<TfjsWasmRuntime> {
  if (!Number.isInteger(threads) || threads < 1 || threads > TFJS_WASM_MAX_THREADS) {
    return Promise.reject(new DyveError(`tfjs-wasm: threads must be an integer from 1 to ${TFJS_WASM_MAX_THREADS} (its wasm build's worker pool), found ${threads}`));
  }
  return serial(async () => {
    loaded ??= load();
    let l: Loaded;
    try {
      l = await loaded;
    } catch (err) {
      loaded = undefined;
      throw err;
    }
    if (running && running.threads !== threads) {
      if (running.holders > 0) {
        throw new DyveError(
          `tfjs-wasm already runs on ${running.threads} thread(s) for a runner still open; TensorFlow.js has one wasm backend per process: close that runner first`,
        );
      }
      await stop(l);
    }
    if (!running) {
      await start(l, threads);
      running = { threads, holders: 0, simd: (await l.tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true };
    }
    const state = running;
    state.holders++;
    let released = false;
    return {
      tf: l.tf,
      threads,
      version: l.wasm.version_wasm,
      simd: state.simd,
      release: () => serial(async () => {
        if (released) return;
        released = true;
        state.holders--;
        if (state.holders === 0 && running === state) await stop(l);
      }),
    };
  });
}
