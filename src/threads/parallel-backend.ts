/**
 * The CPU backends on several threads (Node worker_threads, Web Workers, Deno workers):
 * - a batch is split by images into one contiguous slice per worker; the slices run at the same
 *   time and their results are joined in image order — outputs, summed counters, decision traces;
 * - one image runs layer by layer on the calling thread, which splits each large layer between
 *   itself and the workers (layer-split.ts: dense convolutions by output rows, inner products and
 *   dynamic layers by output channels): the same sums and decisions, so the same output bit for bit.
 */
import { type Backend, type RunResult } from '../backends/backend.js';
import { concatDecisions, emptyDecisions, type LayerDecisions } from '../records/decisions.js';
import { sumCounters, type LayerCounters } from '../records/counters.js';
import { CpuBackend, runLayer, type CpuRunOptions } from '../backends/cpu/cpu-backend.js';
import { RunBlobs } from '../backends/cpu/run-blobs.js';
import { initWasmKernels } from '../backends/cpu/wasm/wasm-loader.js';
import { planNetwork, type ExecutionPlan } from '../plan/execution-plan.js';
import type { KernelVariant } from '../backends/cpu/kernel-types.js';
import { DyveError } from '../errors.js';
import { shapeSize, type Layer, type Network } from '../ir/network.js';
import { partAddend, partInput, placePart, planSplit, runPart, splitSibling, weightedRanges, type SplitPlan } from './layer-split.js';
import type { PartResult, SharedLayerBuffers, WorkerReply, WorkerRequest } from './messages.js';
import { spawnWorker, webWorkerPort, type Port } from './worker-port.js';

/** Options of {@link ParallelBackend.create}. */
export interface ParallelBackendOptions {
  /** Worker threads (>= 1). */
  readonly threads: number;
  /** The CPU kernels each thread runs (default `fast`). */
  readonly kernels?: KernelVariant;
  /**
   * Browsers: starts one Web Worker running `backend-worker.js`. A bundled page passes it because
   * bundlers (vite: `import BackendWorker from 'dyvedeep/worker?worker'`) only emit a worker they
   * can see in the page's own code; without it the worker is started from its URL beside this module.
   */
  readonly createWorker?: () => Worker;
  /**
   * Whether one image's layer parts exchange their data through SharedArrayBuffers (default:
   * wherever they can be posted) or in messages; the results are the same.
   */
  readonly sharedMemory?: boolean;
}

/**
 * The worker module beside this one. When the TypeScript sources run directly: Deno runs the `.ts`
 * worker; Node cannot run TypeScript in a worker, so tests that run the sources under Node use the
 * built worker (dist/, made by `npm run build` before the suites).
 */
function workerUrl(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./backend-worker.js', import.meta.url);
  if ('Deno' in globalThis) return new URL('./backend-worker.ts', import.meta.url);
  return new URL('../../dist/src/threads/backend-worker.js', import.meta.url);
}

/** Input buffers a worker handle keeps for reuse (two batch sizes: a run's, and its last partial batch's). */
const MAX_SPARES = 2;

interface Pending {
  resolve(r: RunResult | PartResult): void;
  reject(e: Error): void;
}

/** One worker, its requests in flight and the networks it holds. */
class WorkerHandle {
  private readonly pending = new Map<number, Pending>();
  readonly sent = new WeakSet<Network>();
  /** Input buffers the worker handed back, for the next slices (stage). */
  private readonly spares: ArrayBuffer[] = [];

  constructor(private readonly port: Port) {
    port.onMessage((message) => {
      const reply = message as WorkerReply;
      if ('spare' in reply && reply.spare) {
        this.spares.push(reply.spare);
        if (this.spares.length > MAX_SPARES) this.spares.shift();
      }
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(reply.error.name === 'Error' ? new Error(reply.error.message) : new DyveError(reply.error.message));
      else p.resolve(reply.result);
    });
    port.onError((error) => {
      for (const p of this.pending.values()) p.reject(new DyveError(`a worker thread failed: ${error.message}`));
      this.pending.clear();
    });
  }

