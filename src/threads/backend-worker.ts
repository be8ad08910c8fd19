/**
 * A worker of the parallel backend: runs slices of batches on its own CpuBackend, keeping each
 * network it was sent (workers are long-lived: weights travel once).
 */
import { CpuBackend } from '../backends/cpu/cpu-backend.js';
import type { KernelVariant } from '../backends/cpu/kernel-types.js';
import type { Network } from '../ir/network.js';
import type { RunReply, RunRequest } from './messages.js';
import { parentPort } from './worker-port.js';

const port = await parentPort();
const networks = new Map<number, Network>();
const backends = new Map<KernelVariant, CpuBackend>();

port.onMessage(async (message) => {
  const request = message as RunRequest;
  let reply: RunReply;
  try {
    if (request.net) networks.set(request.netId, request.net);
    const net = networks.get(request.netId);
    if (!net) throw new Error(`dyvedeep worker: network ${request.netId} was never sent`);
    let backend = backends.get(request.kernels);
    if (!backend) backends.set(request.kernels, (backend = new CpuBackend({ kernels: request.kernels })));
    reply = { id: request.id, result: await backend.run(net, request.input, request.batch, request.options) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = { id: request.id, error: { name: e.name, message: e.message } };
  }
  port.post(reply, 'result' in reply ? [reply.result.output.buffer as ArrayBuffer] : []);
});
