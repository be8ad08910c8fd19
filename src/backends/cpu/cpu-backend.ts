import { convolutionDynamic } from './dynamic/dynamic-convolution.js';
import { innerProductDynamic } from './dynamic/dynamic-inner-product.js';
import { hasEffort } from '../../effort/effort.js';
import { tileConvolutionWasm } from './wasm/tile-convolution.js';
import { convolutionWasm } from './wasm/convolution.js';
import { innerProductWasm } from './wasm/inner-product.js';
import { reluOps } from './wasm/relu.js';
import { reluParams } from '../../ir/layer-params.js';
import { planNetwork } from '../../plan/execution-plan.js';
import { DataError, NetworkError } from '../../errors.js';
import type { Layer, LayerType, Network } from '../../ir/network.js';
import { formatShape, shapeSize } from '../../ir/network.js';
import type { Backend, LayerEffortOptions, RunOptions, RunResult } from '../backend.js';
import { emptyDecisions, type LayerDecisions } from '../../records/decisions.js';
import { sumCounters, type LayerCounters } from '../../records/counters.js';
import { TS_TILE_KERNELS } from './dynamic/tile-kernels.js';
import { tileConvolutionFast } from './dynamic/tile-mode-fast.js';
import { activeWasmKernels, initWasmKernels } from './wasm/wasm-loader.js';
import { denseMacs } from '../../ir/layer-metrics.js';
import type { KernelVariant } from './kernel-types.js';
import { kernelFor } from './kernels.js';
import { RunBlobs } from './run-blobs.js';

export type { KernelVariant } from './kernel-types.js';

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /**
   * Which kernel table runs: `fast` (default), the plain `reference` loops, or `wasm` (the
   * WebAssembly SIMD kernels, instantiated by the first `run`; see WASM_KERNELS).
   */
  readonly kernels?: KernelVariant;
  /** Per layer type, a variant that replaces the table's choice (e.g. `{ LRN: 'reference' }`). */
  readonly overrides?: Partial<Readonly<Record<LayerType, KernelVariant>>>;
}

/**
 * Called after each layer with the arrays it read and wrote. Lets a parity test compare every
 * layer of a real network on the exact inputs the run fed it, in-place layers included (whose
 * input blob the run's blob map no longer holds afterwards).
 */
export type LayerObserver = (layer: Layer, inputs: readonly Float32Array[], outputs: readonly Float32Array[], counters: LayerCounters) => void;

/** RunOptions of the CPU backend. */
export interface CpuRunOptions extends RunOptions {
  /** Called after every layer; it must not modify the arrays. */
  readonly onLayer?: LayerObserver;
}

/** The outputs of one layer run on its own, and what it executed. */
export interface LayerRun {
  /** One array per top, batch x C x H x W each. */
  readonly outputs: Float32Array[];
  readonly counters: LayerCounters;
  /** Where the mechanisms acted, when asked for (`trace`) and the layer ran with effort knobs. */
  readonly decisions?: LayerDecisions;
}

function checkBatch(batch: number): void {
  if (!Number.isInteger(batch) || batch < 1) throw new DataError(`batch must be a positive integer, got ${batch}`);
}

/** How {@link runLayer} runs a layer. */
export interface LayerRunOptions extends LayerEffortOptions {
  /** The kernel table (default `fast`). */
  readonly kernels?: KernelVariant;
  /** A layer with effort knobs also returns its decisions (RunOptions.traceDecisions). */
  readonly trace?: boolean;
  /**
   * The negative slope of the ReLU that follows (PlannedLayer.fusedRelu), to run on the output
   * inside the layer's kernel: only the `wasm` Convolution and InnerProduct kernels and the wasm
   * tile mode take it ({@link fusesRelu}); its work is not in the layer's counters.
   */
  readonly reluSlope?: number;
}

/**
 * Whether {@link runLayer} can run the ReLU after `layer` inside its kernel (`reluSlope`): the
 * `wasm` Convolution and InnerProduct, dense or (Convolution) in tile mode. Applied in linear
 * memory, it spares the ReLU layer's copies of the whole blob into and out of it.
 */
export function fusesRelu(layer: Layer, variant: KernelVariant, effort: LayerEffortOptions['effort']): boolean {
  if (variant !== 'wasm') return false;
  if (!hasEffort(effort)) return layer.params.type === 'Convolution' || layer.params.type === 'InnerProduct';
  return layer.params.type === 'Convolution' && effort?.tile !== undefined;
}

/**
 * Runs one layer on given bottoms, without a network: the executors call it for each step of
 * their plan, and per-layer parity tests feed the reference run's blobs to each variant.
 * `inputs[i]` holds batch x shapeSize(layer.inputShapes[i]) values. Both kernel variants record
 * decisions where they take them, and they take the same ones.
 *
 * @throws DataError when an input has the wrong size; NetworkError on knobs the layer cannot take.
 */
