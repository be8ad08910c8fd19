/**
 * One WebGPU backend per test, released in order before the test ends: the queue drained, then
 * the backend's buffers and its device (WebGpuBackend.destroy). A test then leaves no GPU work
 * and no buffer behind for Deno to tear down while the process exits, where nothing can be
 * pinned on a test any more. (This alone did not stop the rare abort at exit; the header of
 * scripts/deno-test.mjs says what else the suite does about it, and how sure that is.)
 */
import { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.ts';

/** Waits until the device has finished every submitted command, or is lost (which ends them). */
async function drained(gpu: WebGpuBackend): Promise<void> {
  await Promise.race([gpu.device.queue.onSubmittedWorkDone(), gpu.device.lost]);
}

/** Runs `work` on a fresh backend and releases it afterwards, whether `work` passed or threw. */
export async function withGpu<T>(work: (gpu: WebGpuBackend) => Promise<T>): Promise<T> {
  const gpu = await WebGpuBackend.create();
  try {
    return await work(gpu);
  } finally {
    // Nothing in flight when the device goes: destroy() then frees idle buffers only.
    await drained(gpu);
    gpu.destroy();
  }
}
