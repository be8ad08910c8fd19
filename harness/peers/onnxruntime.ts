/**
 * onnxruntime as a peer engine: runs an exported model (src/formats/onnx/export-onnx.ts) with
 * onnxruntime-node's native CPU execution provider or onnxruntime-web's WebAssembly backend
 * (in Node), for comparisons against dyvedeep on the same weights and images.
 *
 * Both packages are dev dependencies, loaded with dynamic import() so that the CLI works without
 * them; a missing one is a DyveError that says how to install it.
 *
 * onnxruntime-web initialises its WebAssembly module once per JavaScript realm, with the thread
 * count `env.wasm.numThreads` holds at that moment; later changes are silently ignored. A web
 * runner therefore lives in its own worker thread (its own realm and module instance), so each
 * runner gets the threads it asks for; the worker exchanges inputs and outputs by transfer.
 */
import { Worker } from 'node:worker_threads';
import { DyveError } from '../../src/errors.js';

/** Which onnxruntime: the native Node binding (CPU EP) or the WebAssembly build in Node. */
export type OnnxRuntimeKind = 'node' | 'web';

/** A peer engine with one model loaded. */
export interface PeerRunner {
  /** Engine, version and threads, e.g. `onnxruntime-node 1.30.0 (cpu, 2 threads)`. */
  readonly name: string;
  /** Runs `batch` images (batch x C x H x W values); returns the output blob, batch first. */
  run(input: Float32Array, batch: number): Promise<Float32Array>;
  /** Frees the session (and the worker, for `web`). */
  close(): Promise<void>;
}

const PACKAGE: Record<OnnxRuntimeKind, string> = { node: 'onnxruntime-node', web: 'onnxruntime-web' };

function missingPackage(kind: OnnxRuntimeKind, err: unknown): DyveError {
  const pkg = PACKAGE[kind];
  const install = kind === 'node'
    ? `npm install --no-save --ignore-scripts ${pkg} (its install script downloads GPU libraries; the CPU binaries ship in the package)`
    : `npm install --no-save ${pkg}`;
  return new DyveError(`the peer engine ${pkg} is not installed (${(err as Error).message.split('\n')[0]}): ${install}`);
}

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** The [C, H, W] of the model's only input, read from the session's metadata. */
function imageDims(metadata: readonly unknown[], kind: OnnxRuntimeKind): number[] {
  const shape = (metadata[0] as { shape?: readonly (number | string)[] } | undefined)?.shape;
  const dims = shape?.slice(1) ?? [];
  if (shape?.length !== 4 || !dims.every((d): d is number => typeof d === 'number')) {
    throw new DyveError(`${PACKAGE[kind]}: the model's input must be N x C x H x W with fixed C, H, W; found ${JSON.stringify(shape)}`);
  }
  return dims;
}

function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new DyveError(`peer threads must be a positive integer, found ${threads}`);
}

function checkInput(input: Float32Array, batch: number, perImage: number, name: string): void {
  if (!Number.isInteger(batch) || batch < 1 || input.length !== batch * perImage) {
    throw new DyveError(`${name}: expected batch x ${perImage} input values for batch ${batch}, got ${input.length}`);
  }
}

/** onnxruntime-node, CPU execution provider, all graph optimisations, `threads` intra-op threads. */
async function openNode(model: Uint8Array, threads: number): Promise<PeerRunner> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (err) {
    throw isModuleNotFound(err) ? missingPackage('node', err) : err;
  }
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    // One operator at a time, as dyvedeep runs: all threads go to the operator running.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const dims = imageDims(session.inputMetadata, 'node');
  const perImage = dims[0] * dims[1] * dims[2];
  const name = `onnxruntime-node ${ort.env.versions.common} (cpu, ${threads} thread${threads > 1 ? 's' : ''})`;
  return {
    name,
    async run(input, batch) {
      checkInput(input, batch, perImage, name);
      const result = await session.run({ [inputName]: new ort.Tensor('float32', input, [batch, ...dims]) });
      return result[outputName].data as Float32Array;
    },
    close: () => session.release(),
  };
}

/** What the worker of a web runner sends back (see WEB_WORKER_SOURCE). */
type WorkerReply =
  | { readonly type: 'ready'; readonly version: string; readonly perImage: number; readonly dims: number[] }
  | { readonly type: 'output'; readonly data: Float32Array }
  | { readonly type: 'error'; readonly message: string; readonly missing: boolean };

/**
 * The worker of a web runner, as ES module source (a separate .ts file would need its own build
 * step under Node, Deno and vitest alike). It imports onnxruntime-web by name, resolved from this
 * file's location (`import.meta.url` is passed in), and answers each `run` message in turn.
 */
