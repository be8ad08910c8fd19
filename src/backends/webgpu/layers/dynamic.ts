/**
 * A Convolution or InnerProduct with DyVEDeep knobs on WebGPU. Each mechanism adds its own passes
 * around one dynamic convolution kernel (shaders/dynamic/):
 * - SFMA: map-statistics (means, drops) -> sfma-kernel-sums (K_o per tap); the convolution skips
 *   dropped maps and adds K_o over the in-bounds taps.
 * - SPET: the channel order (significant first) in the tables; exact mode adds map-statistics
 *   (ranges) -> spet-bound; the convolution predicts per workgroup.
 * - SDSS: the convolution evaluates the sampling grid; sdss-decide interpolates or compacts the
 *   failing neurons into per-map lists; sdss-indirect-args sizes the indirect dispatch of the
 *   convolution over those lists.
 * Without SDSS the convolution evaluates every position (one list shared by all maps).
 * SPET through a residual sum (PlannedLayer.residual, `addend` = the sum's other operand): the
 * prediction tests partial + addend and a predicted neuron stores -addend (the sum becomes 0).
 * Tile-mode layers are encoded by dynamic-tile.ts.
 *
 * Traced plans (ctx.traceDecisions) give the layer a u32 per output neuron, cleared before the
 * layer, where the convolution's SPET prediction writes 1 and sdss-decide 2 (the NEURON_* codes);
 * a uniform flag keeps the untraced passes from writing, and they bind a 16-byte placeholder. SFMA's
 * decisions need no pass of their own: the scheduler reads map-statistics' keep flags back.
 */
import { convolutionGeometry, dynWeights, innerProductGeometry, type DynGeometry } from '../../../mechanisms/geometry.js';
import { sdssGrid } from '../../../mechanisms/sdss.js';
import { spetPlan } from '../../../mechanisms/spet.js';
import type { LayerEffort } from '../../../effort/effort.js';
import { NetworkError } from '../../../errors.js';
import type { Layer } from '../../../ir/network.js';
import { f32Bits, grid1d, type EncodeContext, type FusedRelu } from '../encode-context.js';
import { convGeometryUniforms, packUniforms } from '../uniforms.js';
import { encodeMapStatistics } from './map-statistics-pass.js';

const NONE = 0xffffffff;

/** Offsets (in 4-byte words) of the sections of a layer's u32 tables and f32 run buffer. */
interface Layout {
  biasAt: number; orderAt: number; posSumAt: number; negSumAt: number; staticCountAt: number; staticPosAt: number;
  neighbourAt: number; listAt: number; countAt: number; maxAt: number; tableWords: number;
  keepAt: number; meanAt: number; rangeAt: number; kAt: number; boundAt: number; runWords: number;
}

function layout(g: DynGeometry, batch: number, staticCount: number, nonGrid: number): Layout {
  let t = 0;
  const take = (n: number) => { const at = t; t += n; return at; };
  const biasAt = take(g.outC);
  const orderAt = take(g.outC * g.cpg);
  const posSumAt = take(g.outC * g.cpg);
  const negSumAt = take(g.outC * g.cpg);
  const staticCountAt = take(1);
  const staticPosAt = take(staticCount);
  const neighbourAt = take(5 * nonGrid);
  const listAt = take(batch * g.outC * nonGrid);
  const countAt = take(batch * g.outC);
  const maxAt = take(1);
  const tableWords = t;
  t = 0;
  const keepAt = take(batch * g.inC);
  const meanAt = take(batch * g.inC);
  const rangeAt = take(2 * batch * g.inC);
  const kAt = take(batch * g.outC * g.taps);
  const boundAt = take(batch * g.outC);
  return { biasAt, orderAt, posSumAt, negSumAt, staticCountAt, staticPosAt, neighbourAt, listAt, countAt, maxAt, tableWords,
    keepAt, meanAt, rangeAt, kAt, boundAt, runWords: t };
}

