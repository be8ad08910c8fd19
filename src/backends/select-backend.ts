/**
 * Backend selection by name: `cpu`, `cpu-reference`, `webgpu` (fails with a clear error without an
 * adapter) and `auto` (WebGPU when an adapter exists, else the CPU, with a one-line notice; a
 * device lost mid-run also falls back to the CPU, never hangs).
 */
import { DyveError } from '../errors.js';
import type { Network } from '../ir/network.js';
import type { Backend, RunOptions, RunResult } from './backend.js';
import { CpuBackend } from './cpu/cpu-backend.js';
import { DeviceLostError, NoAdapterError } from './webgpu/gpu-context.js';
import { WebGpuBackend, type WebGpuBackendOptions } from './webgpu/webgpu-backend.js';

export const BACKEND_NAMES = ['cpu', 'cpu-reference', 'webgpu', 'auto'] as const;
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

/** Opens the backend `name`; `notify` receives auto's one-line fallback notices (default: stderr). */
export async function openBackend(
  name: string, options: WebGpuBackendOptions = {}, notify: (line: string) => void = (line) => console.error(line),
): Promise<OpenedBackend> {
  if (name === 'cpu') return { backend: new CpuBackend({ kernels: 'fast' }), adapter: null, close: () => {} };
  if (name === 'cpu-reference') return { backend: new CpuBackend({ kernels: 'reference' }), adapter: null, close: () => {} };
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
      return { backend: new CpuBackend(), adapter: null, close: () => {} };
    }
    const fallback = new FallbackBackend(gpu, new CpuBackend(), notify);
    return { backend: fallback, adapter: gpu.adapterName, close: () => gpu.destroy() };
  }
  throw new DyveError(`unknown backend '${name}' (available: ${BACKEND_NAMES.join(', ')})`);
}