  /** Sends `request` (its input buffer transferred when `transfer`, else copied); resolves with the reply. */
  request<R extends RunResult | PartResult>(request: WorkerRequest, transfer: boolean): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve: resolve as (r: RunResult | PartResult) => void, reject });
      this.port.post(request, transfer && request.input ? [request.input.buffer as ArrayBuffer] : []);
    });
  }

  /**
   * A copy of `values` to transfer to this worker: into a buffer it handed back when one has the
   * size, else a new one. Fresh 400 KB buffers (page faults on first touch, garbage collections
   * their external memory sets off) cost a batch of 64 CIFAR-10 images on two threads 1.2 ms of 22.
   */
  stage(values: Float32Array): Float32Array {
    const i = this.spares.findIndex((b) => b.byteLength === values.byteLength);
    if (i < 0) return values.slice();
    const copy = new Float32Array(this.spares.splice(i, 1)[0]);
    copy.set(values);
    return copy;
  }

  private readonly buffersSent = new WeakSet<Layer>();

  /** A layer's shared buffers when this worker has not been sent them yet. */
  buffersFor(layer: Layer, buffers: SharedLayerBuffers): { readonly buffers?: SharedLayerBuffers } {
    const first = !this.buffersSent.has(layer);
    this.buffersSent.add(layer);
    return first ? { buffers } : {};
  }

  /** The network itself when this worker has not been sent it yet (then only its id). */
  netFor(net: Network): { readonly net?: Network } {
    const first = !this.sent.has(net);
    this.sent.add(net);
    return first ? { net } : {};
  }

  terminate(): Promise<void> {
    return this.port.terminate();
  }
}

/**
 * Whether layer parts can share memory with the workers: SharedArrayBuffer exists and may be
 * posted (Node and Deno always; browsers only on a cross-origin isolated page).
 */
const SHARED_MEMORY = typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;

/** What a worker's part needs besides the layer: the fused ReLU's index and a dynamic layer's knobs. */
type RemotePartOptions = Pick<WorkerRequest & { kind: 'layer' }, 'relu' | 'effort' | 'rectified' | 'trace' | 'addend'>;
type LayerRequestSide = (WorkerRequest & { kind: 'layer' })['side'];

const networkIds = new WeakMap<Network, number>();
let nextNetworkId = 1;
let nextRequestId = 1;

/** The id the workers know `net` by. */
function idOf(net: Network): number {
  let id = networkIds.get(net);
  if (id === undefined) networkIds.set(net, (id = nextNetworkId++));
  return id;
}

/** Joins slice results (in image order) into the result of the whole batch. */
function joinResults(parts: readonly RunResult[]): RunResult {
  const output = new Float32Array(parts.reduce((n, p) => n + p.output.length, 0));
  let at = 0;
  for (const p of parts) {
    output.set(p.output, at);
    at += p.output.length;
  }
  const counters = parts[0].counters.map((c, i) => parts.slice(1).reduce((acc, p) => sumCounters(acc, p.counters[i]), c));
  const decisions = parts[0].decisions?.map((d, i) => parts.slice(1).reduce((acc, p) => concatDecisions(acc, p.decisions![i]), d));
  let blobs: Map<string, Float32Array> | undefined;
  if (parts[0].blobs) {
    blobs = new Map();
    for (const name of parts[0].blobs.keys()) {
      const slices = parts.map((p) => p.blobs!.get(name)!);
      const joined = new Float32Array(slices.reduce((n, s) => n + s.length, 0));
      slices.reduce((offset, s) => (joined.set(s, offset), offset + s.length), 0);
      blobs.set(name, joined);
    }
  }
  return { output, counters, ...(decisions && { decisions }), ...(blobs && { blobs }) };
}

/**
 * A CPU backend on `threads` worker threads (batches split by images). Create with
 * {@link ParallelBackend.create}; {@link ParallelBackend.close} stops the workers.
 */
