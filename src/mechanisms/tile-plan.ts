/**
 * Tile mode (DYVEDEEP.md "Tile mode"): what one layer's tile-mode kernels share, offline and per
 * image. Our fixed semantics, per image and group of a Convolution layer (T = tile positions):
 * - ONE significance order of the group's input channels: channel c by the sum over the group's
 *   output channels o of ||w[o, c, :]||_1, times SPET's inputScale[c] when the profile gives one
 *   (the calibration set's mean |x_c|), largest first (ties: lower c first). The first
 *   ceil(fraction x cpg) channels of the order are SIGNIFICANT (SPET off: all of them). SFMA's
 *   dropped maps leave both parts; the kept ones stay in the order ("kept order"), so the
 *   significant part is a contiguous K-prefix of the weights permuted once per layer.
 * - Evaluating a list of positions (all positions in row-major order; with SDSS the grid): per
 *   output channel o, tiles of T consecutive entries of the list (the last may be shorter). Each
 *   neuron gets s = bias + SFMA correction + its sum over the significant kept channels. SPET
 *   threshold mode: the tile is SATURATED when every s < threshold (o's own
 *   threshold when the profile gives one per channel); exact mode when every s < -B_o,
 *   B_o the most o's rest kept channels can add (spet.ts, per-channel input ranges). A saturated
 *   tile is all 0 (the rest skipped); any other tile adds the rest for all its neurons (exact).
 * - SDSS: the grid is evaluated as above (listed in sdssTileOrder's order: the square grid's,
 *   tileSdssOrder, or the checkerboard's, checkerboardOrder; stored rectified on a rectified
 *   layer), then the other positions, in that order, per o, in tiles of T consecutive entries:
 *   every neuron takes sdss.ts's neighbour test; a tile where all pass is interpolated, any other
 *   tile is evaluated (with SPET's tile test).
 * - Counting, as executed, tile by tile: MACs of every evaluated tile's neurons over the channels
 *   evaluated (padding taps included, as on the dense path); ops: bias and correction adds per
 *   evaluated neuron, one SPET test per neuron of a tested tile (exact: two), the exact bounds (4
 *   per rest kept channel and output channel), the SDSS tests, interpolations and grid
 *   rectification, the SFMA statistics and correction tables.
 */
import type { LayerWeights } from '../ir/network.js';
import type { DynGeometry } from './geometry.js';
import type { SdssPattern } from '../effort/effort.js';
import { sdssGrid, sdssTestOps, type SdssGrid } from './sdss.js';
import { significantCount } from './spet.js';

/** The offline part of tile mode for one layer and one SPET fraction (1 with SPET off). */
export interface TilePlan {
  /** Significant channels per group: ceil(fraction x cpg). */
  readonly nSig: number;
  /** Per group g, the group-relative channels in significance order: index g * cpg + j. */
  readonly order: Int32Array;
  /** The weights with each group's channels permuted into `order`: row o, channel j, tap t at (o * cpg + j) * taps + t. */
  readonly permuted: Float32Array;
  /** Sum over the taps of max(w, 0), index o * cpg + c (c group-relative, original order): the exact bound. */
  readonly posSum: Float64Array;
  /** Sum over the taps of min(w, 0), same index. */
  readonly negSum: Float64Array;
}

const plans = new WeakMap<LayerWeights, Map<string, TilePlan>>();
const byScale = new WeakMap<readonly number[], { weights: LayerWeights; fraction: number; plan: TilePlan }>();

/**
 * The tile plan of a layer for an SPET `fraction` (1 when SPET is off) and input channel weights
 * `inputScale` (SpetKnobs; none: all 1), built once per weights, fraction and scale.
 */
export function tilePlan(weights: LayerWeights, geom: DynGeometry, fraction: number, inputScale?: readonly number[]): TilePlan {
  let byKey = plans.get(weights);
  if (!byKey) {
    byKey = new Map();
    plans.set(weights, byKey);
  }
  // A profile's scale array is one object for its lifetime: looked up by identity first, so a
  // call does not build the string key (a batch of one pays per call).
  const known = inputScale ? byScale.get(inputScale) : undefined;
  if (known && known.weights === weights && known.fraction === fraction) return known.plan;
  const key = inputScale ? `${fraction}|${inputScale.join(',')}` : `${fraction}`;
  let plan = byKey.get(key);
  if (!plan) {
    plan = buildPlan(weights.weight, geom, fraction, inputScale);
    byKey.set(key, plan);
  }
  if (inputScale) byScale.set(inputScale, { weights, fraction, plan });
  return plan;
}

