/**
 * FAST dynamic convolution: the same decisions and sums as reference-convolution.ts, executed by
 * the blocked loops of tile-kernels.ts so that skipped work is really skipped.
 *
 * Per group g and chunk of output rows (all of them unless the weights do not fit the workspace)
 * the weights are packed once; then per image the KEPT input maps are copied into zero-padded
 * planes (SFMA's dropped maps are never read again), and:
 * - Phase A, the neurons every output channel evaluates (all positions, or the SDSS grid):
 *   P = bias + correction, then
 *   - without SPET: every row x kept channel, by 4 x 3 tiles;
 *   - with SPET: only the (row, channel) pairs where the channel is significant for the row
 *     (per-channel quads of rows; 1x1 kernels neuron by neuron), the termination test of every
 *     neuron, then the rest channels for the survivors only, 8 neurons at a time.
 * - Phase B (SDSS): the test of every non-grid neuron; the failing ones are evaluated 8 at a time
 *   per output row from the planes, with SPET when on; without SPET, the blocks of 4 rows x 3
 *   positions that all failed run as 4 x 3 tiles first.
 * Phase A's positions are processed in chunks whose partial sums fit the workspace.
 *
 * Counting: MACs of real neurons only (the repeated lanes of a last 3-position tile and the zero
 * rows of a last quad are not counted, as the dense GEMM does not count its edge padding).
 * otherOps as in the reference, except the SFMA correction, computed here once per border class
 * (sfma.ts).
 *
 * Decision trace (state.trace): written per group of neurons where the decisions are taken (the
 * SPET test of a row's neurons, the SDSS test of a row's map), in separate loops that run only
 * when tracing, so the untraced hot loops are unchanged.
 *
 * Hot loops keep their counts in locals, call no closures and take no data-dependent branches
 * (SPET's compaction of survivors is branch-free): with cifar10-quick's conv1 (75 MACs per
 * neuron) a mispredicted branch per neuron costs a quarter of the neuron's arithmetic.
 */
import { NEURON_EVALUATED, NEURON_SDSS_INTERPOLATED, NEURON_SPET_TERMINATED } from '../../../records/decisions.js';
import { type LayerCounters } from '../../../records/counters.js';
import { NetworkError } from '../../../errors.js';
import type { DynGeometry } from '../../../mechanisms/geometry.js';
import type { CallState } from './run-state.js';
import { rectifyGrid, sdssGrid, sdssTestMap, type SdssGrid } from '../../../mechanisms/sdss.js';
import { correctionLayout, correctionTables, type CorrectionLayout } from '../../../mechanisms/sfma.js';
import { restBound, spetTestOps, type SpetPlan } from '../../../mechanisms/spet.js';
import {
  patchChannelStride, patchLane, tapLayout, TS_TILE_KERNELS, WORKSPACE_DOUBLES, type SpetQuads, type TapLayout, type TileKernels,
} from './tile-kernels.js';

/** Growable scratch arrays, reused across calls (JS is single-threaded, nothing here awaits). */
class Scratch {
  private f = new Map<string, Float64Array>();
  private i = new Map<string, Int32Array>();
  f64(name: string, n: number): Float64Array {
    let a = this.f.get(name);
    if (!a || a.length < n) {
      a = new Float64Array(Math.max(n, 64));
      this.f.set(name, a);
    }
    return a;
  }
  i32(name: string, n: number): Int32Array {
    let a = this.i.get(name);
    if (!a || a.length < n) {
      a = new Int32Array(Math.max(n, 64));
      this.i.set(name, a);
    }
    return a;
  }
}
const scratch = new Scratch();

/** Per-row channel lists (row i's entries are start[i] .. start[i + 1] - 1). */
interface ChannelLists {
  /** Group-relative channel: its weights are at rowStart + c * T in W_B. */
  readonly c: Int32Array;
  /** Index of the channel among the kept ones: its patch block. */
  readonly j: Int32Array;
  readonly start: Int32Array;
}

/** Lists of rows o0 .. o0 + mc - 1 when nothing is dropped, per plan and chunk (built once). */
const fullLists = new WeakMap<SpetPlan, Map<string, { sig: ChannelLists; rest: ChannelLists }>>();

/**
 * For rows i < mc (absolute o = oAbs0 + i): the kept channels among `source`'s per-row entries
 * [o * per, (o + 1) * per), in their order (keptIndex[c] < 0 for a dropped channel).
 */
