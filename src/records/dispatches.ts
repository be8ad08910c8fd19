/**
 * What one GPU dispatch did, read back after the run (the WebGPU scheduler's record; the CPU
 * backends have none).
 */
export interface DispatchRecord {
  readonly layer: string;
  /** The kernel, by its shader file under shaders/ (e.g. `dynamic/convolution`). */
  readonly kernel: string;
  readonly mode: 'direct' | 'indirect';
  /** Workgroups the dispatch asked for (x * y * z; indirect: the arguments the GPU wrote). */
  readonly workgroupsRequested: number;
  /** Workgroups that did work: dynamic convolutions count them (workgroups past their map's list return at once); other kernels run every one. */
  readonly workgroupsExecuted: number;
  /** MACs executed (Convolution / InnerProduct kernels; dynamic ones count them with atomics). */
  readonly macs: number;
  /**
   * Nanoseconds the dispatch ran on the GPU (timestamp queries at its compute pass's start and
   * end), when the run asked for `timeDispatches` and the device has 'timestamp-query'.
   */
  readonly gpuNs?: number;
  /**
   * With `gpuNs`: when the dispatch started, nanoseconds after the run's first timed dispatch
   * started (the same device clock), so a span of dispatches includes the gaps between them.
   */
  readonly gpuStartNs?: number;
}

/**
 * GPU milliseconds of each layer's dispatches of one run (summed), in run order; null when a
 * dispatch carries no time (or there is none).
 */
export function gpuMsByLayer(records: readonly DispatchRecord[]): Map<string, number> | null {
  if (records.length === 0 || records.some((r) => r.gpuNs === undefined)) return null;
  const byLayer = new Map<string, number>();
  for (const r of records) byLayer.set(r.layer, (byLayer.get(r.layer) ?? 0) + r.gpuNs! / 1e6);
  return byLayer;
}

/** GPU ms per run of each layer, averaged over the runs whose dispatches were all timed. */
export class GpuTimeTally {
  runs = 0;
  private readonly sums = new Map<string, number>();

  /** Adds one run's records; a run without a time on every dispatch is left out. */
  add(records: readonly DispatchRecord[]): void {
    const times = gpuMsByLayer(records);
    if (!times) return;
    this.runs++;
    for (const [layer, ms] of times) this.sums.set(layer, (this.sums.get(layer) ?? 0) + ms);
  }

  /** The mean run, in all and per layer (run order); undefined when no run was timed. */
  get perRun(): { total: number; byLayer: Map<string, number> } | undefined {
    if (this.runs === 0) return undefined;
    const byLayer = new Map([...this.sums].map(([layer, ms]) => [layer, ms / this.runs]));
    return { total: [...byLayer.values()].reduce((a, b) => a + b, 0), byLayer };
  }
}
