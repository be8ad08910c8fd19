/**
 * TensorFlow.js (wasm backend: XNNPACK, SIMD, optional threads) as a peer engine for comparisons
 * against dyvedeep: it runs OUR IR network, with the same weights, built into TF.js ops once
 * (tfjs-graph.ts), so both engines compute the same function from the same numbers.
 *
 * Input and output keep our engine's layout: NCHW in, the output blob (batch x classes) out.
 * TF.js runs NHWC inside: the input is transposed once per batch, weights once at build time.
 *
 * The packages are dev dependencies, loaded with dynamic import() (tfjs-wasm-runtime.ts) so the
 * CLI works without them; a missing one is a DyveError that says how to install it.
 *
 * Threads: 1 to 8. Two or more work in Node through a worker shim (tfjs-worker-shim.ts). TF.js
 * holds one wasm backend per process, so runners open at the same time share one thread count.
 */
import type { Network } from '../../src/ir/network.js';
import { buildTfjsGraph } from './tfjs-graph.js';
import { acquireTfjsWasm } from './tfjs-wasm-runtime.js';

/** The TF.js peer with one network loaded. */
export interface TfjsWasmRunner {
  /** Engine, version, build and threads, e.g. `tfjs-wasm 4.22.0 (XNNPACK, SIMD, 2 threads)`. */
  readonly name: string;
  /** Runs `batch` images (batch x C x H x W values, NCHW); returns the output blob, batch first. */
  run(input: Float32Array, batch: number): Promise<Float32Array>;
  /** Frees the weights; the last runner to close stops the backend and its worker threads. */
  close(): Promise<void>;
}

/**
 * Builds `net` (trained or synthetic weights) for TensorFlow.js's wasm backend on `threads`
 * threads. Throws a DyveError when TF.js is not installed, when `threads` is not 1 to 8, when
 * another runner holds the backend at another thread count, or when the threads do not start.
 */
export async function openTfjsWasm(net: Network, threads: number): Promise<TfjsWasmRunner> {
  const runtime = await acquireTfjsWasm(threads);
  let graph: ReturnType<typeof buildTfjsGraph>;
  try {
    graph = buildTfjsGraph(runtime.tf, net);
  } catch (err) {
    await runtime.release();
    throw err;
  }
  const build = runtime.simd ? 'XNNPACK, SIMD' : 'XNNPACK';
  const name = `tfjs-wasm ${runtime.version} (${build}, ${threads} thread${threads > 1 ? 's' : ''})`;
  let closed = false;
  return {
    name,
    async run(input, batch) {
      if (closed) throw new Error(`${name}: run() after close()`);
      return graph.run(input, batch);
    },
    async close() {
      if (closed) return;
      closed = true;
      graph.dispose();
      await runtime.release();
    },
  };
}
