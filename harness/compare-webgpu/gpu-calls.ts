/**
 * Counts the WebGPU calls every engine of a runtime makes, ours and the peers' alike: queue
 * submissions (GPUQueue.submit) and compute dispatches (GPUComputePassEncoder.dispatchWorkgroups
 * and its indirect form). The methods are wrapped on the runtime's prototypes, found from a
 * throwaway device, so a peer that creates its own device (TF.js, onnxruntime-web) is counted
 * too. Portable: Chromium's page and Node (Dawn through the `webgpu` package).
 */

/** Running totals and the way back to the unwrapped methods. */
export interface GpuCallCounter {
  submits(): number;
  dispatches(): number;
  restore(): void;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Wraps `name` on `proto` to call `count` first; returns the undo. */
function wrap(proto: Record<string, unknown>, name: string, count: () => void): () => void {
  const original = proto[name] as Method | undefined;
  if (typeof original !== 'function') return () => undefined;
  proto[name] = function counted(this: unknown, ...args: unknown[]) {
    count();
    return original.apply(this, args);
  };
  return () => { proto[name] = original; };
}

/** Installs the counters on the prototypes of `gpu`'s objects (a device is made and destroyed to find them). */
export async function countGpuCalls(gpu: GPU): Promise<GpuCallCounter> {
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter to count calls on');
  const device = await adapter.requestDevice();
  const pass = device.createCommandEncoder().beginComputePass();
  const queueProto = Object.getPrototypeOf(device.queue) as Record<string, unknown>;
  const passProto = Object.getPrototypeOf(pass) as Record<string, unknown>;
  pass.end();
  device.destroy();
  let submits = 0;
  let dispatches = 0;
  const undo = [
    wrap(queueProto, 'submit', () => { submits++; }),
    wrap(passProto, 'dispatchWorkgroups', () => { dispatches++; }),
    wrap(passProto, 'dispatchWorkgroupsIndirect', () => { dispatches++; }),
  ];
  return { submits: () => submits, dispatches: () => dispatches, restore: () => undo.forEach((u) => u()) };
}
