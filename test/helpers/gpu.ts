import { WebGpuBackend } from '../../src/backends/webgpu/webgpu-backend.js';

/**
 * The WebGPU backend on this machine's adapter (a software one on CI: Mesa lavapipe). There is no
 * skip switch: without an adapter these tests fail, as they must on CI.
 */
export function openTestGpu(): Promise<WebGpuBackend> {
  return WebGpuBackend.create();
}