function buildPlan(w: Float32Array, geom: DynGeometry, fraction: number, inputScale: readonly number[] | undefined): TilePlan {
  const { outC, cpg, taps, m, group } = geom;
  const order = new Int32Array(group * cpg);
  const permuted = new Float32Array(outC * cpg * taps);
  const posSum = new Float64Array(outC * cpg);
  const negSum = new Float64Array(outC * cpg);
  const significance = new Float64Array(cpg);
  for (let g = 0; g < group; g++) {
    significance.fill(0);
    for (let o = g * m; o < (g + 1) * m; o++) {
      for (let c = 0; c < cpg; c++) {
        let l1 = 0;
        let pos = 0;
        let neg = 0;
        const base = (o * cpg + c) * taps;
        for (let t = 0; t < taps; t++) {
          const v = w[base + t];
          l1 += Math.abs(v);
          if (v > 0) pos += v;
          else neg += v;
        }
        significance[c] += l1;
        posSum[o * cpg + c] = pos;
        negSum[o * cpg + c] = neg;
      }
    }
    if (inputScale) for (let c = 0; c < cpg; c++) significance[c] *= inputScale[g * cpg + c];
    const sorted = Array.from({ length: cpg }, (_, c) => c).sort((a, b) => (significance[b] - significance[a]) || (a - b));
    order.set(sorted, g * cpg);
    for (let o = g * m; o < (g + 1) * m; o++) {
      sorted.forEach((c, j) => permuted.set(w.subarray((o * cpg + c) * taps, (o * cpg + c + 1) * taps), (o * cpg + j) * taps));
    }
  }
  return { nSig: significantCount(fraction, cpg), order, permuted, posSum, negSum };
}

const indexRanges = new Map<number, Int32Array>();

/**
 * 0 .. n - 1, cached per n and shared (read it, never write it): the list of pass 1 without SDSS
 * (every position row-major), the channels of a group that keeps every map.
 */
export function indexRange(n: number): Int32Array {
  let list = indexRanges.get(n);
  if (!list) {
    list = Int32Array.from({ length: n }, (_, p) => p);
    indexRanges.set(n, list);
  }
  return list;
}

/** One image and group's channels in kept order, and how many of them are significant. */
export interface KeptOrder {
  /** Group-relative channels, kept ones only, in significance order. */
  readonly channels: Int32Array;
  /** Their positions in the group's order (the blocks of the permuted weights' rows). */
  readonly positions: Int32Array;
  /** How many of `channels` are significant (a prefix). */
  readonly nPrefix: number;
}

/**
 * The kept order of group g of one image: `dropped` flags the image's input channels (absolute
 * index, from `dropOffset`), or is null when SFMA is off. Where no channel of the group is dropped
 * the order is the plan's own, built once per plan and group (built per image, cifar10-quick's
 * conv2 spent 0.28 ms of a call at batch 64 on it, against 0.01 ms now).
 */
export function keptOrder(plan: TilePlan, cpg: number, g: number, dropped: Uint8Array | null, dropOffset: number): KeptOrder {
  let nKept = cpg;
  if (dropped !== null) {
    for (let c = 0; c < cpg; c++) if (dropped[dropOffset + g * cpg + c]) nKept--;
  }
  if (nKept === cpg) return wholeOrder(plan, cpg, g);
  const channels = new Int32Array(nKept);
  const positions = new Int32Array(nKept);
  let nPrefix = 0;
  let k = 0;
  for (let j = 0; j < cpg; j++) {
    const c = plan.order[g * cpg + j];
    if (dropped !== null && dropped[dropOffset + g * cpg + c]) continue;
    channels[k] = c;
    positions[k++] = j;
    if (j < plan.nSig) nPrefix++;
  }
  return { channels, positions, nPrefix };
}

const wholeOrders = new WeakMap<TilePlan, KeptOrder[]>();