const WEB_WORKER_SOURCE = `
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
const fail = (err) => parentPort.postMessage({ type: 'error', message: String(err && err.message || err),
  missing: err && (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') });
let ort, session;
try {
  const require = createRequire(workerData.base);
  // The package's "main" is dist/ort.node.min.js: its folder holds the .wasm/.mjs runtime files.
  const main = require.resolve('onnxruntime-web');
  ort = await import(pathToFileURL(main.replace(/\\.js$/, '.mjs')).href);
  ort.env.wasm.numThreads = workerData.threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.wasmPaths = pathToFileURL(dirname(main)).href + '/';
  session = await ort.InferenceSession.create(workerData.model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const shape = session.inputMetadata[0]?.shape ?? [];
  const perImage = shape.length === 4 && shape.slice(1).every((d) => typeof d === 'number') ? shape[1] * shape[2] * shape[3] : 0;
  parentPort.postMessage({ type: 'ready', version: ort.env.versions.common, perImage, dims: shape.slice(1) });
} catch (err) { fail(err); }
parentPort.on('message', async (msg) => {
  try {
    const input = new ort.Tensor('float32', msg.input, [msg.batch, ...session.inputMetadata[0].shape.slice(1)]);
    const out = (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]];
    const data = out.data.slice();
    out.dispose?.();
    parentPort.postMessage({ type: 'output', data }, [data.buffer]);
  } catch (err) { fail(err); }
});
`;

/** onnxruntime-web's wasm backend (SIMD, `threads` threads) in a worker thread of its own. */
async function openWeb(model: Uint8Array, threads: number): Promise<PeerRunner> {
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(WEB_WORKER_SOURCE)}`), {
    workerData: { base: import.meta.url, threads, model },
  });
  // Runs are queued: one message in flight, answered in order.
  let pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let failure: Error | undefined;
  const next = () => new Promise<WorkerReply>((resolve, reject) => { pending = { resolve, reject }; });
  worker.on('message', (reply: WorkerReply) => { const p = pending; pending = undefined; p?.resolve(reply); });
  worker.on('error', (err) => { failure = err; pending?.reject(err); pending = undefined; });
  worker.on('exit', (code) => {
    failure ??= new DyveError(`onnxruntime-web worker exited (code ${code})`);
    pending?.reject(failure);
    pending = undefined;
  });

  const ready = await next();
  if (ready.type === 'error') {
    await worker.terminate();
    if (ready.missing) throw missingPackage('web', new Error(ready.message));
    throw new DyveError(`onnxruntime-web could not load the model: ${ready.message}`);
  }
  if (ready.type !== 'ready') throw new Error(`internal: onnxruntime-web worker sent ${ready.type} first`);
  // Between runs the idle worker must not keep the process alive (a caller that never closes).
  worker.unref();
  if (ready.perImage === 0) {
    await worker.terminate();
    throw new DyveError(`onnxruntime-web: the model's input must be N x C x H x W with fixed C, H, W; found N x ${ready.dims.join(' x ')}`);
  }
  const name = `onnxruntime-web ${ready.version} (wasm, ${threads} thread${threads > 1 ? 's' : ''})`;
  const run = async (input: Float32Array, batch: number): Promise<Float32Array> => {
    checkInput(input, batch, ready.perImage, name);
    if (failure) throw failure;
    const reply = next();
    // A copy travels (by transfer) so the caller keeps its array.
    const copy = input.slice();
    worker.ref();
    worker.postMessage({ type: 'run', input: copy, batch }, [copy.buffer]);
    const r = await reply.finally(() => worker.unref());
    if (r.type === 'error') throw new DyveError(`onnxruntime-web: ${r.message}`);
    if (r.type !== 'output') throw new Error(`internal: onnxruntime-web worker sent ${r.type}`);
    return r.data;
  };
  return {
    name,
    run(input, batch) {
      const result = queue.then(() => run(input, batch));
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      await queue;
      // Ending the worker frees its WebAssembly memory, session included.
      await worker.terminate();
    },
  };
}

/**
 * Opens onnxruntime on an ONNX model: `node` = onnxruntime-node's CPU execution provider with
 * `threads` intra-op threads; `web` = onnxruntime-web's SIMD WebAssembly backend with `threads`
 * threads, in Node. Graph optimisations are on in both. Throws a DyveError when the package is
 * not installed or the model does not load.
 */
export async function openOnnxRuntime(kind: OnnxRuntimeKind, model: Uint8Array, threads: number): Promise<PeerRunner> {
  checkThreads(threads);
  try {
    return kind === 'node' ? await openNode(model, threads) : await openWeb(model, threads);
  } catch (err) {
    if (err instanceof DyveError) throw err;
    throw new DyveError(`${PACKAGE[kind]} could not load the model: ${(err as Error).message}`);
  }
}
