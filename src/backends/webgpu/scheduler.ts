/**
 * The scheduler: turns layers into a plan (buffers, bind groups and steps, built once per network,
 * batch size, effort profile and decision tracing) and runs it with one command encoder per
 * inference (Deno settles submissions in ~11 ms steps), then reads back the outputs, the dynamic
 * kernels' counters (and, when traced, their decisions) and a record of every dispatch.
 *
 * Blob buffers are reused once their last reader has run; in-place layers share their buffer;
 * Dropout and Flatten alias their input when nothing reads it afterwards (else copy); a ReLU the
 * execution plan fuses into the layer before it (today Convolution and InnerProduct; the Scale,
 * PReLU and Eltwise encoders take one too) runs in that layer's store.
 */
import { NetworkError } from '../../errors.js';
import type { Layer, Shape } from '../../ir/network.js';
import { shapeSize } from '../../ir/network.js';
import type { LayerDecisions } from '../../records/decisions.js';
import type { DispatchRecord } from '../../records/dispatches.js';
import type { LayerCounters } from '../../records/counters.js';
import type { ExecutionPlan } from '../../plan/execution-plan.js';
import type { DecisionBuffers, EncodeContext, FusedRelu, LayerRecord, Step, UniformWords } from './encode-context.js';
import { encodeDynamic } from './layers/dynamic.js';
import { encodeTileDynamic } from './layers/dynamic-tile.js';
import { LAYER_ENCODERS } from './layers/layer-encoder.js';
import type { Kernel, PipelineCache } from './pipelines.js';


/** Options of a plan. */
export interface PlanOptions {
  /** Fuse the ReLUs the execution plan allows into the layer before them (default true). */
  readonly fuseRelu?: boolean;
  /** Record and read back the dynamic layers' decisions (RunOptions.traceDecisions). */
  readonly traceDecisions?: boolean;
  /** Time every dispatch with timestamp queries, where the device has them (RunOptions.timeDispatches). */
  readonly timeDispatches?: boolean;
}

/** The outputs, counters and dispatch records of one run. */
export interface PlanRun {
  readonly outputs: Map<string, Float32Array>;
  readonly counters: LayerCounters[];
  readonly dispatches: DispatchRecord[];
  /** Traced plans: each dynamic layer's decisions, in execution order. */
  readonly decisions?: LayerDecisions[];
}

const SLOT_WORDS = 8;
const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** One region of the read-back buffer: what is copied there after the layers. */
interface ReadRegion {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  /** Bytes, a multiple of 4. */
  readonly size: number;
  /** Byte offset in the read-back buffer. */
  readonly at: number;
}

/** A 64-bit counter kept as two u32 words (low, high) by the kernels' add64. */
function u64(stats: Uint32Array, at: number): number {
  return stats[at] + stats[at + 1] * 2 ** 32;
}