/** Group g's order when every channel is kept (cached per plan and group). */
function wholeOrder(plan: TilePlan, cpg: number, g: number): KeptOrder {
  let perGroup = wholeOrders.get(plan);
  if (!perGroup) {
    perGroup = [];
    wholeOrders.set(plan, perGroup);
  }
  let order = perGroup[g];
  if (!order) {
    order = {
      channels: plan.order.slice(g * cpg, (g + 1) * cpg),
      positions: indexRange(cpg),
      nPrefix: Math.min(plan.nSig, cpg),
    };
    perGroup[g] = order;
  }
  return order;
}

/**
 * The exact-mode bound B_o of output channel o (absolute): the most o's rest kept channels can
 * add, sum of P[o, c] hi_c + N[o, c] lo_c over `kept.channels` past the prefix, with the group's
 * channel ranges at ranges[rangeAt + 2c]. Four ops per channel.
 */
export function tileRestBound(plan: TilePlan, cpg: number, o: number, kept: KeptOrder, ranges: Float64Array, rangeAt: number): number {
  let b = 0;
  for (let j = kept.nPrefix; j < kept.channels.length; j++) {
    const c = kept.channels[j];
    b += plan.posSum[o * cpg + c] * ranges[rangeAt + 2 * c + 1] + plan.negSum[o * cpg + c] * ranges[rangeAt + 2 * c];
  }
  return b;
}

/** Ops of one tileRestBound over `kept`. */
export function tileRestBoundOps(kept: KeptOrder): number {
  return 4 * (kept.channels.length - kept.nPrefix);
}

/**
 * Per non-grid position of an SDSS grid, in `others` order: its 4 neighbours (a neighbour pair
 * (a, b) is stored as a, b, a, b: max - min and the mean ((a + b) + (a + b)) / 4 are those of the
 * pair, exactly) and its neighbour count.
 */
export interface NeighbourTable {
  readonly neighbours: Int32Array;
  readonly counts: Uint8Array;
}

/**
 * SDSS's positions in tile mode's order, with the neighbours of the positions off the grid (the
 * square grid's order: tileSdssOrder; the checkerboard's: checkerboardOrder).
 */
export interface TileSdssOrder {
  /** The evaluated positions (square grid: those on a regular grid column row-major, then the last column's). */
  readonly grid: Int32Array;
  /** The interpolated-or-evaluated positions (square grid: those of rows off the grid row-major, then those on grid rows). */
  readonly others: Int32Array;
  /** Neighbours of `others`, in its order. */
  readonly neighbours: NeighbourTable;
  /** Ops of the test of each of `others` (sdss.ts sdssTestOps of its neighbour count). */
  readonly testOps: Uint8Array;
}

const orders = new WeakMap<SdssGrid, Map<number, TileSdssOrder>>();

/**
 * The order tile mode lists SDSS's positions in (its tiles are T consecutive entries): runs of
 * positions equally spaced on one output row come first, so that a tile of a map 8 or 16 wide is
 * one such run, which the kernels gather with vector loads (a row off the grid: every position;
 * a grid row: every stride-th); the stragglers (the last column's grid positions, the positions
 * between grid columns on grid rows) follow.
 */
export function tileSdssOrder(grid: SdssGrid, stride: number): TileSdssOrder {
  let byStride = orders.get(grid);
  if (!byStride) {
    byStride = new Map();
    orders.set(grid, byStride);
  }
  let order = byStride.get(stride);
  if (!order) {
    const w = grid.width;
    const regular = (p: number) => (p % w) % stride === 0;
    const onGridRow = (p: number) => grid.gridRow[Math.floor(p / w)] === 1;
    const gridList = [...grid.grid.filter(regular), ...grid.grid.filter((p) => !regular(p))];
    const others = [...grid.others.filter((p) => !onGridRow(p)), ...grid.others.filter(onGridRow)];
    const table = neighbourTable(grid);
    const at = new Map(Array.from(grid.others, (p, i) => [p, i]));
    const neighbours = new Int32Array(4 * others.length);
    const counts = new Uint8Array(others.length);
    others.forEach((p, j) => {
      const i = at.get(p) as number;
      neighbours.set(table.neighbours.subarray(4 * i, 4 * i + 4), 4 * j);
      counts[j] = table.counts[i];
    });
    order = {
      grid: Int32Array.from(gridList), others: Int32Array.from(others), neighbours: { neighbours, counts },
      testOps: Uint8Array.from(counts, (n) => sdssTestOps(n)),
    };
    byStride.set(stride, order);
  }
  return order;
}