export class ParallelBackend implements Backend {
  readonly name: string;
  private readonly local: CpuBackend;
  private lastThreadsUsed = 0;
  private readonly shared = new WeakMap<Layer, SharedLayerBuffers>();
  /** Split runs share their layers' buffers: one at a time. */
  private splitQueue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly workers: readonly WorkerHandle[], private readonly kernels: KernelVariant, private readonly sharedMemory: boolean) {
    this.local = new CpuBackend({ kernels });
    this.name = this.local.name;
  }

  /** Starts the workers. */
  static async create(options: ParallelBackendOptions): Promise<ParallelBackend> {
    const threads = options.threads;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new DyveError(`threads must be a whole number >= 1, got ${threads}`);
    const create = options.createWorker;
    const ports = await Promise.all(Array.from({ length: threads }, () => (create ? webWorkerPort(create()) : spawnWorker(workerUrl()))));
    return new ParallelBackend(ports.map((p) => new WorkerHandle(p)), options.kernels ?? 'fast', options.sharedMemory ?? SHARED_MEMORY);
  }

  /** Worker threads. */
  get threads(): number {
    return this.workers.length;
  }

  /**
   * Threads that worked on the last run: its image slices, or the most slices a layer of a single
   * image was split into (1 when no layer was large enough to split).
   */
  get threadsUsed(): number {
    return this.lastThreadsUsed;
  }

  async run(net: Network, input: Float32Array, batch: number, options: CpuRunOptions = {}): Promise<RunResult> {
    const block = shapeSize(net.inputShape);
    // A wrong input size gets the single-thread backend's message.
    if (input.length !== batch * block) return this.local.run(net, input, batch, options);
    if (batch === 1) {
      const run = this.splitQueue.then(() => this.runSplitLayers(net, input, options));
      this.splitQueue = run.catch(() => undefined);
      return run;
    }
    const slices = Math.min(this.workers.length, batch);
    this.lastThreadsUsed = slices;
    const netId = idOf(net);
    const runs: Promise<RunResult>[] = [];
    let start = 0;
    for (let w = 0; w < slices; w++) {
      const count = Math.floor(batch / slices) + (w < batch % slices ? 1 : 0);
      const worker = this.workers[w];
      runs.push(worker.request<RunResult>({
        kind: 'run', id: nextRequestId++, netId, ...worker.netFor(net), kernels: this.kernels,
        input: worker.stage(input.subarray(start * block, (start + count) * block)), batch: count, options,
      }, true));
      start += count;
    }
    return joinResults(await Promise.all(runs));
  }

  /**
   * One image, layer by layer on this thread; each large dense layer split (layer-split.ts)
   * between this thread (the first part) and the workers (threads - 1 of them), so `threads`
   * cores work on it. The ReLU right after a split layer, when it alone reads the layer's output,
   * runs inside each part (an elementwise layer: the same values), unless blobs are kept or
   * observed; a small dense layer reading the same input as the split layer after it runs whole
   * on a worker beside that worker's (smaller) part (splitSibling).
   */
  private async runSplitLayers(net: Network, input: Float32Array, options: CpuRunOptions): Promise<RunResult> {
    if (this.kernels === 'wasm') await initWasmKernels();
    const plan = planNetwork(net, options.effort);
    const run = new RunBlobs(net, input, options.keepBlobs === true, options.onLayer !== undefined);
    const counters: LayerCounters[] = [];
    const trace = options.traceDecisions === true;
    const decisions: LayerDecisions[] = [];
    const observed = options.onLayer !== undefined || options.keepBlobs === true;
    this.lastThreadsUsed = 1;
    const { steps } = plan;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const { layer, effort } = step;
      const inputs = run.inputsOf(layer);
      const split = planSplit(layer, effort, this.workers.length, this.kernels);
      const sibling = split || observed || effort ? null : this.siblingPlan(plan, i, options);
      if (sibling) {
        // Layer i runs whole on a worker beside its part of the split layer after it.
        const { main, sideRelu, plan: mainPlan, part } = sibling;
        const r = await this.splitLayer(net, main, run.inputsOf(steps[main].layer)[0], mainPlan, false, part, { layer: i, relu: sideRelu });
        counters.push(...r.side!.counters, ...r.counters);
        if (r.decisions) decisions.push(r.decisions);
        run.store(step, [r.side!.output]);
        if (sideRelu !== undefined) run.store(steps[sideRelu], [r.side!.output]);
        run.store(steps[main], [r.output]);
        i = main;
        if (part.relu !== undefined) run.store(steps[(i = part.relu)], [r.output]);
        continue;
      }
      const addend = run.addendOf(step);
      if (!split) {
        const r = runLayer(layer, inputs, 1, {
          kernels: this.local.variantFor(layer.params.type), effort, rectified: step.rectified, trace, ...(addend && { addend }),
        });
        if (r.decisions) decisions.push(r.decisions);
        counters.push(r.counters);
        options.onLayer?.(layer, inputs, r.outputs, r.counters);
        run.store(step, r.outputs);
        continue;
      }
      const part = { ...this.partOptions(plan, i, options), ...(addend && { addend }) };
      // Blobs that outlive the run (kept, observed) get arrays of their own.
      const r = await this.splitLayer(net, i, inputs[0], split, observed, part);
      counters.push(...r.counters);
      if (r.decisions) decisions.push(r.decisions);
      options.onLayer?.(layer, inputs, [r.output], r.counters[0]);
      run.store(step, [r.output]);
      if (part.relu !== undefined) run.store(steps[(i = part.relu)], [r.output]);
    }
    const blobs = run.kept();
    const output = run.output();
    return { output: output.buffer instanceof ArrayBuffer ? output : output.slice(), counters, ...(blobs && { blobs }), ...(trace && { decisions }) };
  }

  /** What the parts of split layer `i` need besides the layer: its fused ReLU, its knobs. */
  private partOptions(plan: ExecutionPlan, i: number, options: CpuRunOptions): RemotePartOptions {
    const { effort, rectified, fusedRelu } = plan.steps[i];
    // A fused ReLU leaves the layer's own blob rectified: not when blobs are kept or observed.
    const relu = options.onLayer || options.keepBlobs ? undefined : fusedRelu;
    return {
      ...(relu !== undefined && { relu }),
      ...(effort && { effort, rectified, trace: options.traceDecisions === true }),
    };
  }

  /**
   * When layer `side` (not split) is a sibling of the split layer after it (splitSibling) and
   * shared memory is on: that layer's plan with the first worker's share reduced by the sibling's
   * work, so that both threads finish together; null otherwise (or when the sibling outweighs a share).
   */
  private siblingPlan(plan: ExecutionPlan, side: number, options: CpuRunOptions) {
    if (!this.sharedMemory || this.workers.length < 2) return null;
    const sib = splitSibling(plan, side);
    // A residual SPET layer may read the sibling's output as its addend: not beside it.
    if (!sib || plan.steps[sib.main].residual) return null;
    const { layer, effort, macsPerImage } = plan.steps[sib.main];
    const split = planSplit(layer, effort, this.workers.length, this.kernels);
    if (!split || split.ranges.length !== this.workers.length) return null;
    // Work in dense-MAC units; dynamic layers run ~4x fewer MACs per second.
    const work = macsPerImage * (effort ? 4 : 1);
    const sideWork = plan.steps[side].macsPerImage;
    const share = (work + sideWork) / split.ranges.length;
    if (share - sideWork <= 0) return null;
    const n = split.ranges[split.ranges.length - 1][1];
    const weights = split.ranges.map((_, k) => (k === 1 ? share - sideWork : share));
    const ranges = weightedRanges(n, weights, split.by === 'rows' ? 1 : 4);
    if (ranges.some(([from, to]) => to <= from)) return null;
    return { main: sib.main, sideRelu: sib.sideRelu, plan: { by: split.by, ranges }, part: this.partOptions(plan, sib.main, options) };
  }

  /**
   * Layer `index` of `net` on one image, split by `plan` across this thread (the first part) and
   * the workers, followed in each part by the ReLU layer `relu` when given (its counters follow
   * the layer's). With shared memory, the layer's input and output live in SharedArrayBuffers
   * kept per layer: the workers read their bands and write their parts in place, and messages
   * carry no arrays (no copies, no garbage per call); the output blob is then a view of the shared
   * output, valid until this layer runs again (`copy` asks for an array of its own). Without
   * shared memory (a page that is not cross-origin isolated), parts travel in messages.
   */
  private async splitLayer(
    net: Network, index: number, input: Float32Array, plan: SplitPlan, copy: boolean, part: RemotePartOptions,
    side?: NonNullable<LayerRequestSide>,
  ): Promise<{ output: Float32Array; counters: LayerCounters[]; decisions?: LayerDecisions; side?: PartResult['side'] }> {
    const layer = net.layers[index];
    const { by, ranges } = plan;
    this.lastThreadsUsed = Math.max(this.lastThreadsUsed, ranges.length);
    const netId = idOf(net);
    const shared = this.sharedMemory ? this.sharedBuffers(layer) : null;
    if (shared) shared.input.set(input);
    // The workers' parts go first, so they run while this thread computes the first one.
    const remote = ranges.slice(1).map(([from, to], k) => {
      const worker = this.workers[k];
      const request = {
        kind: 'layer', id: nextRequestId++, netId, ...worker.netFor(net), kernels: this.kernels, layer: index, by, from, to, ...part,
        ...(part.addend && { addend: partAddend(layer, by, from, to, part.addend).slice() }),
      } as const;
      if (shared) {
        return worker.request<PartResult>({ ...request, shared: true, ...worker.buffersFor(layer, shared), ...(k === 0 && side && { side }) }, false);
      }
      const band = partInput(layer, by, from, to, input);
      // A part's own band is transferred; the whole input (channel parts) is copied.
      return worker.request<PartResult>({ ...request, input: band }, band !== input);
    });
    const [from0, to0] = ranges[0];
    const local = runPart(layer, by, from0, to0, partInput(layer, by, from0, to0, input, true), {
      ...part, kernels: this.kernels, relu: part.relu === undefined ? undefined : net.layers[part.relu],
      ...(part.addend && { addend: partAddend(layer, by, from0, to0, part.addend) }),
    });
    const out = layer.outputShapes[0];
    const output = shared ? shared.output : new Float32Array(out.c * out.h * out.w);
    placePart(layer, by, from0, to0, local.output, output);
    const replies = await Promise.all(remote);
    replies.forEach((r, k) => {
      if (r.output) placePart(layer, by, ranges[k + 1][0], ranges[k + 1][1], r.output, output);
    });
    const counters = replies.reduce((acc, r) => acc.map((c, j) => sumCounters(c, r.counters[j])), local.counters);
    let decisions: LayerDecisions | undefined;
    if (local.decisions) {
      // Parts split by output channels: each part's neurons are a run of whole channels.
      const d = local.decisions;
      decisions = emptyDecisions(layer.name, 1, out.c, out.h, out.w, d.inputChannels);
      decisions.sfmaApproximated.set(d.sfmaApproximated);
      [d, ...replies.map((r) => r.decisions)].forEach((p, k) => p && decisions!.neurons.set(p.neurons, ranges[k][0] * out.h * out.w));
    }
    const sideResult = replies[0]?.side;
    return { output: shared && copy ? output.slice() : output, counters, ...(decisions && { decisions }), ...(sideResult && { side: sideResult }) };
  }

  /** The shared input and output of `layer` (one image), made on first use. */
  private sharedBuffers(layer: Layer): SharedLayerBuffers {
    let b = this.shared.get(layer);
    if (!b) {
      const f32 = (n: number) => new Float32Array(new SharedArrayBuffer(n * 4));
      b = { input: f32(shapeSize(layer.inputShapes[0])), output: f32(shapeSize(layer.outputShapes[0])) };
      this.shared.set(layer, b);
    }
    return b;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
