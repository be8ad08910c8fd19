/** dyvedeep's own engines for `dyve compare`: dense and DyVEDeep on the CPU kernels, on worker threads. */
import type { KernelVariant } from '../../src/backends/cpu/kernel-types.js';
import { DENSE_PROFILE, type EffortProfile } from '../../src/effort/profile.js';
import type { Network } from '../../src/ir/network.js';
import { ParallelBackend } from '../../src/threads/parallel-backend.js';
import type { Engine } from './engine.js';

/** Opens `dyvedeep-dense` (profile = dense) or `dyvedeep-dynamic` on `threads` threads with `kernels`. */
export async function openOurEngine(
  net: Network, profile: EffortProfile, threads: number, kernels: KernelVariant,
): Promise<Engine> {
  const backend = await ParallelBackend.create({ threads, kernels });
  const dense = Object.keys(profile.layers).length === 0;
  let macs = 0;
  return {
    name: dense ? 'dyvedeep-dense' : 'dyvedeep-dynamic',
    threads,
    async run(input, batch) {
      const r = await backend.run(net, input, batch, { effort: dense ? DENSE_PROFILE : profile });
      for (const c of r.counters) macs += c.macsExecuted;
      return r.output;
    },
    executedMacs: () => macs,
    threadsUsed: () => backend.threadsUsed,
    close: () => backend.close(),
  };
}
