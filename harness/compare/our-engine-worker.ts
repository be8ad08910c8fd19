/**
 * The worker thread `dyve compare` runs each of dyvedeep's engines in (our-engines.ts): its own
 * JavaScript heap, as in an application that loads dyvedeep alone. In the comparison's process
 * the peers' modules (TF.js, the generated ONNX schema) make the heap several times larger, and
 * every garbage collection the per-layer arrays trigger slower: measured on squeezenet-dc at
 * batch 1 on 2 threads, 108 full collections for 80 images instead of 6, +40 % time. Each run is
 * timed here, around `backend.run` (what an application calls): the message to and from this
 * worker, ~0.1 ms, is the comparison's cost, not the engine's.
 */
import { parentPort } from 'node:worker_threads';
import type { KernelVariant } from '../../src/backends/cpu/kernel-types.js';
import type { EffortProfile } from '../../src/effort/profile.js';
import type { Network } from '../../src/ir/network.js';
import { ParallelBackend } from '../../src/threads/parallel-backend.js';

/** Parent -> worker. */
export type EngineRequest =
  | { readonly type: 'open'; readonly net: Network; readonly profile: EffortProfile; readonly threads: number; readonly kernels: KernelVariant }
  | { readonly type: 'run'; readonly input: Float32Array; readonly batch: number }
  | { readonly type: 'close' };

/** Worker -> parent. */
export type EngineReply =
  | { readonly type: 'ready' }
  | { readonly type: 'output'; readonly output: Float32Array; readonly macs: number; readonly threadsUsed: number; readonly seconds: number }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'closed' };

const port = parentPort;
if (!port) throw new Error('our-engine-worker.js must run in a worker thread');
let backend: ParallelBackend | null = null;
let net: Network | null = null;
let profile: EffortProfile | null = null;

port.on('message', async (request: EngineRequest) => {
  try {
    if (request.type === 'open') {
      ({ net, profile } = request);
      backend = await ParallelBackend.create({ threads: request.threads, kernels: request.kernels });
      port.postMessage({ type: 'ready' } satisfies EngineReply);
    } else if (request.type === 'run') {
      if (!backend || !net || !profile) throw new Error('internal: run before open');
      const t0 = performance.now();
      const r = await backend.run(net, request.input, request.batch, { effort: profile });
      const seconds = (performance.now() - t0) / 1000;
      const macs = r.counters.reduce((s, c) => s + c.macsExecuted, 0);
      port.postMessage({ type: 'output', output: r.output, macs, threadsUsed: backend.threadsUsed, seconds } satisfies EngineReply, [r.output.buffer as ArrayBuffer]);
    } else {
      await backend?.close();
      port.postMessage({ type: 'closed' } satisfies EngineReply);
    }
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies EngineReply);
  }
});