/**
 * The positions in spatial blocks of about `tile` entries (block-major, row-major inside): a
 * workgroup then evaluates a compact patch, whose neurons saturate together far more often than
 * those of a few whole rows, so SPET's workgroup-level prediction skips more.
 */
export function blockOrder(positions: Int32Array, height: number, width: number, tile: number): Int32Array {
  const side = Math.max(1, Math.round(Math.sqrt((tile * height * width) / Math.max(1, positions.length))));
  const key = (p: number) => {
    const y = Math.floor(p / width);
    const x = p - y * width;
    return [Math.floor(y / side), Math.floor(x / side), y, x];
  };
  return Int32Array.from([...positions].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2] || ka[3] - kb[3];
  }));
}

export async function encodeDynamic(
  ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu, effort: LayerEffort, rectified: boolean,
  addend: GPUBuffer | null = null,
): Promise<void> {
  // The execution plan has checked the knobs against the layer (knob-rules.ts).
  const type = layer.params.type;
  if (relu && relu.slope !== 0) throw new NetworkError(`layer '${layer.name}': a leaky ReLU cannot be fused into a dynamic layer`);
  const g = type === 'Convolution' ? convolutionGeometry(layer) : innerProductGeometry(layer);
  const { weight, bias } = dynWeights(layer, g);
  const batch = ctx.batch;
  const plan = effort.spet && layer.weights ? spetPlan(layer.weights, g, effort.spet.fraction) : null;
  const exact = effort.spet?.mode === 'exact';
  const grid = effort.sdss ? sdssGrid(g.outH, g.outW, effort.sdss.stride) : null;
  const conv = await ctx.kernel('dynamic/convolution');
  const tile = conv.workgroupSize * conv.positionsPerInvocation; // positions per workgroup (convolution.wgsl)
  const staticPositions = blockOrder(grid ? grid.grid : Int32Array.from({ length: g.positions }, (_, i) => i), g.outH, g.outW, tile);
  const nonGrid = grid ? grid.others.length : 0;
  const L = layout(g, batch, staticPositions.length, nonGrid);

  const tables = new Uint32Array(L.tableWords);
  for (let o = 0; o < g.outC; o++) tables[L.biasAt + o] = f32Bits(bias ? bias[o] : 0);
  for (let o = 0; o < g.outC; o++) {
    for (let j = 0; j < g.cpg; j++) {
      let c = j;
      if (plan) c = j < plan.nSig ? plan.sigChannels[o * plan.nSig + j] : plan.restChannels[o * plan.nRest + j - plan.nSig];
      tables[L.orderAt + o * g.cpg + j] = c;
      if (plan) {
        tables[L.posSumAt + o * g.cpg + j] = f32Bits(plan.posSum[o * g.cpg + j]);
        tables[L.negSumAt + o * g.cpg + j] = f32Bits(plan.negSum[o * g.cpg + j]);
      }
    }
  }
  tables[L.staticCountAt] = staticPositions.length;
  tables.set(staticPositions, L.staticPosAt);
  if (grid) {
    let k = 0;
    for (let i = 0; i < grid.pairs.length; i += 3, k++) tables.set([grid.pairs[i], grid.pairs[i + 1], grid.pairs[i + 2], NONE, NONE], L.neighbourAt + 5 * k);
    for (let i = 0; i < grid.cells.length; i += 5, k++) tables.set(grid.cells.subarray(i, i + 5), L.neighbourAt + 5 * k);
  }
  const run = new Float32Array(L.runWords);
  run.fill(1, L.keepAt, L.keepAt + batch * g.inC);

  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const tablesBuf = ctx.buffer(tables, `${layer.name} tables`, usage);
  // Indirect arguments, one 4-word slot per indirect dispatch (at most 3: see evaluate below).
  const argsBuf = ctx.buffer(3 * 4 * 4, `${layer.name} indirect arguments`, usage | GPUBufferUsage.INDIRECT);
  let argsSlots = 0;
  const runBuf = ctx.buffer(run, `${layer.name} run`, usage);
  const w = ctx.constant(layer, 'dynamic-weights', () => weight);
  const x = inputs[0];
  const y = outputs[0];
  const rec = ctx.record(layer);
  const maxDim = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const wordBytes = 4;

  const trace = ctx.traceDecisions;
  const neurons = batch * g.outSize;
  const decisions = ctx.buffer(trace ? neurons * wordBytes : 16, `${layer.name} decisions`, usage);
  const noAddend = ctx.buffer(16, `${layer.name} no addend`, usage);
  if (trace) {
    ctx.push({ op: 'clear', buffer: decisions, offset: 0, size: Math.ceil((neurons * wordBytes) / 4) * 4 });
    rec.decisions = {
      neurons: decisions, channels: g.outC, height: g.outH, width: g.outW, inputChannels: g.inC,
      keep: effort.sfma ? { buffer: runBuf, offset: L.keepAt * wordBytes } : null,
    };
  }

  if (grid && nonGrid > 0) ctx.push({ op: 'clear', buffer: tablesBuf, offset: L.countAt * wordBytes, size: (batch * g.outC + 1) * wordBytes });

  if (effort.sfma || exact) await encodeMapStatistics(ctx, layer, effort, x, runBuf, batch * g.inC, g.planeSize, L, rec);
  if (effort.sfma) {
    const k = await ctx.kernel('dynamic/sfma-kernel-sums');
    const total = batch * g.outC * g.taps;
    const params = ctx.uniform(packUniforms('dynamic/sfma-kernel-sums', {
      inC: g.inC, outC: g.outC, cpg: g.cpg, m: g.m, taps: g.taps, total, keepAt: L.keepAt, meanAt: L.meanAt, kAt: L.kAt,
    }), layer.name);
    ctx.push({ op: 'dispatch', layer: layer.name, kernel: k, bindGroup: ctx.bind(k, [params, w, runBuf]), workgroups: grid1d(total, k.workgroupSize, maxDim) });
  }
  const nSig = plan ? plan.nSig : g.cpg;
  if (exact) {
    const k = await ctx.kernel('dynamic/spet-bound');
    const total = batch * g.outC;
    const params = ctx.uniform(packUniforms('dynamic/spet-bound', {
      inC: g.inC, outC: g.outC, cpg: g.cpg, m: g.m, nSig, total,
      orderAt: L.orderAt, posAt: L.posSumAt, negAt: L.negSumAt, keepAt: L.keepAt, rangeAt: L.rangeAt, boundAt: L.boundAt,
    }), layer.name);
    ctx.push({ op: 'dispatch', layer: layer.name, kernel: k, bindGroup: ctx.bind(k, [params, tablesBuf, runBuf]), workgroups: grid1d(total, k.workgroupSize, maxDim) });
  }

  rec.spet = plan !== null;
  const threshold = effort.spet?.mode === 'threshold' ? effort.spet.threshold : 0;
  const args = await ctx.kernel('dynamic/sdss-indirect-args');

  // SPET's survivors: per map a list (capacity: the longest list a pass evaluates), its length,
  // and the longest length.
  const capacity = Math.max(staticPositions.length, nonGrid);
  const maps = batch * g.outC;
  const S = { countAt: 0, maxAt: maps, listAt: maps + 1 };
  const survivors = ctx.buffer(plan ? (S.listAt + maps * capacity) * wordBytes : 16, `${layer.name} SPET survivors`, usage);

  /** Where a pass finds its positions: list, per-map stride, lengths, per-map stride of lengths. */
  interface List { readonly posAt: number; readonly posStride: number; readonly countAt: number; readonly countStride: number }
  type Launch = { readonly workgroups: [number, number, number] } | { readonly args: GPUBuffer; readonly argsOffset: number };
  const launchConv = (phase: number, list: List, rectify: boolean, launch: Launch) => {
    const slot = ctx.slot();
    rec.convSlots.push(slot);
    const params = ctx.uniform(packUniforms('dynamic/convolution', {
      ...convGeometryUniforms(g),
      nSig, phase, threshold, relu: relu !== null, rectify, sfma: Boolean(effort.sfma), biasAt: L.biasAt, orderAt: L.orderAt,
      posAt: list.posAt, posStride: list.posStride, countAt: list.countAt, countStride: list.countStride,
      keepAt: L.keepAt, kAt: L.kAt, boundAt: L.boundAt, slot,
      survAt: S.listAt, survStride: capacity, survCountAt: S.countAt, survMaxAt: S.maxAt, trace, residual: addend !== null,
    }), layer.name);
    const bindGroup = ctx.bind(conv, [params, x, w, tablesBuf, runBuf, y, ctx.stats, survivors, decisions, addend ?? noAddend]);
    ctx.push('workgroups' in launch
      ? { op: 'dispatch', layer: layer.name, kernel: conv, slot, bindGroup, workgroups: launch.workgroups }
      : { op: 'indirect', layer: layer.name, kernel: conv, slot, bindGroup, args: launch.args, argsOffset: launch.argsOffset });
  };
  /** Indirect arguments sized by the longest list of `lists` (its length at maxAt), in a new slot. */
  const launchArgs = (lists: GPUBuffer, maxAt: number): Launch => {
    const argsAt = 4 * argsSlots++;
    const params = ctx.uniform(packUniforms('dynamic/sdss-indirect-args', { tile, outC: g.outC, images: batch, maxAt, argsAt }), layer.name);
    ctx.push({ op: 'dispatch', layer: layer.name, kernel: args, bindGroup: ctx.bind(args, [params, lists, argsBuf]), workgroups: [1, 1, 1] });
    return { args: argsBuf, argsOffset: argsAt * wordBytes };
  };
  /** Evaluates the neurons of `list`: whole (SPET off), or SPET's two phases around the survivors' compaction. */
  const evaluate = (list: List, launch: Launch, rectify: boolean) => {
    if (!plan) {
      launchConv(0, list, rectify, launch);
      return;
    }
    ctx.push({ op: 'clear', buffer: survivors, offset: 0, size: (maps + 1) * wordBytes });
    launchConv(1, list, false, launch);
    const rest = launchArgs(survivors, S.maxAt);
    launchConv(2, { posAt: S.listAt, posStride: capacity, countAt: S.countAt, countStride: 1 }, rectify, rest);
  };

  const staticList: List = { posAt: L.staticPosAt, posStride: 0, countAt: L.staticCountAt, countStride: 0 };
  evaluate(staticList, { workgroups: [Math.ceil(staticPositions.length / tile), g.outC, batch] }, grid !== null && rectified);
  if (!grid || !effort.sdss) return;
  rec.sdssOutputs = batch * g.outC * g.positions;
  if (nonGrid === 0) return;

  const decide = await ctx.kernel('dynamic/sdss-decide');
  const decideSlot = ctx.slot();
  rec.decideSlot = decideSlot;
  const total = batch * g.outC * nonGrid;
  const decideParams = ctx.uniform(packUniforms('dynamic/sdss-decide', {
    hw: g.positions, nonGrid, total, delta: effort.sdss.delta, neighbourAt: L.neighbourAt, listAt: L.listAt, countAt: L.countAt, maxAt: L.maxAt,
    slot: decideSlot, trace,
  }), layer.name);
  ctx.push({
    op: 'dispatch', layer: layer.name, kernel: decide, slot: decideSlot,
    bindGroup: ctx.bind(decide, [decideParams, tablesBuf, y, ctx.stats, decisions]), workgroups: grid1d(total, decide.workgroupSize, maxDim),
  });
  const failing = launchArgs(tablesBuf, L.maxAt);
  evaluate({ posAt: L.listAt, posStride: nonGrid, countAt: L.countAt, countStride: 1 }, failing, false);
}