function channelLists(source: Int32Array, per: number, oAbs0: number, mc: number, keptIndex: Int32Array): ChannelLists {
  const c = new Int32Array(mc * per);
  const j = new Int32Array(mc * per);
  const start = new Int32Array(mc + 1);
  let n = 0;
  for (let i = 0; i < mc; i++) {
    start[i] = n;
    for (let k = (oAbs0 + i) * per; k < (oAbs0 + i + 1) * per; k++) {
      const ch = source[k];
      if (keptIndex[ch] >= 0) {
        c[n] = ch;
        j[n] = keptIndex[ch];
        n++;
      }
    }
  }
  start[mc] = n;
  return { c, j, start };
}

/** The packed weights of one (group, row chunk). */
interface Packed {
  readonly g: number;
  readonly o0: number;
  readonly mc: number;
  readonly quads: number;
  /** SPET quads (T > 1 with SPET), else null and W_A panels at wA. */
  readonly sq: SpetQuads | null;
  readonly wA: number;
  readonly wB: number;
  /** Padded planes of the kept channels (after the weights). */
  readonly planes: number;
  /** First free workspace index after the planes: patches and partial sums of phase A. */
  readonly free: number;
}

/**
 * Runs the fast dynamic layer on `x` (batch images) into a new output array, its hot loops run by
 * `tiles` (the TypeScript loops, or their WebAssembly twins: the same sums either way).
 */
export function dynamicFast(state: CallState, x: Float32Array, counts: LayerCounters, tiles: TileKernels = TS_TILE_KERNELS): Float32Array {
  const run = new FastRun(state, x, tiles);
  const { m, cpg, taps: T, group } = state.geom;
  // Rows per chunk: the packed weights (panels or quads, plus the rows) must fit half the workspace.
  const maxRows = Math.max(4, Math.floor(WORKSPACE_DOUBLES / 2 / (2 * cpg * T) / 4) * 4);
  const mcMax = Math.min(m, maxRows);
  const needRows = state.spet !== null || run.grid !== null;
  for (let g = 0; g < group; g++) {
    for (let o0 = 0; o0 < m; o0 += mcMax) {
      const mc = Math.min(mcMax, m - o0);
      const quads = (mc + 3) >> 2;
      let sq: SpetQuads | null = null;
      let wEnd: number;
      if (state.spet !== null && T > 1) {
        sq = tiles.packSpetQuads(state.w.weight, state.geom, g, o0, mc, state.spet.rowsOfChannel, 0);
        wEnd = sq.size;
      } else {
        tiles.packChannelPanels(state.w.weight, state.geom, g, o0, mc, 0);
        wEnd = cpg * quads * 4 * T;
      }
      const wB = wEnd;
      if (needRows) {
        tiles.packRows(state.w.weight, state.geom, g, o0, mc, wB);
        wEnd += mc * cpg * T;
      }
      const free = wEnd + cpg * run.tl.planeSize;
      if (free + (quads * 4 + cpg * T) * 3 > WORKSPACE_DOUBLES) {
        throw new NetworkError(
          `layer '${state.layerName}': ${cpg} padded input maps of ${run.tl.planeSize} values per group do not fit the ` +
            `${WORKSPACE_DOUBLES}-value workspace of the fast dynamic kernels; run it with the 'reference' variant`,
        );
      }
      const pk: Packed = { g, o0, mc, quads, sq, wA: 0, wB, planes: wEnd, free };
      for (let img = 0; img < state.batch; img++) run.image(pk, img);
    }
  }
  counts.macsExecuted += run.macs;
  counts.otherOps += run.ops;
  return run.y;
}

/** One call of the fast layer: its output, counts, and per-image working state. */
class FastRun {
  readonly y: Float32Array;
  readonly grid: SdssGrid | null;
  readonly tl: TapLayout;
  macs = 0;
  ops = 0;
  private readonly geom: DynGeometry;
  private readonly layout: CorrectionLayout | null;
  /** Per output position: its border class (rowClass * nColClasses + colClass), when SFMA is on. */
  private readonly posClass: Int32Array | null;
  private readonly nClasses: number;
  /** Interpolation ops [0] and interpolated count [1] of the SDSS fast test. */
  private readonly sdssOut = new Float64Array(2);

