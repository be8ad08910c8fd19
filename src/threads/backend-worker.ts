/**
 * A worker of the parallel backend: runs slices of batches, or parts of one image's layers
 * (layer-split.ts), on its own CPU kernels, keeping each network it was sent (workers are
 * long-lived: weights travel once).
 */
import { CpuBackend, runLayer } from '../backends/cpu/cpu-backend.js';
import type { KernelVariant } from '../backends/cpu/kernel-types.js';
import { initWasmKernels } from '../backends/cpu/wasm/wasm-loader.js';
import type { Network } from '../ir/network.js';
import { partInput, placePart, runPart, type PartOptions } from './layer-split.js';
import type { PartResult, SharedLayerBuffers, WorkerReply, WorkerRequest } from './messages.js';
import { parentPort } from './worker-port.js';

const port = await parentPort();
const networks = new Map<number, Network>();
const backends = new Map<KernelVariant, CpuBackend>();

/** Shared input and output buffers, per network id and layer index. */
const sharedBuffers = new Map<string, SharedLayerBuffers>();

async function runLayerPart(net: Network, request: WorkerRequest & { kind: 'layer' }): Promise<PartResult> {
  if (request.kernels === 'wasm') await initWasmKernels();
  const { by, from, to } = request;
  const layer = net.layers[request.layer];
  if (!layer) throw new Error(`dyvedeep worker: network ${request.netId} has no layer ${request.layer}`);
  const options: PartOptions = {
    kernels: request.kernels, effort: request.effort, rectified: request.rectified, trace: request.trace,
    ...(request.addend && { addend: request.addend }),
    relu: request.relu === undefined ? undefined : net.layers[request.relu],
  };
  if (!request.shared) {
    if (!request.input) throw new Error('dyvedeep worker: a layer part without input');
    return runPart(layer, by, from, to, request.input, options);
  }
  const key = `${request.netId}/${request.layer}`;
  if (request.buffers) sharedBuffers.set(key, request.buffers);
  const buffers = sharedBuffers.get(key);
  if (!buffers) throw new Error(`dyvedeep worker: the shared buffers of layer ${request.layer} were never sent`);
  const side = request.side ? runSide(net, request.side.layer, request.side.relu, buffers.input, request.kernels) : undefined;
  // The band is consumed before this worker's next request: its array is reused.
  const { output, ...rest } = runPart(layer, by, from, to, partInput(layer, by, from, to, buffers.input, true), options);
  placePart(layer, by, from, to, output, buffers.output);
  return side ? { ...rest, side } : rest;
}

/** A sibling layer whole (and its fused ReLU) on `input`: what splitSibling lets a worker take. */
function runSide(net: Network, index: number, relu: number | undefined, input: Float32Array, kernels: KernelVariant): NonNullable<PartResult['side']> {
  const r = runLayer(net.layers[index], [input], 1, { kernels });
  if (relu === undefined) return { output: r.outputs[0], counters: [r.counters] };
  const rectified = runLayer(net.layers[relu], r.outputs, 1, { kernels });
  return { output: rectified.outputs[0], counters: [r.counters, rectified.counters] };
}

port.onMessage(async (message) => {
  const request = message as WorkerRequest;
  let reply: WorkerReply;
  try {
    if (request.net) networks.set(request.netId, request.net);
    const net = networks.get(request.netId);
    if (!net) throw new Error(`dyvedeep worker: network ${request.netId} was never sent`);
    if (request.kind === 'layer') {
      reply = { id: request.id, result: await runLayerPart(net, request) };
    } else {
      let backend = backends.get(request.kernels);
      if (!backend) backends.set(request.kernels, (backend = new CpuBackend({ kernels: request.kernels })));
      const result = await backend.run(net, request.input, request.batch, request.options);
      // The input buffer goes back to be filled again (the parent copies what the result holds),
      // unless it is the output's own: a transfer list takes a buffer once.
      const spare = request.input.buffer;
      reply = spare instanceof ArrayBuffer && result.output.buffer !== spare ? { id: request.id, result, spare } : { id: request.id, result };
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = { id: request.id, error: { name: e.name, message: e.message } };
  }
  const transfer: ArrayBuffer[] = [];
  if ('spare' in reply && reply.spare) transfer.push(reply.spare);
  if ('result' in reply) {
    if (reply.result.output) transfer.push(reply.result.output.buffer as ArrayBuffer);
    if ('side' in reply.result && reply.result.side) transfer.push(reply.result.side.output.buffer as ArrayBuffer);
  }
  port.post(reply, transfer);
});