export function runLayer(layer: Layer, inputs: readonly Float32Array[], batch: number, options: LayerRunOptions = {}): LayerRun {
  checkBatch(batch);
  if (inputs.length !== layer.inputShapes.length) {
    throw new DataError(`layer '${layer.name}' takes ${layer.inputShapes.length} input(s), got ${inputs.length}`);
  }
  layer.inputShapes.forEach((shape, i) => {
    const expected = batch * shapeSize(shape);
    if (inputs[i].length !== expected) {
      throw new DataError(
        `layer '${layer.name}' input ${i} ('${layer.bottoms[i] ?? '?'}'): expected ${expected} values (batch ${batch} x ${formatShape(shape)}), got ${inputs[i].length}`,
      );
    }
  });
  const variant = options.kernels ?? 'fast';
  const { effort } = options;
  const counters: LayerCounters = { name: layer.name, type: layer.params.type, macsDense: denseMacs(layer, batch), macsExecuted: 0, otherOps: 0 };
  const { reluSlope } = options;
  if (reluSlope !== undefined && !fusesRelu(layer, variant, effort)) {
    throw new NetworkError(`layer '${layer.name}': the ${variant} ${layer.params.type} kernel cannot run the ReLU after it`);
  }
  if (!hasEffort(effort)) {
    const outputs = reluSlope === undefined
      ? kernelFor(layer.params.type, variant)(layer, inputs, batch, counters)
      : (layer.params.type === 'Convolution' ? convolutionWasm : innerProductWasm)(layer, inputs, batch, counters, reluSlope);
    return { outputs, counters };
  }
  const out = layer.outputShapes[0];
  const decisions = options.trace ? emptyDecisions(layer.name, batch, out.c, out.h, out.w, layer.inputShapes[0].c) : undefined;
  // The dynamic kernels exist as reference loops and the fast driver; `wasm` runs the fast driver
  // on its WebAssembly tile loops (convolutions; the InnerProduct's are TypeScript), and its own
  // tile-mode kernel.
  const dynamic = {
    effort, variant: variant === 'reference' ? 'reference' : 'fast', rectified: options.rectified === true,
    tiles: variant === 'wasm' ? activeWasmKernels().tiles : TS_TILE_KERNELS, ...(decisions && { decisions }),
    tileMode: variant === 'wasm' ? tileConvolutionWasm : tileConvolutionFast, ...(options.addend && { addend: options.addend }),
    ...(reluSlope !== undefined && { reluSlope }),
  } as const;
  // Each entry point checks the knobs against the layer (a Pooling layer with knobs fails there).
  const outputs = layer.params.type === 'Convolution'
    ? convolutionDynamic(layer, inputs, batch, counters, dynamic)
    : innerProductDynamic(layer, inputs, batch, counters, dynamic);
  return decisions ? { outputs, counters, decisions } : { outputs, counters };
}

/**
 * Largest blob of one chunk, in bytes, when the wasm variant splits a large dense batch (see
 * CpuBackend.runSync): SqueezeNet's largest blob is 4.7 MB per image, so its batches run image by
 * image; CIFAR-10 quick's is 128 KiB, so 32 images at a time.
 */
const WASM_CHUNK_BYTES = 4 * 1024 * 1024;

/** The backend name of each kernel variant (what openBackend accepts and results report). */
const VARIANT_NAMES: Readonly<Record<KernelVariant, string>> = { fast: 'cpu', reference: 'cpu-reference', wasm: 'wasm' };

/**
 * Runs networks on the CPU, one layer after the other, single-threaded. `kernels: 'reference'`
 * gives the oracle (`cpu-reference`); the default `fast` variant (`cpu`) uses im2col + a blocked
 * GEMM for Convolution and InnerProduct; `wasm` (`wasm`) runs those two, Pooling and ReLU in
 * WebAssembly SIMD (packed GEMM with register-blocked micro-kernels; src/backends/cpu/wasm/).
 */
export class CpuBackend implements Backend {
  readonly name: string;
  private readonly variant: KernelVariant;
  private readonly overrides: Partial<Readonly<Record<LayerType, KernelVariant>>>;

  constructor(options: CpuBackendOptions = {}) {
    this.variant = options.kernels ?? 'fast';
    this.overrides = options.overrides ?? {};
    this.name = VARIANT_NAMES[this.variant];
  }

  /** Whether any layer type runs the `wasm` variant (so `run` must load the module first). */
  private usesWasm(): boolean {
    return this.variant === 'wasm' || Object.values(this.overrides).includes('wasm');
  }

  /** The variant that runs layers of type `type`. */
  variantFor(type: LayerType): KernelVariant {
    return this.overrides[type] ?? this.variant;
  }