  // Per image-chunk state (set by image()).
  private img = 0;
  private pk!: Packed;
  private kept!: Int32Array;
  private keptJ!: Int32Array;
  private hasDropped = false;
  private table: Float64Array | null = null;
  private bounds!: Float64Array;
  private sig: ChannelLists | null = null;
  private rest: ChannelLists | null = null;
  private readonly boundOps = new Float64Array(1);

  constructor(private readonly state: CallState, private readonly x: Float32Array, private readonly tiles: TileKernels) {
    const geom = state.geom;
    this.geom = geom;
    this.y = new Float32Array(state.batch * geom.outSize);
    this.grid = state.sdssStride > 0 ? sdssGrid(geom.outH, geom.outW, state.sdssStride) : null;
    this.tl = tapLayout(geom);
    this.layout = state.sfmaOn ? correctionLayout(geom) : null;
    this.nClasses = this.layout ? this.layout.nRowClasses * this.layout.nColClasses : 0;
    if (this.layout) {
      const pc = new Int32Array(geom.positions);
      for (let p = 0; p < geom.positions; p++) {
        const oy = Math.floor(p / geom.outW);
        pc[p] = this.layout.rowClass[oy] * this.layout.nColClasses + this.layout.colClass[p - oy * geom.outW];
      }
      this.posClass = pc;
    } else {
      this.posClass = null;
    }
  }

  /** Everything of image `img` for the rows of `pk`. */
  image(pk: Packed, img: number): void {
    const { state, geom } = this;
    const { cpg, group, inC, inSize, taps: T } = geom;
    const spet = state.spet;
    this.img = img;
    this.pk = pk;
    const kept = state.keptLists[img * group + pk.g];
    this.kept = kept;
    const nKept = kept.length;
    const keptJ = scratch.i32('keptJ', nKept);
    for (let k = 0; k < nKept; k++) keptJ[k] = k;
    this.keptJ = keptJ;
    const droppedList = state.droppedLists[img * group + pk.g];
    this.hasDropped = droppedList.length > 0;
    const dropOffset = img * inC + pk.g * cpg;
    this.tiles.padPlanes(this.x, img * inSize + pk.g * cpg * geom.planeSize, geom, this.tl, kept, nKept, pk.planes);
    const oAbs0 = pk.g * geom.m + pk.o0;

    this.table = null;
    if (this.hasDropped && this.layout) {
      this.table = scratch.f64('table', pk.mc * this.nClasses);
      this.ops += correctionTables(
        state.w.weight, geom, this.layout, oAbs0, pk.mc, droppedList, droppedList.length, state.means, dropOffset,
        this.table, scratch.f64('k', T),
      );
    }
    this.bounds = scratch.f64('bounds', pk.mc);
    if (spet && state.exact) {
      const dropped = this.hasDropped ? state.dropped : null;
      const ops = this.boundOps;
      ops[0] = 0;
      for (let i = 0; i < pk.mc; i++) this.bounds[i] = restBound(spet, cpg, oAbs0 + i, dropped, dropOffset, state.range, 2 * (img * inC + pk.g * cpg), ops);
      this.ops += ops[0];
    }
    this.sig = null;
    this.rest = null;
    if (spet) {
      if (!this.hasDropped) {
        let byChunk = fullLists.get(spet);
        if (!byChunk) {
          byChunk = new Map();
          fullLists.set(spet, byChunk);
        }
        const key = `${oAbs0}/${pk.mc}`;
        let lists = byChunk.get(key);
        if (!lists) {
          const all = new Int32Array(cpg);
          for (let c = 0; c < cpg; c++) all[c] = c;
          lists = {
            sig: channelLists(spet.sigChannels, spet.nSig, oAbs0, pk.mc, all),
            rest: channelLists(spet.restChannels, spet.nRest, oAbs0, pk.mc, all),
          };
          byChunk.set(key, lists);
        }
        this.sig = lists.sig;
        this.rest = lists.rest;
      } else {
        const keptIndex = scratch.i32('keptIndex', cpg);
        keptIndex.fill(-1, 0, cpg);
        for (let k = 0; k < nKept; k++) keptIndex[kept[k]] = k;
        this.sig = channelLists(spet.sigChannels, spet.nSig, oAbs0, pk.mc, keptIndex);
        this.rest = channelLists(spet.restChannels, spet.nRest, oAbs0, pk.mc, keptIndex);
      }
    }
    this.phaseA();
    if (this.grid) this.phaseB(this.grid);
  }

