/**
 * Objective `time` on a WebGPU device: a layer's time is the GPU time its dispatches span (timestamp
 * queries: from the start of its first dispatch to the end of its last, so the gaps between a
 * dynamic layer's dependent dispatches count too), the clock a profile for that device should be
 * chosen by: the CPU's wasm timings say nothing about which mechanisms pay on a GPU
 * (BENCHMARKS.md, the H200 run). Not counted: the submission and the read-back around the layer.
 */
import type { LayerEffortOptions } from '../backends/backend.js';
import type { WebGpuBackend } from '../backends/webgpu/webgpu-backend.js';
import type { DispatchRecord } from '../records/dispatches.js';
import type { Layer } from '../ir/network.js';
import { DyveError } from '../errors.js';
import { interleaved, median, type LayerTimer } from './layer-timer.js';

/**
 * Seconds of GPU time of a run: each layer's dispatches (consecutive records of one layer) counted
 * as the time they span, first start to last end, summed over the layers (a network run in
 * several chunks restarts its clock per chunk; a layer's dispatches never straddle two). A clear
 * error when the device cannot time them.
 */
export function gpuSeconds(records: readonly DispatchRecord[] | undefined): number {
  if (!records?.length || records.some((r) => r.gpuNs === undefined || r.gpuStartNs === undefined)) {
    throw new DyveError("objective time on WebGPU needs the device's 'timestamp-query' feature, which this device does not offer: use --objective macs, or time on the CPU (--backend wasm)");
  }
  let ns = 0;
  for (let first = 0; first < records.length;) {
    let last = first;
    while (last + 1 < records.length && records[last + 1].layer === records[first].layer) last++;
    const group = records.slice(first, last + 1);
    ns += Math.max(...group.map((r) => r.gpuStartNs! + r.gpuNs!)) - Math.min(...group.map((r) => r.gpuStartNs!));
    first = last + 1;
  }
  return ns / 1e9;
}

/** The GPU time `gpu`'s dispatches span, per run (each sample is one run). */
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
    clock: 'webgpu',
    description: `GPU time spanned by the dispatches on WebGPU (${gpu.adapterName})`,
    async network(net, input, batch, repeats) {
      const sample = async () => gpuSeconds((await gpu.run(net, input, batch, { timeDispatches: true })).dispatches);
      await sample();
      return medianOf(sample, repeats);
    },
    async layer(layer, inputs, batch) {
      const dense = await openLayer(layer, inputs, batch);
      return {
        dense: (repeats) => medianOf(dense.sample, repeats),
        againstDense: async (options, repeats) => {
          const candidate = await openLayer(layer, inputs, batch, options);
          try {
            return await interleaved(dense.sample, candidate.sample, repeats);
          } finally {
            candidate.destroy();
          }
        },
        close: () => dense.destroy(),
      };
    },
  };
}
