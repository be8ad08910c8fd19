/**
 * The WebGPU backend: every layer as WGSL compute shaders (shaders/), the DyVEDeep mechanisms as
 * their own dynamic passes, one command encoder per inference. Results match the CPU reference
 * (float32 sums instead of float64: relative error ~1e-6 per layer; SPET and SDSS decisions can
 * flip for neurons within rounding of their thresholds).
 */
import { compilePlan, planNetwork, type ExecutionPlan } from '../../plan/execution-plan.js';
import { DataError, DyveError, NetworkError } from '../../errors.js';
import type { Layer, Network, Shape } from '../../ir/network.js';
import { formatShape, shapeSize } from '../../ir/network.js';
import type { Backend, LayerEffortOptions, RunOptions, RunResult } from '../backend.js';
import { concatDecisions, type LayerDecisions } from '../../records/decisions.js';
import { type DispatchRecord } from '../../records/dispatches.js';
import { sumCounters, type LayerCounters } from '../../records/counters.js';
import { DeviceLostError, openGpu, type GpuContext, type OpenGpuOptions } from './gpu-context.js';
import { PipelineCache, type KernelName, type KernelTuning } from './pipelines.js';
import { ConstantCache, Plan } from './scheduler.js';
import { tileModeUnsupported } from './layers/dynamic-tile.js';
import { hasEffort, type LayerEffort } from '../../effort/effort.js';

/** Options of {@link WebGpuBackend.create}. */
export interface WebGpuBackendOptions extends OpenGpuOptions {
  /** Override constants per kernel (WG, PX) replacing the defaults: tuning per device. */
  readonly tuning?: KernelTuning;
  /** Fuse a ReLU into the layer before it where the execution plan allows (default true). */
  readonly fuseRelu?: boolean;
  /** Most bytes of blobs one submission may hold (default 512 MiB): larger batches run in chunks. */
  readonly memoryBudget?: number;
}

/** One layer run alone on WebGPU. */
export interface GpuLayerRun {
  readonly outputs: Float32Array[];
  readonly counters: LayerCounters;
  readonly dispatches: readonly DispatchRecord[];
  /** With `trace`: the layer's decisions (NEURON_* codes per output neuron). */
  readonly decisions?: LayerDecisions;
}

/** Options of {@link WebGpuBackend.runLayer} and {@link WebGpuBackend.openLayer}: the CPU runLayer's, and the run's records. */
export interface GpuLayerOptions extends LayerEffortOptions {
  /** Record the layer's decisions (GpuLayerRun.decisions). */
  readonly trace?: boolean;
  /** Time each dispatch on the GPU (DispatchRecord.gpuNs; needs 'timestamp-query'). */
  readonly timeDispatches?: boolean;
}

/** One layer planned on the device, run as often as asked (see {@link WebGpuBackend.openLayer}). */
export interface GpuLayerSession {
  run(): Promise<GpuLayerRun>;
  /** Frees the plan's buffers. */
  destroy(): void;
}