  /** bias[o] (+ the SFMA correction) of row i at position p: the reference's first terms. */
  private baseOf(i: number, bias: number, p: number): number {
    const table = this.table;
    const posClass = this.posClass;
    return table !== null && posClass !== null ? bias + table[i * this.nClasses + posClass[p]] : bias;
  }

  private biasOf(i: number): number {
    const b = this.state.w.bias;
    return b ? b[this.geom.m * this.pk.g + this.pk.o0 + i] : 0;
  }

  private get baseOps(): number {
    return (this.state.w.bias ? 1 : 0) + (this.hasDropped ? 1 : 0);
  }

  private yMap(i: number): number {
    return this.img * this.geom.outSize + (this.pk.g * this.geom.m + this.pk.o0 + i) * this.geom.positions;
  }

  /** Phase A: every row evaluates the grid (SDSS) or every position. */
  private phaseA(): void {
    const { geom, pk, kept, state, y, tl } = this;
    const { taps: T, positions: N } = geom;
    const WS = this.tiles.workspace();
    const nKept = kept.length;
    const list = this.grid ? this.grid.grid : null;
    const total = list ? list.length : N;
    // Per position: its patches and its partial sums.
    let chunk = Math.max(3, Math.floor((WORKSPACE_DOUBLES - pk.free) / (nKept * T + pk.quads * 4) / 3) * 3);
    if (chunk > total) chunk = total;
    const spet = state.spet;
    for (let s0 = 0; s0 < total; s0 += chunk) {
      const count = Math.min(chunk, total - s0);
      const ld = Math.ceil(count / 3) * 3;
      const xOff = pk.free;
      const chanStride = patchChannelStride(T);
      const pOff = xOff + nKept * ld * T;
      // Position bases; the lanes of a last partial tile repeat the first position (computed,
      // never read).
      const bases = scratch.i32('bases', ld);
      const pos = scratch.i32('pos', ld);
      for (let q = 0; q < ld; q++) {
        const p = q < count ? (list ? list[s0 + q] : s0 + q) : (list ? list[s0] : s0);
        pos[q] = p;
        bases[q] = tl.posBase[p];
      }
      this.tiles.buildPatches(geom, tl, pk.planes, nKept, bases, ld, xOff);
      // P = bias (+ correction); rows past mc are zero.
      for (let i = 0; i < pk.quads * 4; i++) {
        const row = pOff + i * ld;
        if (i >= pk.mc) {
          WS.fill(0, row, row + ld);
          continue;
        }
        const b = this.biasOf(i);
        if (this.table) {
          for (let q = 0; q < ld; q++) WS[row + q] = this.baseOf(i, b, pos[q]);
        } else {
          WS.fill(b, row, row + ld);
        }
      }
      this.ops += pk.mc * count * this.baseOps;

      if (!spet) {
        this.tiles.accumulatePanels(T, geom.cpg, kept, nKept, pk.wA, pk.quads, xOff, ld, pOff);
        this.macs += pk.mc * count * nKept * T;
        for (let i = 0; i < pk.mc; i++) {
          const map = this.yMap(i);
          const row = pOff + i * ld;
          if (list) for (let q = 0; q < count; q++) y[map + pos[q]] = WS[row + q];
          else y.set(WS.subarray(row, row + count), map + s0);
        }
        continue;
      }

      if (pk.sq) this.macs += count * this.tiles.accumulateSpetQuads(T, kept, nKept, pk.sq, pk.wB, geom.cpg * T, xOff, ld, pOff);
      const acc = scratch.f64('acc', count);
      const nb = scratch.i32('nb', count);
      const np = scratch.i32('np', count);
      const lanes = scratch.i32('lanes', count);
      for (let q = 0; q < count; q++) lanes[q] = patchLane(q, T, nKept);
      for (let i = 0; i < pk.mc; i++) {
        const row = pOff + i * ld;
        if (pk.sq) {
          // The quads added the significant channels: decide straight from P.
          const n = this.spetDecide(i, count, row, lanes, pos, acc, nb, np);
          this.spetComplete(i, xOff, chanStride, nb, np, n, acc);
        } else {
          // 1x1: the significant channels neuron by neuron, from the base in P.
          for (let q = 0; q < count; q++) {
            acc[q] = WS[row + q];
            nb[q] = lanes[q];
            np[q] = pos[q];
          }
          this.spetEvaluate(i, xOff, chanStride, nb, np, count, acc);
        }
      }
    }
  }

