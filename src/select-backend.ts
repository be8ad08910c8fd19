/**
 * Backend selection by name: `cpu`, `cpu-reference`, `wasm` (the CPU backend with WebAssembly SIMD
 * kernels for Convolution, InnerProduct, Pooling and ReLU), `webgpu` (fails with a clear error without an adapter)
 * and `auto` (WebGPU when an adapter exists, else the CPU, with a one-line notice; a
 * device lost mid-run also falls back to the CPU, never hangs).
 */
import { DyveError } from './errors.js';
import type { Network } from './ir/network.js';
import type { Backend, RunOptions, RunResult } from './backends/backend.js';
import { CpuBackend } from './backends/cpu/cpu-backend.js';
import type { KernelVariant } from './backends/cpu/kernel-types.js';
import { ParallelBackend } from './threads/parallel-backend.js';
import { initWasmKernels } from './backends/cpu/wasm/wasm-loader.js';
import { DeviceLostError, NoAdapterError } from './backends/webgpu/gpu-context.js';
import { WebGpuBackend, type WebGpuBackendOptions } from './backends/webgpu/webgpu-backend.js';

export const BACKEND_NAMES = ['cpu', 'cpu-reference', 'wasm', 'webgpu', 'auto'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** An opened backend, what runs it, and how to release it. */
export interface OpenedBackend {
  readonly backend: Backend;
  /** The WebGPU adapter in words, or null when the backend runs on the CPU. */
  readonly adapter: string | null;
  /** Releases the device, if any. */
  close(): void;
}

/**
 * `auto`'s backend: WebGPU until its device is lost, then the CPU for the rest of the session.
 * The notice goes to `notify` once.
 */
export class FallbackBackend implements Backend {
  private active: Backend;

  constructor(private readonly gpu: WebGpuBackend, private readonly cpu: Backend, private readonly notify: (line: string) => void) {
    this.active = gpu;
  }

  get name(): string {
    return this.active.name;
  }

  async run(net: Network, input: Float32Array, batch: number, options?: RunOptions): Promise<RunResult> {
    if (this.active === this.gpu) {
      try {
        return await this.gpu.run(net, input, batch, options);
      } catch (err) {
        if (!(err instanceof DeviceLostError)) throw err;
        this.notify(`dyvedeep: ${err.message}; falling back to the CPU backend`);
        this.active = this.cpu;
      }
    }
    return this.cpu.run(net, input, batch, options);
  }
}

/** Options of {@link openBackend}: the WebGPU backend's, and the CPU backends' thread count. */
export interface OpenBackendOptions extends WebGpuBackendOptions {
  /** CPU backends (cpu, cpu-reference, wasm): worker threads, batches split by image (default 1: this thread). */
  readonly threads?: number;
  /** Browsers with threads > 1: starts a Web Worker running the backend worker (see ParallelBackendOptions.createWorker). */
  readonly createWorker?: () => Worker;
}

/** A CPU backend of `kernels`, on worker threads when asked for more than one. */
async function cpuBackend(kernels: KernelVariant, threads: number, createWorker?: () => Worker): Promise<OpenedBackend> {
  if (threads <= 1) return { backend: new CpuBackend({ kernels }), adapter: null, close: () => {} };
  const parallel = await ParallelBackend.create({ threads, kernels, ...(createWorker && { createWorker }) });
  return { backend: parallel, adapter: null, close: () => void parallel.close() };
}

/** Opens the backend `name`; `notify` receives auto's one-line fallback notices (default: stderr). */
export async function openBackend(
  name: string, options: OpenBackendOptions = {}, notify: (line: string) => void = (line) => console.error(line),
): Promise<OpenedBackend> {
  const threads = options.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new DyveError(`threads must be a whole number >= 1, got ${threads}`);
  if (name === 'cpu') return cpuBackend('fast', threads, options.createWorker);
  if (name === 'cpu-reference') return cpuBackend('reference', threads, options.createWorker);
  if (name === 'wasm') {
    // Loaded here, so that an engine without WebAssembly SIMD fails before any data is read.
    await initWasmKernels();
    return cpuBackend('wasm', threads, options.createWorker);
  }
  if (name === 'webgpu') {
    const gpu = await WebGpuBackend.create(options);
    return { backend: gpu, adapter: gpu.adapterName, close: () => gpu.destroy() };
  }
  if (name === 'auto') {
    let gpu: WebGpuBackend;
    try {
      gpu = await WebGpuBackend.create(options);
    } catch (err) {
      if (!(err instanceof NoAdapterError)) throw err;
      notify(`dyvedeep: no WebGPU adapter (${err.message}); running on the CPU backend`);
      return cpuBackend('fast', threads, options.createWorker);
    }
    const fallback = new FallbackBackend(gpu, new CpuBackend(), notify);
    return { backend: fallback, adapter: gpu.adapterName, close: () => gpu.destroy() };
  }
  throw new DyveError(`unknown backend '${name}' (available: ${BACKEND_NAMES.join(', ')})`);
}
