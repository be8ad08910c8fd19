/**
 * `dyve compare --webgpu` inside Chromium's page: imported there through the demo's vite server
 * (harness/compare-webgpu/chromium.ts), it opens the engines from the page's builds (dyvedeep's
 * browser entry, TF.js and its WebGPU and wasm backends resolved by vite, onnxruntime-web's
 * WebGPU build served from node_modules) and measures them with measure.ts on the images Node
 * sent (so that both runtimes and the CPU reference see the same floats).
 */
import { exportOnnx } from '../../src/formats/onnx/export-onnx.js';
import { openBackend } from '../../src/select-backend.js';
import { probeAdapter } from '../../src/backends/webgpu/gpu-context.js';
import { shapeSize, type Network } from '../../src/ir/network.js';
import type { EffortProfile } from '../../src/effort/profile.js';
import type { Tf } from '../peers/tfjs-wasm-runtime.js';
import type { EngineSources, Ort, WebGpuEngineName } from './engines.js';
import { countGpuCalls, type GpuCallCounter } from './gpu-calls.js';
import { measureEngines, type MeasureResult } from './measure.js';

/** What the page is asked to do (JSON: the images travel as base64 of their float32 bytes). */
export interface PageRequest {
  /** The package root on disk: the page reaches node_modules through vite's /@fs/. */
  readonly root: string;
  readonly engines: readonly WebGpuEngineName[];
  readonly imagesBase64: string;
  readonly imagesBatch1: number;
  readonly largeBatch: number;
  readonly imagesLarge: number;
  readonly engineBudgetMs: number;
}

/** The demo's model loader's result, as far as this page uses it (demo/src/models.ts). */
export interface PageModel {
  readonly net: Network;
  readonly profile: EffortProfile;
  readonly neuronProfile: EffortProfile;
}

export interface PageResult extends MeasureResult {
  readonly adapter: string | null;
  readonly browser: string;
}

function decodeImages(base64: string): Float32Array {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** TF.js in the page: one engine with both backends registered; `backend` set before each graph is built. */
async function pageTfjs(root: string, backend: 'webgpu' | 'wasm'): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (backend === 'wasm') {
    wasm.setWasmPaths(`/@fs${root}/node_modules/@tensorflow/tfjs-backend-wasm/dist/`);
    wasm.setThreadsCount(1);
  }
  tf.enableProdMode();
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its ${backend} backend in this page`);
  await tf.ready();
  return tf;
}

/** onnxruntime-web's WebGPU build (it runs the wasm execution provider too), from node_modules as shipped. */
async function pageOrt(root: string): Promise<Ort> {
  const dist = `/@fs${root}/node_modules/onnxruntime-web/dist/`;
  const ort = (await import(/* @vite-ignore */ `${dist}ort.webgpu.min.mjs`)) as Ort;
  ort.env.wasm.wasmPaths = dist;
  ort.env.wasm.numThreads = 1;
  return ort;
}

/** Measures the engines in this page on `model`. */
export async function comparePage(request: PageRequest, model: PageModel, onLog: (line: string) => void): Promise<PageResult> {
  const { net } = model;
  const sources: EngineSources = {
    net,
    onnx: () => exportOnnx(net),
    shipped: model.profile,
    neuron: model.neuronProfile,
    openOurs: async (backend) => {
      const o = await openBackend(backend, { threads: 1 });
      return { backend: o.backend, close: () => o.close() };
    },
    tfjs: (backend) => pageTfjs(request.root, backend),
    ort: () => pageOrt(request.root),
  };
  const probe = await probeAdapter();
  let counter: GpuCallCounter | null = null;
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (gpu && probe) counter = await countGpuCalls(gpu);
  try {
    const result = await measureEngines({
      runtime: 'chromium', engines: request.engines, sources, input: decodeImages(request.imagesBase64), block: shapeSize(net.inputShape),
      classes: shapeSize(net.blobShapes.get(net.outputName)!), imagesBatch1: request.imagesBatch1, largeBatch: request.largeBatch,
      imagesLarge: request.imagesLarge, engineBudgetMs: request.engineBudgetMs, counter, log: onLog,
    });
    return { ...result, adapter: probe?.name ?? null, browser: navigator.userAgent };
  } finally {
    counter?.restore();
  }
}