  /**
   * Adds to acc[0 .. count) the tap sums of row i's channels lists.c/j[from .. to): from packed
   * patches at xOff when xOff >= 0 (idx = lane offsets, np = positions), else from the planes
   * (idx = bases). Tile kernels that read neurons faster from the planes (`neuronsFromPlanes`:
   * consecutive positions are consecutive there) get the positions' plane bases instead of lanes:
   * the same values summed in the same order.
   */
  private accumulate(
    i: number, lists: ChannelLists | null, from: number, to: number,
    xOff: number, chanStride: number, idx: Int32Array, np: Int32Array, count: number, acc: Float64Array,
  ): void {
    const { geom, pk, tl } = this;
    const T = geom.taps;
    const wRow = pk.wB + i * geom.cpg * T;
    const c = lists ? lists.c : this.kept;
    const j = lists ? lists.j : this.keptJ;
    if (xOff >= 0 && !this.tiles.neuronsFromPlanes) this.tiles.accumulatePacked(wRow, T, c, j, from, to, xOff, chanStride, idx, count, acc);
    else {
      let bases = idx;
      if (xOff >= 0) {
        bases = scratch.i32('planeBases', count);
        for (let k = 0; k < count; k++) bases[k] = tl.posBase[np[k]];
      }
      // Plane reads serve SPET (per-channel order) and the SPET-free failing SDSS neurons (flat).
      const flat = lists === null;
      this.tiles.accumulatePlanes(wRow, geom.kernelH, geom.kernelW, tl.rowStep, tl.colStep, flat, c, j, from, to, pk.planes, tl.planeSize, bases, count, acc);
    }
    this.macs += count * (to - from) * T;
  }

  /**
   * Row i's `count` listed neurons (idx: lane offsets in the patches at xOff, or plane bases when
   * xOff < 0; np: positions; acc: their bases) through SPET, into y: the significant channels,
   * the test, the rest channels for the survivors.
   */
  private spetEvaluate(i: number, xOff: number, chanStride: number, idx: Int32Array, np: Int32Array, count: number, acc: Float64Array): void {
    const sig = this.sig as ChannelLists;
    this.accumulate(i, sig, sig.start[i], sig.start[i + 1], xOff, chanStride, idx, np, count, acc);
    const n = this.spetDecide(i, count, -1, idx, np, acc, idx, np);
    this.spetComplete(i, xOff, chanStride, idx, np, n, acc);
  }

  /**
   * The SPET test of row i's `count` neurons whose partial sums are WS[src + k] (src >= 0) or
   * acc[k], lane/base idxIn[k], position npIn[k]. Every neuron is written 0 in y (-addend through a
   * residual sum; survivors are overwritten by spetComplete) and the survivors are compacted, branch-free, to the front of
   * acc / idxOut / npOut (which may alias the inputs). Returns the survivor count.
   */
  private spetDecide(
    i: number, count: number, src: number, idxIn: Int32Array, npIn: Int32Array,
    acc: Float64Array, idxOut: Int32Array, npOut: Int32Array,
  ): number {
    const { state, y } = this;
    const WS = this.tiles.workspace();
    const map = this.yMap(i);
    const threshold = state.threshold;
    const bound = this.bounds[i];
    const exact = state.exact;
    const trace = state.trace;
    // Traced: every tested neuron is marked terminated here, the survivors evaluated again below
    // (the compaction may overwrite npIn, which can alias npOut).
    if (trace) for (let k = 0; k < count; k++) trace[map + npIn[k]] = NEURON_SPET_TERMINATED;
    let n = 0;
    const addend = state.addend;
    if (addend) {
      // Through a residual sum: the test reads s + addend, the terminated store -addend (as the reference).
      for (let k = 0; k < count; k++) {
        const s = src >= 0 ? WS[src + k] : acc[k];
        const p = npIn[k];
        const a = addend[map + p];
        y[map + p] = -a;
        acc[n] = s;
        idxOut[n] = idxIn[k];
        npOut[n] = p;
        n += exact ? +!(s + a + bound < 0) : +!(s + a < threshold);
      }
    } else {
      // spetTerminates(), inlined by hand: n advances past survivors only.
      for (let k = 0; k < count; k++) {
        const s = src >= 0 ? WS[src + k] : acc[k];
        const p = npIn[k];
        y[map + p] = 0;
        acc[n] = s;
        idxOut[n] = idxIn[k];
        npOut[n] = p;
        n += exact ? +!(s + bound < 0) : +!(s < threshold);
      }
    }
    if (trace) for (let k = 0; k < n; k++) trace[map + npOut[k]] = NEURON_EVALUATED;
    state.tally.spetNeurons += count;
    state.tally.spetTerminated += count - n;
    this.ops += count * spetTestOps(exact);
    return n;
  }