/**
 * Runs networks on a WebGPU device. Plans (buffers, bind groups, dispatches) are built once per
 * network, batch size, effort profile and decision tracing, and reused; weights are uploaded once
 * per device.
 * Release the device with {@link WebGpuBackend.destroy}.
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  private readonly pipelines: PipelineCache;
  private readonly constants: ConstantCache;
  /** Plans by network, then batch and profile; promises, so concurrent first runs build one plan. */
  private readonly plans = new WeakMap<object, Map<string, Promise<Plan>>>();
  /**
   * The same plans, held weakly, so that destroy() can free their buffers before the device goes:
   * a cached plan otherwise keeps them until the runtime collects it, which for a network that
   * lives as long as the process means its exit. Weak: a plan stays collectable with its network.
   */
  private readonly builtPlans = new Set<WeakRef<Plan>>();
  /**
   * openLayer's copy of each layer (graph inputs and outputs renamed), kept so that its weights,
   * uploaded once per layer object (ConstantCache), are uploaded once, not at every opening.
   */
  private readonly loneLayers = new WeakMap<Layer, Layer>();
  /** Answers of unsupported()'s trial plans, per layer, batch and effort. */
  private readonly trials = new WeakMap<Layer, Map<string, string | null>>();
  private lostInfo: GPUDeviceLostInfo | null = null;
  private destroyed = false;

  private constructor(private readonly gpu: GpuContext, private readonly options: WebGpuBackendOptions) {
    // On CPU-backed adapters a workgroup runs as one SIMD batch of 8 lanes: the dynamic
    // convolution's short per-map lists waste the fewest lanes at 8 (measured on lavapipe,
    // cifar10-quick's calibrated profile: WG 8 about 3x faster than WG 64). GPUs want at least a
    // warp.
    const tuning: KernelTuning = { 'dynamic/convolution': { WG: gpu.isFallback ? 8 : 32 } };
    for (const [name, t] of Object.entries(options.tuning ?? {}) as [KernelName, KernelTuning[KernelName]][]) tuning[name] = { ...tuning[name], ...t };
    this.pipelines = new PipelineCache(gpu.device, tuning);
    this.constants = new ConstantCache(gpu.device);
    void gpu.lost.then((info) => { if (!this.destroyed) this.lostInfo = info; });
  }

  /** Opens a device and returns a backend on it; throws a NoAdapterError when there is none. */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    return new WebGpuBackend(await openGpu(options), options);
  }

  /** The adapter in words, e.g. "llvmpipe (LLVM 19.1.7, 256 bits) (fallback adapter)". */
  get adapterName(): string {
    return this.gpu.adapterName;
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  async run(net: Network, input: Float32Array, batch: number, options: RunOptions = {}): Promise<RunResult> {
    if (!Number.isInteger(batch) || batch < 1) throw new DataError(`batch must be a positive integer, got ${batch}`);
    const perImage = shapeSize(net.inputShape);
    if (input.length !== batch * perImage) {
      throw new DataError(`network '${net.name}' input: expected ${batch * perImage} values (batch ${batch} x ${formatShape(net.inputShape)}), got ${input.length}`);
    }
    if (options.keepBlobs) throw new DyveError('the WebGPU backend does not keep intermediate blobs; compare layers with runLayer instead');
    const execution = planNetwork(net, options.effort);
    const chunk = this.chunkSize(net, batch);
    const outSize = shapeSize(net.blobShapes.get(net.outputName)!);
    const output = new Float32Array(batch * outSize);
    let counters: LayerCounters[] = [];
    const dispatches: DispatchRecord[] = [];
    const trace = options.traceDecisions === true;
    const timed = options.timeDispatches === true;
    let decisions: LayerDecisions[] = [];
    for (let first = 0; first < batch; first += chunk) {
      const n = Math.min(chunk, batch - first);
      const plan = await this.plan(net, execution, n, trace, timed);
      const r = await this.execute(plan, new Map([[net.inputName, input.subarray(first * perImage, (first + n) * perImage)]]));
      output.set(r.outputs.get(net.outputName)!, first * outSize);
      counters = first === 0 ? r.counters : counters.map((c, i) => sumCounters(c, r.counters[i]));
      dispatches.push(...r.dispatches);
      const d = r.decisions ?? [];
      decisions = first === 0 ? d : decisions.map((a, i) => concatDecisions(a, d[i]));
    }
    return trace ? { output, counters, dispatches, decisions } : { output, counters, dispatches };
  }

  /**
   * Backend.unsupported: the limits known up front, then (cached) a trial plan of the layer alone
   * with `effort` for `batch` images, whose rejection by this device (a table past a binding
   * limit, ...) is the answer. A lost device still throws.
   */
  async unsupported(layer: Layer, effort: LayerEffort, batch: number): Promise<string | null> {
    const known = this.unsupportedUpFront(layer, effort);
    if (known !== null || !hasEffort(effort)) return known;
    let byEffort = this.trials.get(layer);
    if (!byEffort) this.trials.set(layer, (byEffort = new Map()));
    const key = `${batch}|${JSON.stringify(effort)}`;
    let answer = byEffort.get(key);
    if (answer === undefined) {
      try {
        const zeros = layer.inputShapes.map((s) => new Float32Array(batch * shapeSize(s)));
        (await this.openLayer(layer, zeros, batch, { effort })).destroy();
        answer = null;
      } catch (err) {
        if (err instanceof DeviceLostError || !(err instanceof DyveError)) throw err;
        answer = err.message;
      }
      byEffort.set(key, answer);
    }
    return answer;
  }

  /** Why the dynamic kernels cannot run `effort` on `layer` on this device, by its limits alone. */
  private unsupportedUpFront(layer: Layer, effort: LayerEffort): string | null {
    if (!hasEffort(effort)) return null;
    // The dynamic kernels bind the layer's weights as one buffer (the dense ones split large ones).
    const bytes = layer.weights?.weight.byteLength ?? 0;
    const limit = this.gpu.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      return `layer '${layer.name}': its dynamic kernel binds its ${(bytes / 2 ** 20).toFixed(0)} MiB of weights in one buffer, more than this adapter binds (maxStorageBufferBindingSize ${(limit / 2 ** 20).toFixed(0)} MiB)`;
    }
    return effort.tile ? tileModeUnsupported(layer, effort) : null;
  }

  /**
   * Runs one layer alone on given bottoms (per-layer parity tests), with the options of the CPU's
   * runLayer. No ReLU is fused.
   */
  async runLayer(layer: Layer, inputs: readonly Float32Array[], batch: number, options: GpuLayerOptions = {}): Promise<GpuLayerRun> {
    const session = await this.openLayer(layer, inputs, batch, options);
    try {
      return await session.run();
    } finally {
      session.destroy();
    }
  }

  /**
   * One layer alone on given bottoms, planned once and run as often as asked (the calibration's
   * timings on the device: `timeDispatches` gives each run's dispatches their GPU time). The
   * options are runLayer's; release the session's buffers with `destroy()`.
   */
  async openLayer(layer: Layer, inputs: readonly Float32Array[], batch: number, options: GpuLayerOptions = {}): Promise<GpuLayerSession> {
    const { effort, rectified = false, addend } = options;
    if (inputs.length !== layer.bottoms.length) throw new DataError(`layer '${layer.name}' takes ${layer.bottoms.length} input(s), got ${inputs.length}`);
    // Distinct names: an in-place layer's top is a new blob here, so its input can be fed.
    const inNames = layer.bottoms.map((_, i) => `in${i}`);
    const outNames = layer.tops.map((_, i) => `out${i}`);
    let lone = this.loneLayers.get(layer);
    if (!lone) this.loneLayers.set(layer, (lone = { ...layer, bottoms: inNames, tops: outNames }));
    layer.inputShapes.forEach((s, i) => {
      if (inputs[i].length !== batch * shapeSize(s)) throw new DataError(`layer '${layer.name}' input ${i}: expected ${batch * shapeSize(s)} values, got ${inputs[i].length}`);
    });
    // SPET through a residual sum: the addend is one more graph input (named `addend`).
    const feeds: [string, Shape, Float32Array][] = inNames.map((n, i) => [n, layer.inputShapes[i], inputs[i] as Float32Array]);
    if (addend) {
      if (addend.length !== batch * shapeSize(layer.outputShapes[0])) {
        throw new DataError(`layer '${layer.name}' addend: expected ${batch * shapeSize(layer.outputShapes[0])} values, got ${addend.length}`);
      }
      feeds.push(['addend', layer.outputShapes[0], addend]);
    }
    const graph = { layers: [lone], inputs: new Map(feeds.map(([n, shape]) => [n, shape])), outputs: outNames };
    const residual = addend ? () => ({ addend: 'addend', sum: `${layer.name} residual sum` }) : undefined;
    const execution = compilePlan(graph, effort ? { [layer.name]: effort } : {}, () => rectified, residual);
    const plan = await this.buildPlan(execution, batch, false, options.trace === true, options.timeDispatches === true);
    const fed = new Map(feeds.map(([n, , data]) => [n, data]));
    return {
      run: async () => {
        const r = await this.execute(plan, fed);
        const run = { outputs: outNames.map((n) => r.outputs.get(n)!), counters: r.counters[0], dispatches: r.dispatches };
        return r.decisions?.[0] ? { ...run, decisions: r.decisions[0] } : run;
      },
      destroy: () => plan.destroy(),
    };
  }

  /**
   * Releases the device (Node keeps the process alive until then): the cached plans' buffers and
   * the weights first, then the device, so that no buffer outlives it to be freed by the runtime's
   * own teardown. Await the queue (`device.queue.onSubmittedWorkDone()`) first when work may still
   * be in flight. Calling it again does nothing.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const ref of this.builtPlans) ref.deref()?.destroy();
    this.builtPlans.clear();
    this.constants.destroy();
    this.gpu.destroy();
  }

  private chunkSize(net: Network, batch: number): number {
    const limit = this.gpu.device.limits.maxStorageBufferBindingSize;
    let largest = shapeSize(net.inputShape) * 4;
    let total = largest;
    for (const layer of net.layers) {
      for (const s of layer.outputShapes) {
        const bytes = shapeSize(s) * 4;
        largest = Math.max(largest, bytes);
        total += bytes;
      }
    }
    const budget = this.options.memoryBudget ?? 512 * 2 ** 20;
    return Math.max(1, Math.min(batch, Math.floor(limit / largest), Math.floor(budget / total)));
  }

  private plan(key: object, execution: ExecutionPlan, batch: number, trace: boolean, timed = false): Promise<Plan> {
    let byKey = this.plans.get(key);
    if (!byKey) {
      byKey = new Map();
      this.plans.set(key, byKey);
    }
    // Traced and timed plans hold extra buffers and read-backs (timed ones a pass per dispatch): plans of their own.
    const knobs = Object.fromEntries(execution.steps.filter((s) => s.effort).map((s) => [s.layer.name, s.effort]));
    const id = `${batch}|${trace ? 'trace' : 'plain'}|${timed ? 'timed' : 'untimed'}|${JSON.stringify(knobs)}`;
    let plan = byKey.get(id);
    if (!plan) {
      plan = this.buildPlan(execution, batch, true, trace, timed);
      byKey.set(id, plan);
      plan.then(
        (built) => {
          // Finished building after destroy() (a run was in flight): the device is gone, free it now.
          if (this.destroyed) built.destroy();
          else this.builtPlans.add(new WeakRef(built));
        },
        () => byKey.delete(id), // a failed build (bad shader, lost device) is not cached
      );
    }
    return plan;
  }

  private async buildPlan(
    execution: ExecutionPlan, batch: number, fuseRelu: boolean, traceDecisions: boolean, timeDispatches = false,
  ): Promise<Plan> {
    this.checkAlive();
    return this.validated('the plan', () => Plan.build(this.gpu.device, this.pipelines, this.constants, execution, batch, {
      fuseRelu: fuseRelu && this.options.fuseRelu !== false, traceDecisions, timeDispatches,
    }), (refused) => refused.destroy());
  }

  private async execute(plan: Plan, inputs: ReadonlyMap<string, Float32Array>) {
    this.checkAlive();
    try {
      return await this.validated('a command', () => plan.run(inputs, this.gpu.lost));
    } catch (err) {
      if (this.lostInfo || /device was lost/.test((err as Error).message)) throw new DeviceLostError((err as Error).message);
      throw err;
    }
  }

  /**
   * Runs `work` in a validation error scope: WebGPU's own complaint becomes a DyveError, and what
   * the work made is handed to `discard` first (a refused plan's buffers are freed at once).
   */
  private async validated<T>(what: string, work: () => Promise<T>, discard?: (refused: T) => void): Promise<T> {
    const { device } = this.gpu;
    device.pushErrorScope('validation');
    let result: T;
    try {
      result = await work();
    } catch (err) {
      await device.popErrorScope();
      throw err; // the first error is the informative one (e.g. a shader's compilation message)
    }
    const error = await device.popErrorScope();
    if (error) {
      discard?.(result);
      throw new DyveError(`WebGPU rejected ${what}: ${error.message}`);
    }
    return result;
  }

  private checkAlive(): void {
    if (this.lostInfo) throw new DeviceLostError(`the WebGPU device was lost (${this.lostInfo.reason}): ${this.lostInfo.message}`);
  }
}
