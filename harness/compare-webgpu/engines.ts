/**
 * The engines of `dyve compare --webgpu`, opened the same way in Chromium's page and in Node:
 * dyvedeep's WebGPU backend (dense, and DyVEDeep with the zoo model's shipped profile), TF.js's
 * WebGPU backend on a graph built from our IR (harness/peers/tfjs-graph.ts, as tfjs-wasm), and
 * onnxruntime-web's WebGPU execution provider on `dyve export`'s ONNX graph; and for reference
 * the WebAssembly rows: dyvedeep's wasm kernels, TF.js wasm and onnxruntime-web wasm, one thread.
 * Portable (no Node built-ins): where each package comes from is the runtime's part
 * ({@link EngineSources}), handed in by harness/compare-webgpu/page-entry.ts or node-sources.ts.
 */
import type { Backend } from '../../src/backends/backend.js';
import { NetworkError } from '../../src/errors.js';
import { DENSE_PROFILE, type EffortProfile } from '../../src/effort/profile.js';
import type { Network } from '../../src/ir/network.js';
import { buildTfjsGraph } from '../peers/tfjs-graph.js';
import type { Tf } from '../peers/tfjs-wasm-runtime.js';

export const WEBGPU_ENGINE_NAMES = [
  'dyvedeep-webgpu-dense', 'dyvedeep-webgpu-dynamic', 'tfjs-webgpu', 'onnxruntime-web-webgpu',
  'dyvedeep-dense', 'tfjs-wasm', 'onnxruntime-web',
] as const;
export type WebGpuEngineName = (typeof WEBGPU_ENGINE_NAMES)[number];

/** Whether an engine runs on the GPU (the others are the WebAssembly reference rows). */
export function onGpu(name: WebGpuEngineName): boolean {
  return name.includes('webgpu');
}

/** An opened engine: NCHW float32 in, class scores out. */
export interface CompareEngine {
  readonly name: WebGpuEngineName;
  /** Which profile ran, for DyVEDeep (the shipped one, or the per-neuron one where WebGPU refused tile mode). */
  profile(): string | undefined;
  run(input: Float32Array, batch: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/** The parts of onnxruntime-web the engines use. */
export type Ort = typeof import('onnxruntime-web');

/** dyvedeep's backends as the runtime opens them (`openBackend` of the runtime's build). */
export interface OpenedOurs {
  readonly backend: Backend;
  close(): void;
}

/** What a runtime provides. */
export interface EngineSources {
  readonly net: Network;
  /** `dyve export`'s ONNX graph of the net. */
  readonly onnx: () => Uint8Array;
  /** The zoo model's shipped profile (effort.json, tile mode) and its per-neuron one (effort-neuron.json). */
  readonly shipped: EffortProfile;
  readonly neuron: EffortProfile | null;
  readonly openOurs: (backend: 'webgpu' | 'wasm') => Promise<OpenedOurs>;
  /** TF.js with `backend` set and ready. */
  readonly tfjs: (backend: 'webgpu' | 'wasm') => Promise<Tf>;
  /** onnxruntime-web, its WebAssembly files located and its threads set. */
  readonly ort: () => Promise<Ort>;
  /** Engines this runtime opens its own way (Node: the existing WebAssembly peers). */
  readonly override?: Partial<Record<WebGpuEngineName, () => Promise<CompareEngine>>>;
}

/** Whether an error is the WebGPU backend refusing a tile-mode profile. */
function isTileRefusal(err: unknown): boolean {
  return err instanceof Error && /tile mode/.test(err.message) && (err instanceof NetworkError || err.name === 'NetworkError');
}

/** One of dyvedeep's engines; DyVEDeep falls back to the per-neuron profile where tile mode is refused. */
async function openOurs(name: WebGpuEngineName, src: EngineSources): Promise<CompareEngine> {
  const opened = await src.openOurs(name === 'dyvedeep-dense' ? 'wasm' : 'webgpu');
  const dynamic = name === 'dyvedeep-webgpu-dynamic';
  let profile = dynamic ? src.shipped : DENSE_PROFILE;
  let label: string | undefined = dynamic ? 'effort.json' : undefined;
  return {
    name,
    profile: () => label,
    async run(input, batch) {
      try {
        return (await opened.backend.run(src.net, input, batch, { effort: profile })).output;
      } catch (err) {
        // The refusal comes from the plan, before anything runs on the device: the same backend retries.
        if (!dynamic || profile !== src.shipped || !src.neuron || !isTileRefusal(err)) throw err;
        profile = src.neuron;
        label = 'effort-neuron.json (no WebGPU tile mode)';
        return (await opened.backend.run(src.net, input, batch, { effort: profile })).output;
      }
    },
    close: async () => opened.close(),
  };
}

async function openTfjs(name: WebGpuEngineName, src: EngineSources): Promise<CompareEngine> {
  const tf = await src.tfjs(name === 'tfjs-webgpu' ? 'webgpu' : 'wasm');
  const graph = buildTfjsGraph(tf, src.net);
  return { name, profile: () => undefined, run: (input, batch) => graph.runAsync(input, batch), close: async () => graph.dispose() };
}

async function openOrt(name: WebGpuEngineName, src: EngineSources): Promise<CompareEngine> {
  const ort = await src.ort();
  const session = await ort.InferenceSession.create(src.onnx(), {
    executionProviders: [name === 'onnxruntime-web-webgpu' ? 'webgpu' : 'wasm'], graphOptimizationLevel: 'all',
  });
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const { c, h, w } = src.net.inputShape;
  return {
    name,
    profile: () => undefined,
    async run(input, batch) {
      const out = (await session.run({ [inputName]: new ort.Tensor('float32', input, [batch, c, h, w]) }))[outputName];
      const data = (await out.getData()) as Float32Array;
      out.dispose();
      return data;
    },
    close: () => session.release(),
  };
}

/** Opens `name` from the runtime's sources. */
export function openCompareEngine(name: WebGpuEngineName, src: EngineSources): Promise<CompareEngine> {
  const own = src.override?.[name];
  if (own) return own();
  if (name.startsWith('dyvedeep')) return openOurs(name, src);
  if (name.startsWith('tfjs')) return openTfjs(name, src);
  return openOrt(name, src);
}
