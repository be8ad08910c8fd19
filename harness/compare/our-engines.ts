/**
 * dyvedeep's own engines for `dyve compare`: dense and DyVEDeep on the CPU kernels, on worker
 * threads, each in a worker thread of its own (our-engine-worker.ts says why).
 */
import { Worker } from 'node:worker_threads';
import type { KernelVariant } from '../../src/backends/cpu/kernel-types.js';
import { DyveError } from '../../src/errors.js';
import type { EffortProfile } from '../../src/effort/profile.js';
import type { Network } from '../../src/ir/network.js';
import type { Engine, EngineName } from './engine.js';
import type { EngineReply, EngineRequest } from './our-engine-worker.js';

/** The worker module: beside this one when built; the built one when the sources run (vitest). */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/harness/compare/our-engine-worker.js', import.meta.url)
    : new URL('./our-engine-worker.js', import.meta.url);
}

/**
 * Opens one of dyvedeep's engines, `name` (`dyvedeep-dense` with the dense profile,
 * `dyvedeep-dynamic` / `dyvedeep-neuron` with a tile- / neuron-mode one) on `threads` threads with `kernels`.
 */
export async function openOurEngine(
  name: EngineName, net: Network, profile: EffortProfile, threads: number, kernels: KernelVariant,
): Promise<Engine> {
  const worker = new Worker(workerUrl());
  let pending: { resolve: (r: EngineReply) => void; reject: (e: Error) => void } | undefined;
  worker.on('message', (reply: EngineReply) => { const p = pending; pending = undefined; p?.resolve(reply); });
  worker.on('error', (err) => { const p = pending; pending = undefined; p?.reject(err); });
  const ask = (request: EngineRequest, transfer: ArrayBuffer[] = []): Promise<EngineReply> => new Promise((resolve, reject) => {
    pending = { resolve, reject };
    worker.postMessage(request, transfer);
  });
  const expect = <T extends EngineReply['type']>(r: EngineReply, type: T): EngineReply & { type: T } => {
    if (r.type === 'error') throw new DyveError(r.message);
    if (r.type !== type) throw new Error(`internal: the engine worker sent ${r.type}, expected ${type}`);
    return r as EngineReply & { type: T };
  };
  expect(await ask({ type: 'open', net, profile, threads, kernels }), 'ready');
  let macs = 0;
  let used = threads;
  let seconds = 0;
  return {
    name,
    threads,
    async run(input, batch) {
      const r = expect(await ask({ type: 'run', input, batch }, [input.buffer as ArrayBuffer]), 'output');
      macs += r.macs;
      used = r.threadsUsed;
      seconds = r.seconds;
      return r.output;
    },
    executedMacs: () => macs,
    threadsUsed: () => used,
    lastRunSeconds: () => seconds,
    async close() {
      expect(await ask({ type: 'close' }), 'closed');
      await worker.terminate();
    },
  };
}