/**
 * Tile mode's SDSS order of an H x W map for `stride` and `pattern` (SdssKnobs): the square
 * grid's (tileSdssOrder) or the checkerboard's (checkerboardOrder).
 */
export function sdssTileOrder(height: number, width: number, stride: number, pattern: SdssPattern = 'square'): TileSdssOrder {
  return pattern === 'checkerboard' ? checkerboardOrder(height, width) : tileSdssOrder(sdssGrid(height, width, stride), stride);
}

const checkerboards = new Map<string, TileSdssOrder>();

/**
 * The checkerboard pattern of an H x W map (cached per shape). Grid: the positions whose row +
 * column is even, row-major; off the grid: the rest, row-major (on a row, both lists step by 2, so
 * a tile of a map 8 or more wide lies on one row). An off-grid position's neighbours are its left,
 * right, upper and lower positions, all on the grid; on the border a missing one is replaced by
 * its opposite (mirrored: an edge position is tested on its three neighbours, the inner one
 * weighing double in the mean), and in a map one position high or wide the missing pair by the
 * other pair. Measured against taking only the two neighbours along an edge: on cifar10-quick's
 * conv3 (8x8 maps: 14 of 32 off-grid positions on the border) 0.48 instead of 0.86 pp top-1
 * drop at the same MACs (10,000 calibration images, conv2's SDSS on). Stored as NeighbourTable
 * stores the square grid's pairs (4 entries, repeated), with the count of distinct neighbours.
 */
export function checkerboardOrder(height: number, width: number): TileSdssOrder {
  const key = `${height}x${width}`;
  let order = checkerboards.get(key);
  if (!order) {
    const grid: number[] = [];
    const others: number[] = [];
    const neighbours: number[] = [];
    const counts: number[] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        if ((y + x) % 2 === 0) {
          grid.push(p);
          continue;
        }
        const left = x > 0 ? p - 1 : p + 1;
        const right = x < width - 1 ? p + 1 : p - 1;
        const up = y > 0 ? p - width : p + width;
        const down = y < height - 1 ? p + width : p - width;
        // A map one wide has no left or right (a value past its row), one high no up or down.
        const n = width === 1 ? [up, down, up, down] : height === 1 ? [left, right, left, right] : [left, right, up, down];
        others.push(p);
        counts.push(new Set(n).size);
        neighbours.push(...n);
      }
    }
    order = {
      grid: Int32Array.from(grid), others: Int32Array.from(others),
      neighbours: { neighbours: Int32Array.from(neighbours), counts: Uint8Array.from(counts) },
      testOps: Uint8Array.from(counts, (n) => sdssTestOps(n)),
    };
    checkerboards.set(key, order);
  }
  return order;
}

const neighbourTables = new WeakMap<SdssGrid, NeighbourTable>();

/** The neighbour table of a grid (cached per grid). */
export function neighbourTable(grid: SdssGrid): NeighbourTable {
  let t = neighbourTables.get(grid);
  if (!t) {
    const byPosition = new Map<number, number[]>();
    for (let k = 0; k < grid.pairs.length; k += 3) {
      byPosition.set(grid.pairs[k], [grid.pairs[k + 1], grid.pairs[k + 2], grid.pairs[k + 1], grid.pairs[k + 2]]);
    }
    for (let k = 0; k < grid.cells.length; k += 5) byPosition.set(grid.cells[k], Array.from(grid.cells.subarray(k + 1, k + 5)));
    const neighbours = new Int32Array(4 * grid.others.length);
    const counts = new Uint8Array(grid.others.length);
    grid.others.forEach((p, i) => {
      const n = byPosition.get(p);
      if (!n) throw new Error(`SDSS grid: position ${p} has no neighbours`);
      neighbours.set(n, 4 * i);
      counts[i] = grid.gridRow[Math.floor(p / grid.width)] || grid.gridCol[p % grid.width] ? 2 : 4;
    });
    t = { neighbours, counts };
    neighbourTables.set(grid, t);
  }
  return t;
}