  async run(net: Network, input: Float32Array, batch: number, options: CpuRunOptions = {}): Promise<RunResult> {
    // Instantiated once per process (initWasmKernels caches it); later runs find it ready.
    if (this.usesWasm()) await initWasmKernels();
    return this.runSync(net, input, batch, options);
  }

  /**
   * `run` without the Promise, for callers that time or loop over layers synchronously. With the
   * `wasm` variant, `await initWasmKernels()` (or one `run`) must have completed first.
   *
   * The wasm variant runs a large batch in chunks of images whose largest blob stays under
   * WASM_CHUNK_BYTES, so that every layer's input and output stay in the caches (a batch of 64
   * SqueezeNet images has 300 MB blobs, and ran 25 % slower per image than a batch of 1). The
   * result is the same; a run that asks for blobs, per-layer callbacks or decisions, or that has
   * neuron-mode effort knobs on, runs whole.
   */
  runSync(net: Network, input: Float32Array, batch: number, options: CpuRunOptions = {}): RunResult {
    checkBatch(batch);
    const expected = batch * shapeSize(net.inputShape);
    if (input.length !== expected) {
      throw new DataError(
        `network '${net.name}' input: expected ${expected} values (batch ${batch} x ${formatShape(net.inputShape)}), got ${input.length}`,
      );
    }
    const chunk = this.imagesPerChunk(net, batch, options);
    if (chunk >= batch) return this.runBatch(net, input, batch, options);
    const inSize = shapeSize(net.inputShape);
    let output: Float32Array | null = null;
    let counters: LayerCounters[] = [];
    for (let start = 0; start < batch; start += chunk) {
      const n = Math.min(chunk, batch - start);
      const r = this.runBatch(net, input.subarray(start * inSize, (start + n) * inSize), n, options);
      const outSize = r.output.length / n;
      output ??= new Float32Array(batch * outSize);
      output.set(r.output, start * outSize);
      counters = start === 0 ? [...r.counters] : counters.map((c, i) => sumCounters(c, r.counters[i]));
    }
    return { output: output!, counters };
  }

  /**
   * Images per chunk of a runSync call (see there): `batch` unless the wasm variant runs an
   * unobserved batch whose dynamic layers, if any, are all in tile mode (the neuron mode's fast
   * driver sets up per call what a whole batch amortises; the tile kernels run image by image).
   */
  private imagesPerChunk(net: Network, batch: number, options: CpuRunOptions): number {
    if (this.variant !== 'wasm' || options.keepBlobs || options.onLayer || options.traceDecisions) return batch;
    const plan = planNetwork(net, options.effort);
    if (plan.dynamic && plan.steps.some((step) => step.effort && !step.effort.tile)) return batch;
    let largest = 0;
    for (const shape of net.blobShapes.values()) largest = Math.max(largest, shapeSize(shape));
    return Math.max(1, Math.floor(WASM_CHUNK_BYTES / (4 * largest)));
  }

  /** Runs `batch` images through every step of the network's plan at once. */
  private runBatch(net: Network, input: Float32Array, batch: number, options: CpuRunOptions): RunResult {
    const plan = planNetwork(net, options.effort);
    const run = new RunBlobs(net, input, options.keepBlobs === true, options.onLayer !== undefined);
    const counters: LayerCounters[] = [];
    const trace = options.traceDecisions === true;
    const decisions: LayerDecisions[] = [];
    for (let i = 0; i < plan.steps.length; i++) {
      const step = plan.steps[i];
      const { layer } = step;
      const inputs = run.inputsOf(layer);
      const addend = run.addendOf(step);
      const variant = this.variantFor(layer.params.type);
      // The ReLU after the layer runs inside its kernel where it can, unless the run observes the
      // layer's own (unrectified) output.
      const relu = step.fusedRelu !== undefined && !options.onLayer && !options.keepBlobs && fusesRelu(layer, variant, step.effort)
        ? plan.steps[step.fusedRelu] : undefined;
      const reluSlope = relu ? reluParams(relu.layer).negativeSlope : undefined;
      const r = runLayer(layer, inputs, batch, {
        kernels: variant, effort: step.effort, rectified: step.rectified, trace, ...(addend && { addend }), ...(reluSlope !== undefined && { reluSlope }),
      });
      counters.push(r.counters);
      if (r.decisions) decisions.push(r.decisions);
      options.onLayer?.(layer, inputs, r.outputs, r.counters);
      run.store(step, r.outputs);
      if (relu && reluSlope !== undefined) {
        // The fused ReLU's own entry: what the wasm ReLU layer counts (it runs the same loop).
        counters.push({ name: relu.layer.name, type: 'ReLU', macsDense: 0, macsExecuted: 0, otherOps: reluOps(reluSlope, r.outputs[0].length) });
        run.store(relu, r.outputs);
        i = step.fusedRelu as number;
      }
    }
    const blobs = run.kept();
    return { output: run.output(), counters, ...(blobs && { blobs }), ...(trace && { decisions }) };
  }
}