/** A plan ready to run any number of times (one run at a time: runs queue behind each other). */
export class Plan {
  /** Where each output, the counters and each indirect dispatch's arguments land in `readBack`. */
  private readonly outputRegions = new Map<string, ReadRegion>();
  private readonly argsRegions = new Map<number, ReadRegion>();
  private readonly statsRegion: ReadRegion;
  /** Traced plans: per dynamic layer (execution order), its neuron map and SFMA keep flags. */
  private readonly decisionRegions: { readonly layer: string; readonly d: DecisionBuffers; readonly neurons: ReadRegion; readonly keep: ReadRegion | null }[] = [];
  private readonly readBack: GPUBuffer;
  /** Timed plans: two timestamps per dispatch (its pass's start and end), resolved into `times`. */
  private readonly timer: { readonly queries: GPUQuerySet; readonly resolved: GPUBuffer; readonly times: ReadRegion } | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly device: GPUDevice,
    readonly batch: number,
    private readonly plan: ExecutionPlan,
    /** The buffers the graph's inputs are written to and its outputs read from. */
    private readonly inputBuffers: ReadonlyMap<string, GPUBuffer>,
    outputBuffers: ReadonlyMap<string, GPUBuffer>,
    private readonly steps: Step[],
    private readonly records: Map<string, LayerRecord>,
    private readonly stats: GPUBuffer,
    slots: number,
    private readonly owned: GPUBuffer[],
    private readonly traced: boolean,
    timed: boolean,
  ) {
    let at = 0;
    const region = (buffer: GPUBuffer, offset: number, bytes: number): ReadRegion => {
      const r = { buffer, offset, size: Math.ceil(bytes / 4) * 4, at };
      at += r.size;
      return r;
    };
    const dispatches = steps.filter((s) => s.op === 'dispatch' || s.op === 'indirect').length;
    if (timed && dispatches > 0 && device.features.has('timestamp-query')) {
      const bytes = 16 * dispatches;
      const resolved = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'dyvedeep timestamps' });
      owned.push(resolved);
      at = Math.ceil(at / 8) * 8; // read back as 64-bit words
      this.timer = { queries: device.createQuerySet({ type: 'timestamp', count: 2 * dispatches, label: 'dyvedeep timestamps' }), resolved, times: region(resolved, 0, bytes) };
    }
    for (const [name, buffer] of outputBuffers) this.outputRegions.set(name, region(buffer, 0, batch * shapeSize(this.outputShape(name)) * 4));
    this.statsRegion = region(stats, 0, slots * SLOT_WORDS * 4);
    steps.forEach((step, i) => {
      if (step.op === 'indirect') this.argsRegions.set(i, region(step.args, step.argsOffset, 12));
    });
    // The decisions ride the same read-back as the counters: no extra mapping per run.
    for (const { layer } of plan.steps) {
      const d = records.get(layer.name)?.decisions;
      if (!d) continue;
      const neurons = batch * d.channels * d.height * d.width;
      this.decisionRegions.push({
        layer: layer.name, d, neurons: region(d.neurons, 0, neurons * 4),
        keep: d.keep ? region(d.keep.buffer, d.keep.offset, batch * d.inputChannels * 4) : null,
      });
    }
    this.readBack = device.createBuffer({ size: Math.max(16, at), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'dyvedeep read-back' });
    owned.push(this.readBack);
  }

  /** Builds the GPU plan of an execution plan for `batch` images. */
  static async build(
    device: GPUDevice, pipelines: PipelineCache, constants: ConstantCache, plan: ExecutionPlan, batch: number, options: PlanOptions = {},
  ): Promise<Plan> {
    const owned: GPUBuffer[] = [];
    try {
      return await Plan.buildInto(owned, device, pipelines, constants, plan, batch, options);
    } catch (err) {
      // A plan the encoders refuse half-way (a layer the device cannot run) frees what it made.
      for (const b of owned) b.destroy();
      throw err;
    }
  }

  /** Plan.build's work; every buffer it makes goes into `owned` first. */
  private static async buildInto(
    owned: GPUBuffer[], device: GPUDevice, pipelines: PipelineCache, constants: ConstantCache, plan: ExecutionPlan, batch: number, options: PlanOptions,
  ): Promise<Plan> {
    const { graph, steps: planned, lastReader } = plan;
    const steps: Step[] = [];
    const records = new Map<string, LayerRecord>();
    // A dynamic layer takes at most 6 slots: statistics, SDSS's decision, 4 convolution passes.
    const maxSlots = 6 * planned.length + 1;
    const stats = device.createBuffer({ size: maxSlots * SLOT_WORDS * 4, usage: STORAGE(), label: 'dyvedeep counters' });
    owned.push(stats);
    let slots = 0;
    const makeBuffer = (init: number | ArrayBufferView, label: string, usage = STORAGE()): GPUBuffer => {
      const bytes = typeof init === 'number' ? init : init.byteLength;
      const buffer = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage, label, mappedAtCreation: typeof init !== 'number' });
      if (typeof init !== 'number') {
        new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(init.buffer, init.byteOffset, init.byteLength));
        buffer.unmap();
      }
      owned.push(buffer);
      return buffer;
    };
    const ctx: EncodeContext = {
      device,
      batch,
      traceDecisions: options.traceDecisions === true,
      kernel: (name, specialisation) => pipelines.kernel(name, specialisation),
      uniform: (words: UniformWords, label: string) => {
        const data = new Uint32Array(Math.ceil(words.length / 4) * 4);
        data.set(words);
        return makeBuffer(data, `${label} params`, GPUBufferUsage.UNIFORM);
      },
      constant: (layer, key, make) => constants.get(layer, key, make),
      buffer: makeBuffer,
      bind: (kernel: Kernel, buffers: readonly GPUBuffer[]) => device.createBindGroup({
        label: kernel.name,
        layout: kernel.pipeline.getBindGroupLayout(0),
        entries: buffers.map((buffer, i) => ({ binding: i, resource: { buffer } })),
      }),
      slot: () => {
        if (slots >= maxSlots) throw new Error('dyvedeep: counter slots exhausted');
        return SLOT_WORDS * slots++;
      },
      stats,
      push: (step) => steps.push(step),
      record: (layer) => {
        let r = records.get(layer.name);
        if (!r) {
          r = { convSlots: [] };
          records.set(layer.name, r);
        }
        return r;
      },
    };

    const blobBuffers = new Map<string, GPUBuffer>();
    const users = new Map<GPUBuffer, number>(); // blob names living in each buffer
    const pool: GPUBuffer[] = [];
    const acquire = (bytes: number, label: string): GPUBuffer => {
      let best = -1;
      pool.forEach((b, i) => { if (b.size >= bytes && (best < 0 || b.size < pool[best].size)) best = i; });
      if (best >= 0) return pool.splice(best, 1)[0];
      return makeBuffer(Math.max(bytes, 16), label);
    };
    const assign = (name: string, buffer: GPUBuffer) => {
      blobBuffers.set(name, buffer);
      users.set(buffer, (users.get(buffer) ?? 0) + 1);
    };
    const release = (name: string) => {
      const buffer = blobBuffers.get(name);
      if (!buffer) return;
      blobBuffers.delete(name);
      const n = (users.get(buffer) ?? 1) - 1;
      users.set(buffer, n);
      if (n === 0) pool.push(buffer);
    };
    for (const [name, shape] of graph.inputs) assign(name, makeBuffer(batch * shapeSize(shape) * 4, name));
    const inputBuffers = new Map([...graph.inputs.keys()].map((n) => [n, blobBuffers.get(n)!]));

    const lastRead = (blob: string) => lastReader.get(blob) ?? -1;
    for (let i = 0; i < planned.length; i++) {
      const { layer, effort, rectified, fusedRelu, residual } = planned[i];
      const inputs = layer.bottoms.map((b) => {
        const buf = blobBuffers.get(b);
        if (!buf) throw new NetworkError(`layer '${layer.name}' reads blob '${b}', which no earlier layer produced`);
        return buf;
      });
      const type = layer.params.type;
      const next = fusedRelu !== undefined && options.fuseRelu !== false ? planned[fusedRelu].layer : null;
      const relu: FusedRelu = next?.params.type === 'ReLU' ? { slope: next.params.relu.negativeSlope } : null;
      // A ReLU, Dropout, Flatten or Split may write over its input when it is the input's last reader.
      const overwrites = layer.bottoms.length === 1 && lastRead(layer.bottoms[0]) <= i;
      const bytesOf = (j: number) => batch * shapeSize(layer.outputShapes[j]) * 4;
      let outputs: GPUBuffer[];
      if (type === 'Dropout' || type === 'Flatten' || type === 'Split') {
        outputs = layer.tops.map((top, j) => {
          if (j === 0 && overwrites) return inputs[0];
          const out = acquire(bytesOf(j), top);
          steps.push({ op: 'copy', from: inputs[0], to: out, size: bytesOf(j) });
          return out;
        });
      } else {
        outputs = type === 'ReLU' && overwrites ? [inputs[0]] : layer.tops.map((top, j) => acquire(bytesOf(j), top));
        if (effort) {
          // SPET through a residual sum reads the sum's other operand (alive: the Eltwise reads it later).
          const addend = residual ? blobBuffers.get(residual.addend) ?? null : null;
          if (residual && !addend) throw new NetworkError(`layer '${layer.name}': the residual addend '${residual.addend}' is not computed before it`);
          const encode = effort.tile ? encodeTileDynamic : encodeDynamic;
          await encode(ctx, layer, inputs, outputs, relu, effort, effort.sdss !== undefined && rectified, addend);
        } else {
          const encoder = LAYER_ENCODERS[type];
          if (!encoder) throw new NetworkError(`layer '${layer.name}': no WebGPU kernel for layer type ${type}`);
          await encoder(ctx, layer, inputs, outputs, relu);
        }
      }
      // Blob names are unique (the IR renames in-place tops), so outputs are new names.
      layer.tops.forEach((top, j) => assign(top, outputs[j]));
      if (next) assign(next.tops[0], outputs[0]);
      for (const b of planned[i].releases) release(b);
      if (next) {
        for (const b of planned[i + 1].releases) release(b);
        i++;
      }
    }
    const outputBuffers = new Map<string, GPUBuffer>();
    for (const out of graph.outputs) {
      const buf = blobBuffers.get(out);
      if (!buf) throw new NetworkError(`the plan never produces blob '${out}'`);
      outputBuffers.set(out, buf);
    }
    return new Plan(
      device, batch, plan, inputBuffers, outputBuffers, steps, records, stats, slots, owned, options.traceDecisions === true, options.timeDispatches === true,
    );
  }

  /** Runs the plan on `inputs` (one array per graph input, batch x shape each). */
  run(inputs: ReadonlyMap<string, Float32Array>, lost: Promise<unknown>): Promise<PlanRun> {
    // The read-back buffer is the plan's own: a second run waits for the first to unmap it.
    const result = this.queue.then(() => this.runNow(inputs, lost));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(inputs: ReadonlyMap<string, Float32Array>, lost: Promise<unknown>): Promise<PlanRun> {
    const { device } = this;
    for (const [name] of this.plan.graph.inputs) {
      const data = inputs.get(name);
      if (!data) throw new NetworkError(`no data for input blob '${name}'`);
      device.queue.writeBuffer(this.inputBuffers.get(name)!, 0, data as Float32Array<ArrayBuffer>);
    }
    const encoder = device.createCommandEncoder({ label: 'dyvedeep inference' });
    encoder.clearBuffer(this.stats);
    let pass: GPUComputePassEncoder | null = null;
    const endPass = () => {
      pass?.end();
      pass = null;
    };
    const timer = this.timer;
    let timed = 0;
    for (const step of this.steps) {
      if (step.op === 'copy') {
        endPass();
        encoder.copyBufferToBuffer(step.from, 0, step.to, 0, step.size);
      } else if (step.op === 'clear') {
        endPass();
        encoder.clearBuffer(step.buffer, step.offset, step.size);
      } else {
        if (timer) {
          // Timed: a pass per dispatch, its start and end stamped.
          endPass();
          pass = encoder.beginComputePass({
            label: `dyvedeep ${step.layer}`,
            timestampWrites: { querySet: timer.queries, beginningOfPassWriteIndex: 2 * timed, endOfPassWriteIndex: 2 * timed + 1 },
          });
          timed++;
        }
        pass ??= encoder.beginComputePass({ label: 'dyvedeep layers' });
        pass.setPipeline(step.kernel.pipeline);
        pass.setBindGroup(0, step.bindGroup);
        if (step.op === 'dispatch') pass.dispatchWorkgroups(...step.workgroups);
        else pass.dispatchWorkgroupsIndirect(step.args, step.argsOffset);
      }
    }
    endPass();
    if (timer) encoder.resolveQuerySet(timer.queries, 0, 2 * timed, timer.resolved, 0);
    // Read-back: outputs, counters, indirect arguments (decisions, timestamps), into one mappable buffer.
    const regions = [...this.outputRegions.values(), this.statsRegion, ...this.argsRegions.values()];
    if (timer) regions.push(timer.times);
    for (const r of this.decisionRegions) regions.push(r.neurons, ...(r.keep ? [r.keep] : []));
    for (const r of regions) if (r.size > 0) encoder.copyBufferToBuffer(r.buffer, r.offset, this.readBack, r.at, r.size);
    device.queue.submit([encoder.finish()]);
    await Promise.race([
      this.readBack.mapAsync(GPUMapMode.READ),
      lost.then((info) => { throw new Error(`the WebGPU device was lost: ${(info as GPUDeviceLostInfo).message || (info as GPUDeviceLostInfo).reason}`); }),
    ]);
    const bytes = this.readBack.getMappedRange().slice(0);
    this.readBack.unmap();
    const outputs = new Map<string, Float32Array>();
    for (const [name, r] of this.outputRegions) outputs.set(name, new Float32Array(bytes, r.at, r.size / 4));
    const stats = new Uint32Array(bytes, this.statsRegion.at, this.statsRegion.size / 4);
    const args = new Map<number, Uint32Array>();
    for (const [i, r] of this.argsRegions) args.set(i, new Uint32Array(bytes, r.at, 3));
    const times = this.timer ? new BigUint64Array(bytes, this.timer.times.at, this.timer.times.size / 8) : null;
    const run: PlanRun = { outputs, counters: this.counters(stats), dispatches: this.dispatchRecords(stats, args, times) };
    return this.traced ? { ...run, decisions: this.decisions(bytes) } : run;
  }

  /** The traced layers' decisions from the read-back bytes: u32 codes to bytes, keep flags to drops. */
  private decisions(bytes: ArrayBuffer): LayerDecisions[] {
    return this.decisionRegions.map(({ layer, d, neurons, keep }) => {
      const codes = new Uint32Array(bytes, neurons.at, neurons.size / 4);
      const sfma = new Uint8Array(this.batch * d.inputChannels);
      if (keep) {
        const flags = new Float32Array(bytes, keep.at, sfma.length);
        for (let i = 0; i < sfma.length; i++) sfma[i] = flags[i] === 0 ? 1 : 0;
      }
      return {
        layer, batch: this.batch, channels: d.channels, height: d.height, width: d.width, inputChannels: d.inputChannels,
        neurons: Uint8Array.from(codes), sfmaApproximated: sfma,
      };
    });
  }

  private outputShape(name: string): Shape {
    for (const { layer } of this.plan.steps) {
      const j = layer.tops.indexOf(name);
      if (j >= 0) return layer.outputShapes[j];
    }
    const s = this.plan.graph.inputs.get(name);
    if (!s) throw new NetworkError(`unknown blob '${name}'`);
    return s;
  }

  private counters(stats: Uint32Array): LayerCounters[] {
    const otherOps = new Map<string, number>();
    for (const step of this.steps) if (step.op === 'dispatch' && step.otherOps) otherOps.set(step.layer, (otherOps.get(step.layer) ?? 0) + step.otherOps);
    return this.plan.steps.map(({ layer, macsPerImage }) => {
      const macsDense = macsPerImage * this.batch;
      const c: LayerCounters = { name: layer.name, type: layer.params.type, macsDense, macsExecuted: macsDense, otherOps: otherOps.get(layer.name) ?? 0 };
      const rec = this.records.get(layer.name);
      if (rec) {
        c.macsExecuted = rec.convSlots.reduce((s, slot) => s + u64(stats, slot), rec.staticMacs ?? 0);
        c.mechanisms = {};
        if (rec.spet) {
          c.mechanisms.spet = {
            neurons: rec.convSlots.reduce((s, slot) => s + stats[slot + 2], 0),
            terminated: rec.convSlots.reduce((s, slot) => s + stats[slot + 3], 0),
          };
        }
        if (rec.sdssOutputs !== undefined) c.mechanisms.sdss = { outputs: rec.sdssOutputs, interpolated: rec.decideSlot !== undefined ? stats[rec.decideSlot] : 0 };
        if (rec.statsSlot !== undefined) c.mechanisms.sfma = { maps: rec.sfmaMaps ?? 0, approximated: stats[rec.statsSlot] };
      }
      return c;
    });
  }

  private dispatchRecords(stats: Uint32Array, args: Map<number, Uint32Array>, times: BigUint64Array | null): DispatchRecord[] {
    const out: DispatchRecord[] = [];
    this.steps.forEach((step, i) => {
      if (step.op !== 'dispatch' && step.op !== 'indirect') return;
      const a = args.get(i);
      const requested = step.op === 'dispatch' ? step.workgroups[0] * step.workgroups[1] * step.workgroups[2] : a ? a[0] * a[1] * a[2] : 0;
      const counted = (step.kernel.name === 'dynamic/convolution' || step.kernel.name === 'dynamic/tile-convolution') && step.slot !== undefined;
      out.push({
        layer: step.layer, kernel: step.kernel.name, mode: step.op === 'dispatch' ? 'direct' : 'indirect', workgroupsRequested: requested,
        // The dynamic convolution counts the workgroups that had positions; other kernels run every one.
        workgroupsExecuted: counted ? stats[step.slot! + 4] : requested,
        macs: counted ? u64(stats, step.slot!) : step.op === 'dispatch' ? step.macs ?? 0 : 0,
        // An end stamped before its start (implementations may reorder a pass's stamps) counts 0.
        ...(times && {
          gpuNs: Math.max(0, Number(times[2 * out.length + 1] - times[2 * out.length])),
          gpuStartNs: Number(times[2 * out.length] - times[0]),
        }),
      });
    });
    return out;
  }

  /** Frees the plan's buffers (not the cached weights). */
  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.timer?.queries.destroy();
  }
}

