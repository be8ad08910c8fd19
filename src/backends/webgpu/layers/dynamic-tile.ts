/**
 * A Convolution whose DyVEDeep knobs run in TILE mode (src/mechanisms/tile-plan.ts) on WebGPU:
 * the decisions of the CPU's tile reference, taken per tile of one output channel x T consecutive
 * entries of the list of evaluated positions, by shaders/dynamic/tile-convolution.wgsl (one
 * invocation = one tile for four output channels; survivors re-packed into quads of four
 * surviving channels of one tile). Per layer:
 * - SPET: pass 1 (the significant K-prefix of the permuted weights), the tile test and the
 *   compaction of the surviving tiles are ONE dispatch, which also writes the indirect arguments
 *   of pass 2 (the rest, over the survivors, in full workgroups): 2 dispatches.
 * - SDSS: the grid (SDSS alone: the dense kernel, shaders/convolution/dense.wgsl, over the
 *   grid's listed positions; with SFMA phase 0, with SPET its two passes), then ONE dispatch over
 *   the tiles off the grid that decides each (interpolated or not) and evaluates the failing
 *   ones in the same workgroup (phase 0, or SPET's pass 1, whose survivors then take pass 2 by
 *   indirect dispatch): 2 dispatches for SDSS alone, 4 with SPET.
 * - SFMA, exact SPET: the neuron mode's map-statistics, sfma-kernel-sums and spet-bound passes.
 * Lists, counts and indirect arguments are cleared by the command encoder; nothing is read back
 * inside a batch. Tiles of at most 16 positions (the kernel's registers), ungrouped convolutions.
 *
 * Residual layers (SPET through a sum, PlannedLayer.residual): the test adds the addend blob's
 * value of each neuron, and a terminated neuron stores -addend (the sum then is exactly 0).
 * Traced plans: a u32 per output neuron, 1 = terminated, 2 = interpolated (whole tiles).
 */
import { convolutionGeometry, type DynGeometry } from '../../../mechanisms/geometry.js';
import { indexRange, sdssTileOrder, tilePlan, type TilePlan } from '../../../mechanisms/tile-plan.js';
import type { LayerEffort } from '../../../effort/effort.js';
import { NetworkError } from '../../../errors.js';
import type { Layer } from '../../../ir/network.js';
import { f32Bits, grid1d, type EncodeContext, type FusedRelu } from '../encode-context.js';
import { convGeometryUniforms, packUniforms } from '../uniforms.js';
import { encodeDenseConvolution } from './convolution.js';
import { encodeMapStatistics } from './map-statistics-pass.js';

/** Largest tile the kernel holds in registers (its MAX_TP). */
export const WEBGPU_MAX_TILE_POSITIONS = 16;

const WORD = 4;

/** The permuted weights transposed for the kernel: wT[(j * taps + t) * outC4 + o], outC4 = outC rounded up to 4. */
function transposedWeights(plan: TilePlan, g: DynGeometry): Float32Array {
  const { outC, cpg, taps } = g;
  const outC4 = Math.ceil(outC / 4) * 4;
  const out = new Float32Array(outC4 * cpg * taps);
  for (let o = 0; o < outC; o++) {
    for (let k = 0; k < cpg * taps; k++) out[k * outC4 + o] = plan.permuted[o * cpg * taps + k];
  }
  return out;
}

/** Channel quads per tile in a workgroup of a direct dispatch: the largest power of two <= wg dividing `units`. */
function unitsPerWorkgroup(units: number, wg: number): number {
  let cb = 1;
  while (cb * 2 <= wg && units % (cb * 2) === 0) cb *= 2;
  return cb;
}

/** Why this backend cannot run `layer` in tile mode with `effort` (which has `tile`), or null when it can. */
export function tileModeUnsupported(layer: Layer, effort: LayerEffort): string | null {
  if (layer.params.type !== 'Convolution' || !layer.weights) return `layer '${layer.name}': tile mode applies to convolutions with weights`;
  if (effort.tile!.positions > WEBGPU_MAX_TILE_POSITIONS) {
    return `layer '${layer.name}': the WebGPU backend runs tiles of at most ${WEBGPU_MAX_TILE_POSITIONS} positions, the profile asks for ${effort.tile!.positions}; use a CPU backend or a smaller tile`;
  }
  // The kernel runs quads of any four output channels over one channel order.
  const { group } = convolutionGeometry(layer);
  if (group > 1) return `layer '${layer.name}': the WebGPU backend runs tile mode on ungrouped convolutions only (this one has ${group} groups); use a CPU backend or neuron mode`;
  return null;
}

