import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from '../src/backends/webgpu/gpu-context.js';
import { coreCount, describeChoice } from '../src/select-backend.js';

/** An adapter as far as isSoftwareAdapter reads it. */
const adapter = (info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }) =>
  ({ info: { vendor: '', architecture: '', device: '', description: '', ...info } }) as unknown as GPUAdapter;

describe('auto: what it picks on which machine', () => {
  it('tells software adapters from hardware ones, by flag or by name', () => {
    expect(isSoftwareAdapter(adapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'google', architecture: '', description: 'SwiftShader Device (Subzero)' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'unknown', isFallbackAdapter: true }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }))).toBe(false);
    expect(isSoftwareAdapter(adapter({ vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' }))).toBe(false);
  });

  it('counts this machine\'s cores as Node does', async () => {
    expect(await coreCount()).toBe(availableParallelism());
  });

  it('says in one line what it chose, the batch and why', () => {
    expect(describeChoice({ backend: 'wasm', threads: 2, reason: 'no WebGPU adapter' }, 64))
      .toBe('dyvedeep: auto chose wasm, 2 threads, batch 64 (no WebGPU adapter); --backend, --threads and --batch override it');
    expect(describeChoice({ backend: 'webgpu', threads: 0, reason: 'hardware WebGPU adapter: nvidia' }))
      .toBe('dyvedeep: auto chose webgpu (hardware WebGPU adapter: nvidia); --backend, --threads and --batch override it');
  });
});
