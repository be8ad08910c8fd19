/**
 * `dyve compare --webgpu` in Node: WebGPU through Dawn (the `webgpu` package). TF.js's WebGPU
 * backend registers itself only where `navigator.gpu` exists, so Dawn's GPU is put there for the
 * run (and every engine, ours included, then uses that one entry point); the WebAssembly rows are
 * the existing Node peers (harness/peers/), on one thread.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EffortProfile } from '../../src/effort/profile.js';
import type { Network } from '../../src/ir/network.js';
import { openBackend } from '../../src/select-backend.js';
import type { Tf } from '../peers/tfjs-wasm-runtime.js';
import type { CompareEngine, EngineSources, Ort } from './engines.js';

interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

/**
 * One Dawn instance for the process: TF.js keeps its WebGPU backend, and the device it made from
 * `navigator.gpu`, across runs. Measuring both models in one process with a new instance per run,
 * TF.js's second run hung inside Dawn (and once aborted on a mutex assertion); with one instance
 * its device stays on a live instance.
 */
let dawn: Promise<GPU> | undefined;

function dawnGpu(): Promise<GPU> {
  dawn ??= (async () => {
    const mod = (await import('webgpu')) as unknown as DawnModule;
    Object.assign(globalThis, mod.globals);
    return mod.create([]);
  })();
  return dawn;
}

/** Puts Dawn's GPU at `navigator.gpu` (Node 20 has no navigator); returns it and the undo. */
export async function installNavigatorGpu(): Promise<{ gpu: GPU; restore: () => void }> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return { gpu: g.navigator.gpu, restore: () => undefined };
  const gpu = await dawnGpu();
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  if (g.navigator) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    return { gpu, restore: () => { delete (g.navigator as { gpu?: GPU }).gpu; } };
  }
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return {
    gpu,
    restore: () => {
      if (had) Object.defineProperty(globalThis, 'navigator', had);
      else delete g.navigator;
    },
  };
}

async function nodeTfjsWebGpu(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  tf.enableProdMode();
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its webgpu backend');
  await tf.ready();
  return tf;
}

/** onnxruntime-web as Node loads it (its Node build). */
async function nodeOrt(): Promise<Ort> {
  const require = createRequire(import.meta.url);
  const main = require.resolve('onnxruntime-web');
  const ort = (await import(pathToFileURL(main.replace(/\.js$/, '.mjs')).href)) as Ort;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = `${pathToFileURL(dirname(main)).href}/`;
  return ort;
}

/** The Node sources of the engines. */
export function nodeSources(net: Network, onnx: () => Uint8Array, shipped: EffortProfile, neuron: EffortProfile | null): EngineSources {
  const wrap = (name: CompareEngine['name'], runner: { run(i: Float32Array, b: number): Promise<Float32Array>; close(): Promise<void> }): CompareEngine =>
    ({ name, profile: () => undefined, run: (i, b) => runner.run(i, b), close: () => runner.close() });
  return {
    net, onnx, shipped, neuron,
    openOurs: async (backend) => {
      const o = await openBackend(backend, { threads: 1 });
      return { backend: o.backend, close: () => o.close() };
    },
    tfjs: async (backend) => {
      if (backend !== 'webgpu') throw new Error('internal: Node opens tfjs-wasm through harness/peers/tfjs-wasm.ts');
      return nodeTfjsWebGpu();
    },
    ort: nodeOrt,
    override: {
      'tfjs-wasm': async () => wrap('tfjs-wasm', await (await import('../peers/tfjs-wasm.js')).openTfjsWasm(net, 1)),
      'onnxruntime-web': async () => wrap('onnxruntime-web', await (await import('../peers/onnxruntime.js')).openOnnxRuntime('web', onnx(), 1)),
    },
  };
}