  /** Adds row i's rest channels to its n surviving neurons and writes them to y. */
  private spetComplete(i: number, xOff: number, chanStride: number, idx: Int32Array, np: Int32Array, n: number, acc: Float64Array): void {
    const rest = this.rest as ChannelLists;
    this.accumulate(i, rest, rest.start[i], rest.start[i + 1], xOff, chanStride, idx, np, n, acc);
    const map = this.yMap(i);
    const y = this.y;
    for (let k = 0; k < n; k++) y[map + np[k]] = acc[k];
  }

  /**
   * Phase B: the SDSS test of every non-grid neuron, then the failing ones. Without SPET, where 4
   * rows x 3 positions all failed, the block runs as a 4 x 3 tile over packed patches (the same
   * sums in the same order, ~1.6x faster than neuron by neuron); the rest neuron by neuron from
   * the planes. SPET's per-row channel lists leave no common tile, so with SPET every failing
   * neuron goes neuron by neuron.
   */
  private phaseB(grid: SdssGrid): void {
    const { geom, pk, kept, state, y, tl } = this;
    const N = geom.positions;
    const nKept = kept.length;
    const nOthers = grid.others.length;
    const fail = scratch.i32('fail', pk.mc * nOthers);
    const nFail = scratch.i32('nFail', pk.mc);
    const out = this.sdssOut;
    out[0] = 0;
    out[1] = 0;
    const trace = state.trace;
    for (let i = 0; i < pk.mc; i++) {
      if (state.sdssRectified) this.ops += rectifyGrid(y, this.yMap(i), grid);
      nFail[i] = sdssTestMap(y, this.yMap(i), grid, state.sdssDelta, fail, i * nOthers, out);
      if (trace) {
        // Every non-grid neuron interpolated but the failing ones (SPET may mark those later).
        const map = this.yMap(i);
        for (let k = 0; k < nOthers; k++) trace[map + grid.others[k]] = NEURON_SDSS_INTERPOLATED;
        for (let k = 0; k < nFail[i]; k++) trace[map + fail[i * nOthers + k]] = NEURON_EVALUATED;
      }
    }
    this.ops += pk.mc * grid.testOps + out[0];
    state.tally.sdssInterpolated += out[1];
    state.tally.sdssOutputs += pk.mc * N;
    if (!state.spet && nKept > 0) this.failingTiles(grid, fail, nFail);

    const acc = scratch.f64('acc', nOthers);
    const nb = scratch.i32('nb', nOthers);
    const np = scratch.i32('np', nOthers);
    const baseOps = this.baseOps;
    const posBase = tl.posBase;
    for (let i = 0; i < pk.mc; i++) {
      const n = nFail[i];
      if (n === 0) continue;
      const b = this.biasOf(i);
      for (let k = 0; k < n; k++) {
        const p = fail[i * nOthers + k];
        acc[k] = this.baseOf(i, b, p);
        nb[k] = posBase[p];
        np[k] = p;
      }
      this.ops += n * baseOps;
      if (state.spet) {
        this.spetEvaluate(i, -1, 0, nb, np, n, acc);
      } else {
        this.accumulate(i, null, 0, nKept, -1, 0, nb, np, n, acc);
        const map = this.yMap(i);
        for (let k = 0; k < n; k++) y[map + np[k]] = acc[k];
      }
    }
  }

