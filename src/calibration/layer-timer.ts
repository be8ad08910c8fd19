/**
 * What the calibration's objective `time` measures: a layer alone against its dense run, and the
 * dense network, on the kernels the profile will run on. Two clocks implement it: the wasm kernels'
 * wall time on this CPU (here) and the GPU time a layer's dispatches span on a WebGPU device
 * (webgpu-layer-timer.ts).
 */
import { CpuBackend, runLayer, type LayerRun } from '../backends/cpu/cpu-backend.js';
import { blobPool } from '../backends/cpu/blob-pool.js';
import type { LayerEffortOptions } from '../backends/backend.js';
import type { Layer, Network } from '../ir/network.js';

/** One layer's times on the probe batch: medians of the interleaved runs, seconds. */
export interface LayerTiming {
  readonly dense: number;
  readonly candidate: number;
  /**
   * The median over the interleaved pairs of candidate / dense: what the credit is computed from,
   * as a pair shares the machine's state (another process's load, clock) far more than two
   * medians taken apart do.
   */
  readonly ratio: number;
}

/** A clock for objective `time`. Every method runs its subject once untimed first (warm). */
export interface LayerTimer {
  /** Where it times: the CPU's wasm kernels or a WebGPU device (recorded in the profile). */
  readonly clock: 'wasm' | 'webgpu';
  /** What is timed, for the log and the profile (e.g. "wall time on the wasm kernels"). */
  readonly description: string;
  /** The dense network on `input` (`batch` images): median of `repeats` timed runs, seconds. */
  network(net: Network, input: Float32Array, batch: number, repeats: number): Promise<number>;
  /** `layer` on its inputs, its dense run prepared once for every candidate; close() when done. */
  layer(layer: Layer, inputs: readonly Float32Array[], batch: number): Promise<LayerClock>;
}

/** One layer's timings (LayerTimer.layer). */
export interface LayerClock {
  /** The dense layer: median of `repeats` timed runs, seconds. */
  dense(repeats: number): Promise<number>;
  /**
   * The layer with `options` against its dense run, interleaved (dense, candidate, dense, ...),
   * `repeats` pairs at most: a candidate slower than HOPELESS x dense after the first pair is not
   * timed again (it cannot win).
   */
  againstDense(options: LayerEffortOptions, repeats: number): Promise<LayerTiming>;
  /** Releases what the dense run holds. */
  close(): void;
}

/** A candidate slower than this many times dense after one timed pair is not timed again. */
const HOPELESS = 1.5;

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Interleaves `dense` and `candidate` samples (seconds each), `repeats` pairs at most; see LayerTimer.againstDense. */
export async function interleaved(dense: () => Promise<number>, candidate: () => Promise<number>, repeats: number): Promise<LayerTiming> {
  const d: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < Math.max(1, repeats); r++) {
    d.push(await dense());
    c.push(await candidate());
    if (r === 0 && c[0] > HOPELESS * d[0]) break;
  }
  return { dense: median(d), candidate: median(c), ratio: median(c.map((v, i) => v / d[i])) };
}

/**
 * Shortest timed sample, seconds. A layer on a small probe runs in well under a millisecond, where
 * one garbage collection or timer tick would decide a comparison: a sample repeats the call until
 * it lasts this long (seen on a shared 2-core machine: single calls of one 0.25 ms layer took up to 10x that).
 */
const MIN_SAMPLE_SECONDS = 0.01;

/** Seconds one call of `f` takes, averaged over as many calls as fill MIN_SAMPLE_SECONDS. */
function seconds(f: () => unknown): number {
  const t0 = performance.now();
  let calls = 0;
  let elapsed = 0;
  do {
    f();
    calls++;
    elapsed = (performance.now() - t0) / 1000;
  } while (elapsed < MIN_SAMPLE_SECONDS);
  return elapsed / calls;
}

/** The median wall time of `repeats` calls of `f` (at least one), seconds; `f` must have run once already. */
function medianSeconds(f: () => unknown, repeats: number): number {
  return median(Array.from({ length: Math.max(1, repeats) }, () => seconds(f)));
}

/**
 * `run` as the timings call it: its outputs go back to the blob pool, as a network run's dropped
 * blobs do (blob-pool.ts), so a layer is not timed allocating fresh memory on every call.
 */
function recycling(run: () => LayerRun): () => void {
  return () => {
    for (const output of run().outputs) blobPool.give(output);
  };
}

/**
 * Wall time on this CPU's wasm kernels, one thread (initWasmKernels() must have completed). Calls
 * are synchronous; the promises only share the interface with the device's clock.
 */
export function wasmTimer(): LayerTimer {
  const layerRun = (layer: Layer, inputs: readonly Float32Array[], batch: number, options: LayerEffortOptions = {}) => {
    const run = recycling(() => runLayer(layer, inputs, batch, { kernels: 'wasm', ...options }));
    run();
    return run;
  };
  return {
    clock: 'wasm',
    description: 'wall time on the wasm kernels',
    async network(net, input, batch, repeats) {
      const wasm = new CpuBackend({ kernels: 'wasm' });
      const whole = () => wasm.runSync(net, input, batch);
      whole();
      return medianSeconds(whole, repeats);
    },
    async layer(layer, inputs, batch) {
      const dense = layerRun(layer, inputs, batch);
      return {
        dense: async (repeats) => medianSeconds(dense, repeats),
        againstDense: async (options, repeats) => {
          const candidate = layerRun(layer, inputs, batch, options);
          return interleaved(async () => seconds(dense), async () => seconds(candidate), repeats);
        },
        close: () => {},
      };
    },
  };
}
