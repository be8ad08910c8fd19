/**
 * What a layer encoder gets from the scheduler: kernels, buffers and a way to append dispatches
 * to the plan. Layer encoders (layers/*.ts) only describe work; the scheduler owns the order,
 * the command encoder and the read-back.
 */
import type { Layer } from '../../ir/network.js';
import type { Kernel, KernelName, KernelSpecialisation } from './pipelines.js';

/** One step of a plan, in submission order. */
export type Step =
  | {
    readonly op: 'dispatch';
    readonly layer: string;
    readonly kernel: Kernel;
    readonly bindGroup: GPUBindGroup;
    readonly workgroups: readonly [number, number, number];
    /** Counter slot the dispatch's kernel writes (dynamic kernels). */
    readonly slot?: number;
    /** MACs a dense dispatch executes by construction. */
    readonly macs?: number;
    /** Other scalar operations it executes by construction, counted as the CPU kernels count them. */
    readonly otherOps?: number;
  }
  | {
    readonly op: 'indirect';
    readonly layer: string;
    readonly kernel: Kernel;
    readonly bindGroup: GPUBindGroup;
    readonly args: GPUBuffer;
    readonly argsOffset: number;
    readonly slot?: number;
  }
  | { readonly op: 'copy'; readonly from: GPUBuffer; readonly to: GPUBuffer; readonly size: number }
  | { readonly op: 'clear'; readonly buffer: GPUBuffer; readonly offset: number; readonly size: number };

/**
 * A ReLU fused into a layer's store (its negative slope), or null. Here, below the layer encoders
 * and their registry, so encoders import it without a cycle.
 */
export type FusedRelu = { readonly slope: number } | null;

/** The words of a uniform block: u32 values, f32 values as {@link f32Bits} (uniforms.ts packs them). */
export type UniformWords = readonly number[];

/** The bit pattern of a float32, for uniform blocks and u32 tables. */
export function f32Bits(value: number): number {
  const f = new Float32Array([value]);
  return new Uint32Array(f.buffer)[0];
}

/** Workgroups covering `total` invocations of size `wg`, as a 2-D grid within the per-dimension limit. */
export function grid1d(total: number, wg: number, maxPerDimension = 65535): [number, number, number] {
  const n = Math.max(1, Math.ceil(total / wg));
  const x = Math.min(n, maxPerDimension);
  return [x, Math.ceil(n / x), 1];
}

/**
 * Where a traced dynamic layer left its decisions on the GPU, for the plan's read-back
 * (RunOptions.traceDecisions).
 */
export interface DecisionBuffers {
  /** One u32 per output neuron, laid out like the output blob: the NEURON_* codes (backend.ts). */
  readonly neurons: GPUBuffer;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly inputChannels: number;
  /** SFMA's keep flags (f32 per image and input map: 1 kept, 0 dropped) and their byte offset; null without SFMA. */
  readonly keep: { readonly buffer: GPUBuffer; readonly offset: number } | null;
}

/** Per-layer facts the scheduler turns into counters after the run. */
export interface LayerRecord {
  /** Counter slots of the dynamic convolution dispatches. */
  readonly convSlots: number[];
  /** MACs of the layer's dispatches that count none themselves (SDSS's grid on the dense kernel). */
  staticMacs?: number;
  /** Counter slot of SDSS's decision pass (interpolated neurons). */
  decideSlot?: number;
  /** Counter slot of the map statistics (SFMA's dropped maps). */
  statsSlot?: number;
  /** SPET on: neurons are predicted. */
  spet?: boolean;
  /** SDSS: output values of the layer. */
  sdssOutputs?: number;
  /** SFMA: input maps seen. */
  sfmaMaps?: number;
  /** Traced plans: the layer's decision buffers. */
  decisions?: DecisionBuffers;
}

/** The scheduler's services to layer encoders while a plan is built. */
export interface EncodeContext {
  readonly device: GPUDevice;
  /** Images of the plan. */
  readonly batch: number;
  /** The plan records the dynamic layers' decisions (RunOptions.traceDecisions). */
  readonly traceDecisions: boolean;
  /** The pipeline of `name`, specialised with override constants that select its variant (pipelines.ts). */
  kernel(name: KernelName, specialisation?: KernelSpecialisation): Promise<Kernel>;
  /** A uniform buffer holding `words`. */
  uniform(words: UniformWords, label: string): GPUBuffer;
  /** A storage buffer with `make()`'s data, cached per layer and `key` for the device's lifetime (weights). */
  constant(layer: Layer, key: string, make: () => ArrayBufferView): GPUBuffer;
  /** A new storage buffer of the plan: `init` bytes of zeros, or a copy of `init`. */
  buffer(init: number | ArrayBufferView, label: string, usage?: number): GPUBuffer;
  /** A bind group of `kernel`'s layout, binding i = bindings[i]. */
  bind(kernel: Kernel, buffers: readonly GPUBuffer[]): GPUBindGroup;
  /** A counter slot (8 u32) for one dispatch of a dynamic kernel; returns its first index. */
  slot(): number;
  /** The plan's counter buffer (u32 atomics). */
  readonly stats: GPUBuffer;
  /** Appends a step. */
  push(step: Step): void;
  /** The record of `layer` (created on first use). */
  record(layer: Layer): LayerRecord;
}
