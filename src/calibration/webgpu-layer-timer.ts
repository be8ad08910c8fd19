/**
 * Objective `time` on a WebGPU device: a layer's time is the GPU time of its dispatches (timestamp
 * queries around each dispatch's compute pass), the clock a profile for that device should be
 * chosen by — the CPU's wasm timings say nothing about which mechanisms pay on a GPU (BENCHMARKS.md,
 * the H200 run). Not counted: the gaps between dispatches (launch latency), the same for a dense
 * layer's one dispatch and a dynamic layer's two to four only to first order.
 */
import type { LayerEffortOptions } from '../backends/backend.js';
import type { WebGpuBackend } from '../backends/webgpu/webgpu-backend.js';
import type { DispatchRecord } from '../records/dispatches.js';
import type { Layer } from '../ir/network.js';
import { DyveError } from '../errors.js';
import { interleaved, median, type LayerTimer } from './layer-timer.js';

/** Seconds of GPU time of a run's dispatches; a clear error when the device cannot time them. */
export function gpuSeconds(records: readonly DispatchRecord[] | undefined): number {
  if (!records?.length || records.some((r) => r.gpuNs === undefined)) {
    throw new DyveError("objective time on WebGPU needs the device's 'timestamp-query' feature, which this device does not offer: use --objective macs, or time on the CPU (--backend wasm)");
  }
  return records.reduce((s, r) => s + r.gpuNs!, 0) / 1e9;
}

/** The GPU time of `gpu`'s dispatches, per run (each sample is one run). */
export function webgpuTimer(gpu: WebGpuBackend): LayerTimer {
  /** A layer planned once, its first run untimed; `sample` runs it again and returns its GPU time. */
  const openLayer = async (layer: Layer, inputs: readonly Float32Array[], batch: number, options: LayerEffortOptions = {}) => {
    const session = await gpu.openLayer(layer, inputs, batch, { ...options, timeDispatches: true });
    await session.run();
    return { sample: async () => gpuSeconds((await session.run()).dispatches), destroy: () => session.destroy() };
  };
  const medianOf = async (sample: () => Promise<number>, repeats: number) => {
    const values: number[] = [];
    for (let r = 0; r < Math.max(1, repeats); r++) values.push(await sample());
    return median(values);
  };
  return {
    description: `GPU time of the dispatches on WebGPU (${gpu.adapterName})`,
    async network(net, input, batch, repeats) {
      const sample = async () => gpuSeconds((await gpu.run(net, input, batch, { timeDispatches: true })).dispatches);
      await sample();
      return medianOf(sample, repeats);
    },
    async dense(layer, inputs, batch, repeats) {
      const dense = await openLayer(layer, inputs, batch);
      try {
        return await medianOf(dense.sample, repeats);
      } finally {
        dense.destroy();
      }
    },
    async againstDense(layer, inputs, batch, options, repeats) {
      const dense = await openLayer(layer, inputs, batch);
      try {
        const candidate = await openLayer(layer, inputs, batch, options);
        try {
          return await interleaved(dense.sample, candidate.sample, repeats);
        } finally {
          candidate.destroy();
        }
      } finally {
        dense.destroy();
      }
    },
  };
}