/** Weights and other per-layer constants uploaded once per device. */
export class ConstantCache {
  private readonly buffers = new WeakMap<Layer, Map<string, GPUBuffer>>();
  private readonly all: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice) {}

  get(layer: Layer, key: string, make: () => ArrayBufferView): GPUBuffer {
    let byKey = this.buffers.get(layer);
    if (!byKey) {
      byKey = new Map();
      this.buffers.set(layer, byKey);
    }
    let buffer = byKey.get(key);
    if (!buffer) {
      const data = make();
      const limit = this.device.limits.maxStorageBufferBindingSize;
      if (data.byteLength > limit) {
        throw new NetworkError(
          `layer '${layer.name}': its ${key} take ${(data.byteLength / 2 ** 20).toFixed(0)} MiB, more than this adapter binds in one buffer (maxStorageBufferBindingSize ${(limit / 2 ** 20).toFixed(0)} MiB); run this model on the CPU backend`,
        );
      }
      buffer = this.device.createBuffer({
        size: Math.max(16, Math.ceil(data.byteLength / 4) * 4), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true, label: `${layer.name} ${key}`,
      });
      new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      buffer.unmap();
      byKey.set(key, buffer);
      this.all.push(buffer);
    }
    return buffer;
  }

  destroy(): void {
    for (const b of this.all) b.destroy();
  }
}