/**
 * Encodes a tile-mode Convolution. `addend`: the residual sum's other operand (laid out like the
 * output), when the planned layer has one.
 */
export async function encodeTileDynamic(
  ctx: EncodeContext, layer: Layer, inputs: GPUBuffer[], outputs: GPUBuffer[], relu: FusedRelu, effort: LayerEffort, rectified: boolean,
  addend: GPUBuffer | null,
): Promise<void> {
  const tile = effort.tile!;
  const unsupported = tileModeUnsupported(layer, effort);
  if (unsupported) throw new NetworkError(unsupported);
  const weights = layer.weights!; // a convolution with weights: checked above
  if (relu && relu.slope !== 0) throw new NetworkError(`layer '${layer.name}': a leaky ReLU cannot be fused into a dynamic layer`);
  const g = convolutionGeometry(layer);
  const batch = ctx.batch;
  const spet = effort.spet;
  const exact = spet?.mode === 'exact';
  const plan = tilePlan(weights, g, spet?.fraction ?? 1, spet?.mode === 'threshold' ? spet.inputScale : undefined);
  const nSig = spet ? plan.nSig : g.cpg;
  const order = effort.sdss ? sdssTileOrder(g.outH, g.outW, effort.sdss.stride, effort.sdss.pattern) : null;
  const staticList = order ? order.grid : indexRange(g.positions);
  const others = order ? order.others : new Int32Array(0);
  const T = tile.positions;
  const staticTiles = Math.ceil(staticList.length / T);
  const otherTiles = Math.ceil(others.length / T);
  const maps = batch * g.outC;

  // u32 tables: bias, thresholds, the order; the lists; SDSS's neighbours; exact SPET's per-o tables (spet-bound.wgsl).
  let t = 0;
  const take = (n: number) => { const at = t; t += n; return at; };
  const biasAt = take(g.outC);
  const thrAt = take(g.outC);
  const orderAt = take(g.group * g.cpg);
  const staticAt = take(staticList.length);
  const othersAt = take(others.length);
  const neighbourAt = take(4 * others.length);
  const boundOrderAt = take(exact ? g.outC * g.cpg : 0);
  const posSumAt = take(exact ? g.outC * g.cpg : 0);
  const negSumAt = take(exact ? g.outC * g.cpg : 0);
  const tables = new Uint32Array(Math.max(4, t));
  const bias = weights.bias;
  for (let o = 0; o < g.outC; o++) {
    tables[biasAt + o] = f32Bits(bias ? bias[o] : 0);
    const thr = spet?.mode === 'threshold' ? (spet.thresholds ? spet.thresholds[o] : spet.threshold) : 0;
    tables[thrAt + o] = f32Bits(thr);
  }
  tables.set(plan.order, orderAt);
  tables.set(staticList, staticAt);
  tables.set(others, othersAt);
  if (order) tables.set(order.neighbours.neighbours, neighbourAt);
  if (exact) {
    for (let o = 0; o < g.outC; o++) {
      const gi = Math.floor(o / g.m);
      for (let j = 0; j < g.cpg; j++) {
        tables[boundOrderAt + o * g.cpg + j] = plan.order[gi * g.cpg + j];
        tables[posSumAt + o * g.cpg + j] = f32Bits(plan.posSum[o * g.cpg + j]);
        tables[negSumAt + o * g.cpg + j] = f32Bits(plan.negSum[o * g.cpg + j]);
      }
    }
  }

  // f32 run buffer, the neuron mode's sections: keep flags, means, ranges, K_o, bounds.
  let r = 0;
  const takeRun = (n: number) => { const at = r; r += n; return at; };
  const keepAt = takeRun(batch * g.inC);
  const meanAt = takeRun(batch * g.inC);
  const rangeAt = takeRun(2 * batch * g.inC);
  const kAt = takeRun(effort.sfma ? maps * g.taps : 0);
  const boundAt = takeRun(exact ? maps : 0);
  const run = new Float32Array(r);
  run.fill(1, keepAt, keepAt + batch * g.inC);

  // Work lists (u32, atomics): counts first, then SPET's survivors on the grid, then off it;
  // 4 words per entry (a quad of channels of one tile: at most one entry per tile).
  const work = { gridCount: 0, otherCount: 1, gridSurvAt: 4, otherSurvAt: 0, words: 0 };
  work.otherSurvAt = work.gridSurvAt + (spet ? 4 * maps * staticTiles : 0);
  work.words = work.otherSurvAt + (spet ? 4 * maps * otherTiles : 0);

  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const tablesBuf = ctx.buffer(tables, `${layer.name} tile tables`, usage);
  const runBuf = ctx.buffer(run, `${layer.name} tile run`, usage);
  const workBuf = ctx.buffer(work.words * WORD, `${layer.name} tile lists`, usage);
  // One (x, y, z) per list an indirect dispatch covers (SPET's survivors on and off the grid),
  // each in its own buffer: an indirect buffer may not be bound writable by the pass it sizes.
  const argsBufs = [0, 1].map((i) => ctx.buffer(4 * WORD, `${layer.name} tile indirect arguments ${i}`, usage | GPUBufferUsage.INDIRECT));
  const noArgs = ctx.buffer(16, `${layer.name} no arguments`, usage);
  const wT = ctx.constant(layer, `tile-weights ${spet?.fraction ?? 1} ${spet?.mode === 'threshold' ? spet.inputScale?.join(',') ?? '' : ''}`, () => transposedWeights(plan, g));
  const x = inputs[0];
  const y = outputs[0];
  const rec = ctx.record(layer);
  const maxDim = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const trace = ctx.traceDecisions;
  const decisions = ctx.buffer(trace ? maps * g.positions * WORD : 16, `${layer.name} decisions`, usage);
  if (trace) {
    ctx.push({ op: 'clear', buffer: decisions, offset: 0, size: maps * g.positions * WORD });
    rec.decisions = {
      neurons: decisions, channels: g.outC, height: g.outH, width: g.outW, inputChannels: g.inC,
      keep: effort.sfma ? { buffer: runBuf, offset: keepAt * WORD } : null,
    };
  }
  ctx.push({ op: 'clear', buffer: workBuf, offset: 0, size: 4 * WORD });
  for (const buffer of argsBufs) ctx.push({ op: 'clear', buffer, offset: 0, size: 4 * WORD });

  if (effort.sfma || exact) await encodeMapStatistics(ctx, layer, effort, x, runBuf, batch * g.inC, g.planeSize, { keepAt, meanAt, rangeAt }, rec);
  if (effort.sfma) {
    const k = await ctx.kernel('dynamic/sfma-kernel-sums');
    const total = maps * g.taps;
    const w = ctx.constant(layer, 'dynamic-weights', () => weights.weight);
    const params = ctx.uniform(packUniforms('dynamic/sfma-kernel-sums', {
      inC: g.inC, outC: g.outC, cpg: g.cpg, m: g.m, taps: g.taps, total, keepAt, meanAt, kAt,
    }), layer.name);
    ctx.push({ op: 'dispatch', layer: layer.name, kernel: k, bindGroup: ctx.bind(k, [params, w, runBuf]), workgroups: grid1d(total, k.workgroupSize, maxDim) });
  }
  if (exact) {
    const k = await ctx.kernel('dynamic/spet-bound');
    const params = ctx.uniform(packUniforms('dynamic/spet-bound', {
      inC: g.inC, outC: g.outC, cpg: g.cpg, m: g.m, nSig, total: maps,
      orderAt: boundOrderAt, posAt: posSumAt, negAt: negSumAt, keepAt, rangeAt, boundAt,
    }), layer.name);
    ctx.push({ op: 'dispatch', layer: layer.name, kernel: k, bindGroup: ctx.bind(k, [params, tablesBuf, runBuf]), workgroups: grid1d(maps, k.workgroupSize, maxDim) });
  }
  rec.spet = spet !== undefined;

  const conv = await ctx.kernel('dynamic/tile-convolution', { TP: T });
  const wg = conv.workgroupSize;
  const quads = Math.ceil(g.outC / 4);
  const placeholder = ctx.buffer(16, `${layer.name} no addend`, usage);

  /** Which list of positions a pass covers. */
  interface Positions { readonly at: number; readonly length: number; readonly tiles: number }
  const gridPositions: Positions = { at: staticAt, length: staticList.length, tiles: staticTiles };
  const otherPositions: Positions = { at: othersAt, length: others.length, tiles: otherTiles };
  /** Where a pass's tiles come from: all tiles of the list (direct), or entries of a work list (indirect). */
  type Source = { readonly direct: true } | { readonly direct: false; readonly at: number; readonly countAt: number; readonly argsSlot: number };
  /** Where phase 1 appends (also from phase 3): a work list, its count and its arguments slot. */
  interface Sink { readonly at: number; readonly countAt: number; readonly argsSlot: number }
  /** Bound as the fixed y of indirect dispatches so that x stays under the device's limit. */
  const argsY = (tiles: number) => Math.max(1, Math.ceil(Math.ceil((maps * tiles) / wg) / maxDim));

  const pass = (phase: 0 | 1 | 2 | 3, list: Positions, source: Source, sink: Sink | null, rectify: boolean): void => {
    const slot = ctx.slot();
    rec.convSlots.push(slot);
    const decideSlot = phase === 3 ? ctx.slot() : 0;
    if (phase === 3) rec.decideSlot = decideSlot;
    const params = ctx.uniform(packUniforms('dynamic/tile-convolution', {
      ...convGeometryUniforms(g),
      phase, nSig, exact, residual: addend !== null, relu: relu !== null, rectify, sfma: Boolean(effort.sfma), delta: effort.sdss?.delta ?? 0,
      biasAt, thrAt, orderAt, listAt: list.at, listLen: list.length, nTiles: list.tiles, neighbourAt, cb: unitsPerWorkgroup(quads, wg),
      fromList: !source.direct, inAt: source.direct ? 0 : source.at, inCountAt: source.direct ? 0 : source.countAt,
      outAt: sink?.at ?? 0, outCountAt: sink?.countAt ?? 0, argsAt: 0, argsY: argsY(list.tiles),
      keepAt, kAt, boundAt, slot, trace, outC4: 4 * quads, four: 4, then: spet ? 1 : 0, decideSlot,
    }), layer.name);
    const argsOut = sink ? argsBufs[sink.argsSlot] : noArgs;
    const bindGroup = ctx.bind(conv, [params, x, wT, tablesBuf, runBuf, addend ?? placeholder, y, ctx.stats, workBuf, argsOut, decisions]);
    if (source.direct) {
      const cb = unitsPerWorkgroup(quads, wg);
      const workgroups: [number, number, number] = [Math.ceil(list.tiles / (wg / cb)), Math.ceil(quads / cb), batch];
      ctx.push({ op: 'dispatch', layer: layer.name, kernel: conv, bindGroup, workgroups, slot });
    } else {
      ctx.push({ op: 'indirect', layer: layer.name, kernel: conv, bindGroup, args: argsBufs[source.argsSlot], argsOffset: 0, slot });
    }
  };
  // The grid (or every position): whole tiles, or SPET's pass 1 (+ test, compaction) and pass 2 over the survivors.
  const rectifyGrid = order !== null && rectified;
  if (spet) {
    const survivors: Sink = { at: work.gridSurvAt, countAt: work.gridCount, argsSlot: 0 };
    pass(1, gridPositions, { direct: true }, survivors, false);
    pass(2, gridPositions, { direct: false, ...survivors }, null, rectifyGrid);
  } else if (order && !effort.sfma) {
    // SDSS alone: its grid is an ordinary convolution over listed positions, so the dense kernel
    // runs it (weights uniform across a workgroup, 8 positions per invocation; on lavapipe the
    // tile kernel's quads of 4 positions ran the same MACs at about half its rate).
    rec.staticMacs = await encodeDenseConvolution(ctx, layer, x, y, relu ?? (rectifyGrid ? { slope: 0 } : null), { buffer: tablesBuf, ...gridPositions });
  } else {
    pass(0, gridPositions, { direct: true }, null, rectifyGrid);
  }
  if (!order) return;
  rec.sdssOutputs = maps * g.positions;
  if (others.length === 0) return;
  // Off the grid: the decision, and the failing tiles evaluated in the same workgroups.
  const survivors: Sink = { at: work.otherSurvAt, countAt: work.otherCount, argsSlot: 1 };
  pass(3, otherPositions, { direct: true }, spet ? survivors : null, false);
  if (spet) pass(2, otherPositions, { direct: false, ...survivors }, null, false);
}
