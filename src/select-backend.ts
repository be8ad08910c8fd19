/**
 * Backend selection by name: `cpu`, `cpu-reference`, `wasm` (the CPU backend with WebAssembly SIMD
 * kernels for Convolution, InnerProduct, Pooling and ReLU), `webgpu` (fails with a clear error without an adapter)
 * and `auto`, the default: what a user would pick on this machine (see {@link openBackend}).
 */
import { DyveError } from './errors.js';
import type { Layer, Network } from './ir/network.js';
import type { LayerEffort } from './effort/effort.js';
import type { Backend, RunOptions, RunResult } from './backends/backend.js';
import { CpuBackend } from './backends/cpu/cpu-backend.js';
import type { KernelVariant } from './backends/cpu/kernel-types.js';
import { ParallelBackend } from './threads/parallel-backend.js';
import { initWasmKernels } from './backends/cpu/wasm/wasm-loader.js';
import { DeviceLostError, NoAdapterError, probeAdapter } from './backends/webgpu/gpu-context.js';
import { WebGpuBackend, type WebGpuBackendOptions } from './backends/webgpu/webgpu-backend.js';

export const BACKEND_NAMES = ['cpu', 'cpu-reference', 'wasm', 'webgpu', 'auto'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What `auto` chose, and why. */
export interface AutoChoice {
  /** The backend it opened: `webgpu`, `wasm` or `cpu`. */
  readonly backend: 'webgpu' | 'wasm' | 'cpu';
  /** CPU backends: the threads it runs on (0 on WebGPU). */
  readonly threads: number;
  /** Why, in words: the adapter it found (or not), and whether WebAssembly SIMD runs here. */
  readonly reason: string;
}

/** Auto's choice as one line, with the batch the caller runs when it has one. */
export function describeChoice(choice: AutoChoice, batch?: number): string {
  const what = choice.backend === 'webgpu' ? 'webgpu' : `${choice.backend}, ${choice.threads} thread${choice.threads === 1 ? '' : 's'}`;
  return `dyvedeep: auto chose ${what}${batch === undefined ? '' : `, batch ${batch}`} (${choice.reason}); --backend, --threads and --batch override it`;
}

/** An opened backend, what runs it, and how to release it. */
export interface OpenedBackend {
  readonly backend: Backend;
  /** The WebGPU adapter in words, or null when the backend runs on the CPU. */
  readonly adapter: string | null;
  /** Set when `auto` opened it: what it chose and why. */
  readonly choice?: AutoChoice;
  /** Releases the device, if any. */
  close(): void;
}

/**
 * `auto`'s backend: WebGPU until its device is lost, then the CPU for the rest of the session.
 * The notice goes to `notify` once.
 */
export class FallbackBackend implements Backend {
  private active: Backend;

  constructor(readonly gpu: WebGpuBackend, private readonly cpu: Backend, private readonly notify: (line: string) => void) {
    this.active = gpu;
  }

  get name(): string {
    return this.active.name;
  }

  async unsupported(layer: Layer, effort: LayerEffort, batch: number): Promise<string | null> {
    return this.active === this.gpu ? this.gpu.unsupported(layer, effort, batch) : null;
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
  /**
   * CPU backends (cpu, cpu-reference, wasm): worker threads, batches split by image (default 1:
   * this thread; `auto`: one per core).
   */
  readonly threads?: number;
  /** `auto`: tell `notify` what it chose (default true; a caller that prints the choice itself passes false). */
  readonly announce?: boolean;
  /** Browsers with threads > 1: starts a Web Worker running the backend worker (see ParallelBackendOptions.createWorker). */
  readonly createWorker?: () => Worker;
}

/** A CPU backend of `kernels`, on worker threads when asked for more than one. */
async function cpuBackend(kernels: KernelVariant, threads: number, createWorker?: () => Worker): Promise<OpenedBackend> {
  if (threads <= 1) return { backend: new CpuBackend({ kernels }), adapter: null, close: () => {} };
  const parallel = await ParallelBackend.create({ threads, kernels, ...(createWorker && { createWorker }) });
  return { backend: parallel, adapter: null, close: () => void parallel.close() };
}

/**
 * The cores of this machine: `navigator.hardwareConcurrency` (browsers, Deno, Node >= 21), else
 * Node's `os.availableParallelism()`, else 1.
 */
export async function coreCount(): Promise<number> {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  if (cores !== undefined && cores >= 1) return cores;
  try {
    // A specifier in a variable: browser bundlers must not try to resolve a Node built-in.
    const os = 'node:os';
    const mod = (await import(/* @vite-ignore */ os)) as { availableParallelism?: () => number; cpus: () => unknown[] };
    return mod.availableParallelism?.() ?? Math.max(1, mod.cpus().length);
  } catch {
    return 1;
  }
}

/**
 * `auto`: WebGPU on a hardware adapter (a device lost mid-run falls back to the CPU); a software
 * adapter (SwiftShader, lavapipe, anything flagged fallback) runs compute slower than WebAssembly
 * on these machines (BENCHMARKS.md), so then, and without an adapter, the WebAssembly SIMD
 * kernels on one worker thread per core; the TypeScript kernels where the engine has no
 * WebAssembly SIMD.
 */
async function openAuto(options: OpenBackendOptions, notify: (line: string) => void): Promise<OpenedBackend> {
  const probe = await probeAdapter(options);
  let reason = probe ? `the WebGPU adapter '${probe.name}' is a software one, slower than WebAssembly here` : 'no WebGPU adapter';
  if (probe && !probe.software) {
    try {
      const gpu = await WebGpuBackend.create(options);
      const choice: AutoChoice = { backend: 'webgpu', threads: 0, reason: `hardware WebGPU adapter: ${gpu.adapterName}` };
      const opened = { backend: new FallbackBackend(gpu, new CpuBackend(), notify), adapter: gpu.adapterName, choice, close: () => gpu.destroy() };
      if (options.announce !== false) notify(describeChoice(choice));
      return opened;
    } catch (err) {
      if (!(err instanceof NoAdapterError)) throw err;
      reason = err.message;
    }
  }
  const threads = options.threads ?? (await coreCount());
  let kernels: KernelVariant = 'wasm';
  try {
    await initWasmKernels();
  } catch (err) {
    if (!(err instanceof DyveError)) throw err;
    kernels = 'fast';
    reason += `; ${err.message.replace(/: use --backend cpu$/, '')}`;
  }
  const cpu = await cpuBackend(kernels, threads, options.createWorker);
  const opened: OpenedBackend = { ...cpu, choice: { backend: kernels === 'wasm' ? 'wasm' : 'cpu', threads, reason } };
  if (options.announce !== false) notify(describeChoice(opened.choice!));
  return opened;
}

/**
 * Opens the backend `name` (default `auto`); `notify` receives auto's one-line notices, what it
 * chose and any later fallback (default: stderr).
 */
export async function openBackend(
  name = 'auto', options: OpenBackendOptions = {}, notify: (line: string) => void = (line) => console.error(line),
): Promise<OpenedBackend> {
  if (name === 'auto') {
    if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
      throw new DyveError(`threads must be a whole number >= 1, got ${options.threads}`);
    }
    return openAuto(options, notify);
  }
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
  throw new DyveError(`unknown backend '${name}' (available: ${BACKEND_NAMES.join(', ')})`);
}