  /**
   * Evaluates, as 4 x 3 tiles, the blocks of 4 rows x 3 consecutive non-grid positions that all
   * failed the SDSS test, and removes them from the rows' failing lists. Skipped when such blocks
   * are too few to pay for the patches of the non-grid positions (or those do not fit).
   */
  private failingTiles(grid: SdssGrid, fail: Int32Array, nFail: Int32Array): void {
    const { geom, pk, kept, y, tl } = this;
    const WS = this.tiles.workspace();
    const T = geom.taps;
    const nKept = kept.length;
    const others = grid.others;
    const nOthers = others.length;
    const ld = Math.ceil(nOthers / 3) * 3;
    const fullQuads = pk.mc >> 2;
    if (fullQuads === 0 || nOthers < 3) return;
    // failed[i * ld + k]: row i failed at others[k].
    const failed = scratch.i32('failed', fullQuads * 4 * ld);
    failed.fill(0, 0, fullQuads * 4 * ld);
    const otherIndex = this.otherIndex(grid);
    for (let i = 0; i < fullQuads * 4; i++) {
      for (let k = 0; k < nFail[i]; k++) failed[i * ld + otherIndex[fail[i * nOthers + k]]] = 1;
    }
    // The blocks (quad, first position) that all failed.
    const blocks = scratch.i32('blocks', 2 * fullQuads * (ld / 3));
    let full = 0;
    for (let qd = 0; qd < fullQuads; qd++) {
      for (let k = 0; k + 3 <= nOthers; k += 3) {
        blocks[2 * full] = qd;
        blocks[2 * full + 1] = k;
        full += this.blockFailed(failed, qd, k, ld);
      }
    }
    // Worth it when the tiled neurons outweigh the patch copies (~5 copies cost one tiled MAC saved).
    const xOff = pk.free;
    const pOff = xOff + nKept * T * ld;
    if (full * 12 < 5 * nOthers || pOff + 12 > WORKSPACE_DOUBLES) return;
    const bases = scratch.i32('bases', ld);
    for (let k = 0; k < ld; k++) bases[k] = tl.posBase[others[k < nOthers ? k : 0]];
    this.tiles.buildPatches(geom, tl, pk.planes, nKept, bases, ld, xOff);
    for (let f = 0; f < full; f++) {
      const qd = blocks[2 * f];
      const k = blocks[2 * f + 1];
      for (let r = 0; r < 4; r++) {
        const b = this.biasOf(qd * 4 + r);
        for (let l = 0; l < 3; l++) WS[pOff + r * 3 + l] = this.table ? this.baseOf(qd * 4 + r, b, others[k + l]) : b;
      }
      this.tiles.accumulateQuadTile(T, geom.cpg, kept, nKept, pk.wA, qd, xOff, k, pOff, 3);
      for (let r = 0; r < 4; r++) {
        const map = this.yMap(qd * 4 + r);
        const row = (qd * 4 + r) * ld + k;
        for (let l = 0; l < 3; l++) {
          y[map + others[k + l]] = WS[pOff + r * 3 + l];
          failed[row + l] = 0;
        }
      }
    }
    this.macs += full * 12 * nKept * T;
    this.ops += full * 12 * this.baseOps;
    // The rows' lists keep the neurons no tile took (in the same order).
    for (let i = 0; i < fullQuads * 4; i++) {
      let n = 0;
      for (let k = 0; k < nFail[i]; k++) {
        const p = fail[i * nOthers + k];
        fail[i * nOthers + n] = p;
        n += failed[i * ld + otherIndex[p]];
      }
      nFail[i] = n;
    }
  }

  /** 1 when rows 4qd .. 4qd + 3 all failed at others[k .. k + 2]. */
  private blockFailed(failed: Int32Array, qd: number, k: number, ld: number): number {
    let all = 1;
    for (let r = 0; r < 4; r++) {
      const row = (qd * 4 + r) * ld + k;
      all &= failed[row] & failed[row + 1] & failed[row + 2];
    }
    return all;
  }

  /** Per output position: its index in grid.others (cached per grid). */
  private otherIndex(grid: SdssGrid): Int32Array {
    let idx = otherIndices.get(grid);
    if (!idx) {
      idx = new Int32Array(grid.height * grid.width);
      grid.others.forEach((p, k) => {
        (idx as Int32Array)[p] = k;
      });
      otherIndices.set(grid, idx);
    }
    return idx;
  }
}

const otherIndices = new WeakMap<SdssGrid, Int32Array>();
