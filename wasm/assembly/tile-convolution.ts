/**
 * A tile-mode DyVEDeep Convolution on a batch (semantics: src/mechanisms/tile-plan.ts; host side:
 * src/backends/cpu/wasm/tile-convolution.ts). Everything runs in float32 on the dense kernels'
 * building blocks:
 * - per image and group, the kept input maps are copied (zero-padded) in significance order, so
 *   the significant part is a K-prefix of the implicit im2col and of the permuted weights;
 * - pass 1 is the dense GEMM (gemm.ts) over that prefix for every output channel and listed
 *   position (all positions, or the SDSS grid): s = bias + prefix, plus SFMA's correction;
 * - the tile test: per output channel and T consecutive list entries, saturated when every s is
 *   below the channel's limit (all set to 0; through a residual sum every s + addend, and the
 *   neurons set to -addend); the survivors of a tile are LISTED output channels
 *   whose rest is added by the row micro-kernels (row-kernels.ts) over the tile's gathered rest
 *   panels, four channels at a time: output channels stay apart, each loaded input feeds four.
 *   Where every channel of a full tile survives, the packed rest runs the dense micro-kernels;
 * - SDSS: after the grid, per tile of T positions off the grid, the neighbour test of every
 *   neuron; a failing tile's channels are evaluated whole (prefix, test, rest) over gathered panels;
 * - T = 1 (every neuron decides alone): the neurons still to compute are collected per position
 *   and finished by dot products over the position's patch (evaluateOthersNeurons);
 * - T = 2 or 4 with SDSS alone: a failing tile's channels are finished by dot products over the
 *   kept planes stored channels last, two channels x a tile of four positions per pass (four
 *   channels x two positions for tiles of 2; evaluateSmallTile): a window row is contiguous
 *   there, so nothing is gathered per tile.
 * The host computes the per-image quantities (kept order, SPET limits, SFMA corrections) in float64
 * and counts what they cost; this file counts MACs and the per-neuron ops it executes.
 */
import { copyBytes } from './copy';
import { B_IM2COL, gemm, gemmScratchBytes, KC } from './gemm';
import { im2colPanel, setIm2colAllColumns, setIm2colColumns, setIm2colGeometry, setIm2colSource } from './im2col';
import { INIT_FROM_C, INIT_ROW_BIAS, tile } from './microkernels';
import { panelCount, panelRows } from './panels';
import { packRowPanels } from './pack';
import { dot1, dot1x4, dots2x4, dots4, dots4x2, rows1x8, rows2x8, rows4x8 } from './row-kernels';

/**
 * The layer, its plan and buffers, written by the host as consecutive 32-bit fields in this order
 * (src/backends/cpu/wasm/tile-convolution.ts mirrors it). Addresses are byte offsets.
 */
@unmanaged
export class TileDesc {
  batch: i32;
  /** batch x inC x inH x inW float32. */
  x: u32;
  /** batch x outC x outH x outW float32, written. */
  y: u32;
  inC: i32;
  inH: i32;
  inW: i32;
  outC: i32;
  outH: i32;
  outW: i32;
  kernelH: i32;
  kernelW: i32;
  strideH: i32;
  strideW: i32;
  padH: i32;
  padW: i32;
  dilationH: i32;
  dilationW: i32;
  group: i32;
  /** The permuted weights: row o, order position j, tap t at (o * cpg + j) * taps + t (float32). */
  rows: u32;
  /**
   * Per group (m x cpg x taps values each): its rows' first `prefix` order positions packed in row
   * panels (pack.ts), then the rest likewise: the GEMM of pass 1, and tiles where every channel survives.
   */
  packed: u32;
  /** Order positions in `packed` per group: SPET's significant count, or cpg with SPET off. */
  prefix: i32;
  /** outC float32 (zeros without a bias). */
  bias: u32;
  /** Per group, its channels in significance order (group-relative int32). */
  order: u32;
  /** Per image and group (img * group + g): how many channels are kept (int32). */
  kept: u32;
  /** Per image and group: how many of them are significant (int32; = kept with SPET off). */
  keptPrefix: u32;
  /** Per image and group, cpg int32: the kept channels' ORDER POSITIONS, in order. */
  keptPositions: u32;
  /** 1: SPET's tile test is on. */
  spet: i32;
  /** Per image and output channel: the SPET limit (a tile saturates when every s < limit), float32. */
  limits: u32;
  /** Per image, output channel and position: SFMA's correction (float32), read where maps were dropped. */
  corr: u32;
  /**
   * SPET through a residual sum: per image, output channel and position (indexed like y), the sum's
   * other operand (float32), or 0. The test reads s + addend and a saturated neuron stores -addend.
   */
  addend: u32;
  /** Positions of pass 1 (int32, row-major): all, or the SDSS grid. */
  list: u32;
  listCount: i32;
  /** 1: SDSS is on; the positions off the grid (int32) and their 4 neighbours each (int32). */
  sdss: i32;
  others: u32;
  othersCount: i32;
  neighbours: u32;
  /** Per position off the grid: the ops of its test (uint8 array). */
  testOps: u32;
  delta: f32;
  /** 1: the grid is stored rectified. */
  rectified: i32;
  /** Tile positions T (1, 2, 4 or a multiple of 8; below 8 the panels are partly filled). */
  tile: i32;
  /** Ops per evaluated neuron besides MACs: bias add, SPET test (the SFMA correction add comes on top). */
  neuronOps: i32;
  /** uint8 per output neuron (0 evaluated, 1 SPET terminated, 2 SDSS interpolated), or 0. */
  trace: u32;
  /** float64 x 4, added to: MACs, other ops, neurons SPET tested, neurons SPET terminated. */
  counters: u32;
  /** float64 x 2, added to: interpolated neurons, interpolation ops. */
  sdssCounters: u32;
  /**
   * The rows (`rows`) channels last, [o][ky][kx][c], cached per layer by the host
   * (channelsLastRows per group): what the small tiles' dots read when no map is dropped.
   */
  hwcRows: u32;
  /** tileConvolutionScratchBytes(desc) bytes, 16-aligned. */
  scratch: u32;
}

// @ts-ignore: decorator
@inline
function align16(bytes: usize): usize {
  return (bytes + 15) & ~(<usize>15);
}

/**
 * The scratch regions of the current call, in order (module globals: the module has no allocator,
 * and the host owns the memory above heapBase()).
 */
let kTableAt: usize = 0;
let nTableAt: usize = 0;
let listTableAt: usize = 0;
let othersTableAt: usize = 0;
let gemmAt: usize = 0;
let edgeAt: usize = 0;
let planesAt: usize = 0;
let keptRowsAt: usize = 0;
let keptPackedAt: usize = 0;
let gridAt: usize = 0;
let panelsAt: usize = 0;
let sAt: usize = 0;
let rowListAt: usize = 0;
let patchAt: usize = 0;
let csrRowsAt: usize = 0;
let csrSumsAt: usize = 0;
let csrPosAt: usize = 0;
let csrStartAt: usize = 0;
let csrIndexAt: usize = 0;
let gridTAt: usize = 0;
let gridIndexAt: usize = 0;
let neighbourIndexAt: usize = 0;
let meansAt: usize = 0;
let masksAt: usize = 0;
let hwcAt: usize = 0;
let hwcRowsAt: usize = 0;
/** Scratch for the rows channels last of an image whose kept maps are not all of them. */
let keptHwcRowsAt: usize = 0;
let dotsOutAt: usize = 0;
let endAt: usize = 0;
/** The kept planes channels-last (hwcAt) and the rows in the same order (hwcRowsAt) are ready. */
let hwcReady: bool = false;
let hwcKept: i32 = 0;
let hwcPw: i32 = 0;

/**
 * SDSS's failing tiles of 2 or 4 positions run the channels-last dots (evaluateSmallTile) when
 * nothing splits K (no SPET) and a window row is contiguous there (unit dilation across a row).
 */
function smallTiles(d: TileDesc): bool {
  return d.sdss != 0 && d.tile > 1 && d.tile < 8 && d.spet == 0 && d.dilationW == 1;
}

/**
 * Row i of the 4 x 4 transpose of rows r0..r3 (its lane k is lane i of r_k): how the kernels turn
 * four channels x four positions into four positions x four channels and back, in registers.
 */
// @ts-ignore: decorator
@inline
function transposed(r0: v128, r1: v128, r2: v128, r3: v128, i: i32): v128 {
  if (i == 0) return i64x2.shuffle(i32x4.shuffle(r0, r1, 0, 4, 1, 5), i32x4.shuffle(r2, r3, 0, 4, 1, 5), 0, 2);
  if (i == 1) return i64x2.shuffle(i32x4.shuffle(r0, r1, 0, 4, 1, 5), i32x4.shuffle(r2, r3, 0, 4, 1, 5), 1, 3);
  if (i == 2) return i64x2.shuffle(i32x4.shuffle(r0, r1, 2, 6, 3, 7), i32x4.shuffle(r2, r3, 2, 6, 3, 7), 0, 2);
  return i64x2.shuffle(i32x4.shuffle(r0, r1, 2, 6, 3, 7), i32x4.shuffle(r2, r3, 2, 6, 3, 7), 1, 3);
}

/**
 * Weight rows channels last: m rows of nKept x taps values (`ldRow` bytes apart, [j][ky][kx]) into
 * `dst` as [o][ky][kx][j]. Per call for the kept maps of an image that drops some; the host caches
 * it per layer for all maps (TileDesc.hwcRows).
 */
export function channelsLastRows(src: usize, ldRow: usize, m: i32, nKept: i32, taps: i32, dst: usize): void {
  for (let o = 0; o < m; o++) {
    const from = src + <usize>o * ldRow;
    const to = dst + <usize>o * nKept * taps * 4;
    for (let j = 0; j < nKept; j++) {
      for (let t = 0; t < taps; t++) f32.store(to + (<usize>t * nKept + j) * 4, f32.load(from + (<usize>j * taps + t) * 4));
    }
  }
}

/**
 * The kept planes (planesAt, nKept planes of `area` values) channels last into hwcAt: value
 * (y, x, j) at (y * pw + x) * nKept + j, so a window row is kernelW x nKept contiguous values;
 * with `rows`, the kept weight rows in the same order into hwcRowsAt ([o][ky][kx][j]).
 */
function channelsLast(nKept: i32, area: i32, planeBytes: usize, m: i32, taps: i32, pw: i32, rows: bool): void {
  // Blocks of 4 planes x 4 positions, transposed in registers; the rest one value at a time.
  const j4 = nKept & ~3;
  const a4 = area & ~3;
  const ld = <usize>nKept * 4;
  for (let j = 0; j < j4; j += 4) {
    const p0 = planesAt + <usize>j * planeBytes;
    const p1 = p0 + planeBytes, p2 = p1 + planeBytes, p3 = p2 + planeBytes;
    for (let yx = 0; yx < a4; yx += 4) {
      const at = <usize>yx * 4;
      const r0 = v128.load(p0 + at), r1 = v128.load(p1 + at), r2 = v128.load(p2 + at), r3 = v128.load(p3 + at);
      const dst = hwcAt + <usize>yx * ld + <usize>j * 4;
      v128.store(dst, transposed(r0, r1, r2, r3, 0));
      v128.store(dst + ld, transposed(r0, r1, r2, r3, 1));
      v128.store(dst + 2 * ld, transposed(r0, r1, r2, r3, 2));
      v128.store(dst + 3 * ld, transposed(r0, r1, r2, r3, 3));
    }
    for (let yx = a4; yx < area; yx++) {
      for (let q = 0; q < 4; q++) f32.store(hwcAt + <usize>yx * ld + <usize>(j + q) * 4, f32.load(p0 + <usize>q * planeBytes + <usize>yx * 4));
    }
  }
  for (let j = j4; j < nKept; j++) {
    const plane = planesAt + <usize>j * planeBytes;
    for (let yx = 0; yx < area; yx++) f32.store(hwcAt + <usize>yx * ld + <usize>j * 4, f32.load(plane + <usize>yx * 4));
  }
  if (rows) channelsLastRows(rowBase, ldRow, m, nKept, taps, hwcRowsAt);
  hwcKept = nKept;
  hwcPw = pw;
}

function layout(d: TileDesc, base: usize): void {
  const cpg = d.inC / d.group;
  const m = d.outC / d.group;
  const taps = d.kernelH * d.kernelW;
  const k = cpg * taps;
  const n = d.outH * d.outW;
  const ph = d.inH + 2 * d.padH;
  const pw = d.inW + 2 * d.padW;
  kTableAt = base;
  nTableAt = kTableAt + align16(<usize>k * 4);
  listTableAt = nTableAt + align16(<usize>n * 4);
  othersTableAt = listTableAt + align16(<usize>d.listCount * 4);
  gemmAt = othersTableAt + align16(<usize>d.othersCount * 4);
  // The GEMM runs on K prefixes of any length up to k: size its K blocks for the deepest (KC at most).
  edgeAt = gemmAt + align16(gemmScratchBytes(n, min(k, KC), B_IM2COL));
  planesAt = edgeAt + 256;
  keptRowsAt = planesAt + align16(<usize>cpg * ph * pw * 4) + 64;
  keptPackedAt = keptRowsAt + align16(<usize>m * k * 4);
  gridAt = keptPackedAt + align16(<usize>m * k * 4);
  panelsAt = gridAt + align16(<usize>m * d.listCount * 4);
  sAt = panelsAt + <usize>(max(d.tile, 8) >> 3) * k * 32;
  rowListAt = sAt + align16(<usize>m * max(d.tile, 8) * 4) + 64;
  patchAt = rowListAt + align16(<usize>m * 4);
  const listed = <usize>max(d.listCount, d.othersCount);
  csrRowsAt = patchAt + align16(<usize>PATCH_GROUP * k * 4) + 64;
  csrSumsAt = csrRowsAt + align16(listed * m * 4);
  csrPosAt = csrSumsAt + align16(listed * m * 4);
  csrStartAt = csrPosAt + align16(listed * 4);
  csrIndexAt = csrStartAt + align16((listed + 1) * 4);
  // SDSS's test: the grid transposed (per grid entry, its m4 channels), each position's grid
  // entry, the neighbours' grid entries, a tile's means and masks.
  const m4 = <usize>channelLanes(m);
  const sdss = d.sdss != 0;
  gridTAt = csrIndexAt + align16(listed * 4);
  gridIndexAt = gridTAt + (sdss ? <usize>d.listCount * m4 * 4 : 0);
  neighbourIndexAt = gridIndexAt + (sdss ? align16(<usize>n * 4) : 0);
  meansAt = neighbourIndexAt + (sdss ? <usize>d.othersCount * 16 : 0);
  masksAt = meansAt + (sdss ? <usize>max(d.tile, 1) * m4 * 4 : 0);
  hwcAt = masksAt + m4 * 4;
  const small = smallTiles(d);
  keptHwcRowsAt = hwcAt + (small ? align16(<usize>cpg * ph * pw * 4) + 64 : 0);
  dotsOutAt = keptHwcRowsAt + (small ? align16(<usize>m * k * 4) : 0);
  endAt = dotsOutAt + 64;
}

/** Output channels rounded up to whole float32x4 vectors (SDSS tests four channels at a time). */
// @ts-ignore: decorator
@inline
function channelLanes(m: i32): i32 {
  return (m + 3) & ~3;
}

/** Scratch bytes `tileConvolution` needs for the layer described at `desc`. */
export function tileConvolutionScratchBytes(desc: usize): usize {
  layout(changetype<TileDesc>(desc), 0);
  return endAt;
}

// The state of the image and group being run, shared by the helpers below.
let rowBase: usize = 0; // row o of the kept weights at rowBase + o * ldRow
let ldRow: usize = 0;
let k1: i32 = 0; // prefix K (values)
let k2: i32 = 0; // rest K
/** The packed rest of the current image and group (row panels, k2 columns): where every channel survives. */
let packedRest: usize = 0;
let macs: f64 = 0;
let ops: f64 = 0;
let tested: f64 = 0;
let terminated: f64 = 0;
let interpolated: f64 = 0;
let interpolationOps: f64 = 0;
/** The residual addend of the current image and group (its channels' maps, like the output block), or 0. */
let addendBlock: usize = 0;
/** Positions per output map. */
let mapSize: usize = 0;

/** The residual addend of output channel o (group-relative) at position p, 0 without one. */
// @ts-ignore: decorator
@inline
function addendAt(o: i32, p: usize): f32 {
  return addendBlock ? f32.load(addendBlock + (<usize>o * mapSize + p) * 4) : 0;
}

/** What a saturated neuron stores: 0, or -addend through a residual sum (the sum is then exactly 0). */
// @ts-ignore: decorator
@inline
function saturatedValue(o: i32, p: usize): f32 {
  return addendBlock ? -f32.load(addendBlock + (<usize>o * mapSize + p) * 4) : 0;
}

/** Entry f of a row list (int32). */
// @ts-ignore: decorator
@inline
function row(list: usize, f: i32): i32 {
  return i32.load(list + <usize>f * 4);
}

/**
 * Adds A rows [kFrom, kFrom + kc) of the listed rows `rows[0 .. count)` x the gathered panels of
 * one tile (nPanels panels, panel q at `panels + q * panelBytes`, rows of 32 bytes) onto S (row
 * f of the list at s + f * ldS, panel q at + 32 q).
 */
function addRows(
  rows: usize, count: i32, kFrom: i32, kc: i32, panels: usize, panelBytes: usize, nPanels: i32, s: usize, ldS: usize,
): void {
  const bStride: usize = 32;
  const aOff = <usize>kFrom * 4;
  for (let q = 0; q < nPanels; q++) {
    const b = panels + <usize>q * panelBytes;
    const c = s + <usize>q * 32;
    let f = 0;
    for (; f + 4 <= count; f += 4) {
      rows4x8(
        kc,
        rowBase + <usize>row(rows, f) * ldRow + aOff, rowBase + <usize>row(rows, f + 1) * ldRow + aOff,
        rowBase + <usize>row(rows, f + 2) * ldRow + aOff, rowBase + <usize>row(rows, f + 3) * ldRow + aOff,
        b, bStride, c + <usize>f * ldS, ldS,
      );
    }
    if (f + 2 <= count) {
      rows2x8(kc, rowBase + <usize>row(rows, f) * ldRow + aOff, rowBase + <usize>row(rows, f + 1) * ldRow + aOff, b, bStride, c + <usize>f * ldS, ldS);
      f += 2;
    }
    if (f < count) rows1x8(kc, rowBase + <usize>row(rows, f) * ldRow + aOff, b, bStride, c + <usize>f * ldS);
  }
}

/**
 * Gathers the panels of list entries [j0, j0 + n) over K rows [kFrom, kFrom + kc) of the current
 * im2col columns into panelsAt: panel q at + q * kc * 32, rows of 32 bytes (the geometry is never
 * set up pointwise, so im2colPanel always writes its destination).
 */
function gatherPanels(j0: i32, n: i32, kFrom: i32, kc: i32): void {
  for (let q = 0; q * 8 < n; q++) im2colPanel(kFrom, kc, j0 + q * 8, min(8, n - q * 8), panelsAt + <usize>q * kc * 32);
}

/**
 * The tile test and the rest of pass 1's tile [j0, j0 + n) of the list, whose s values are in C
 * (row o at c + o * ldc, list-indexed): saturated rows set to 0, the others completed in place.
 */
function finishListTile(
  d: TileDesc, img: i32, g: i32, m: i32, c: usize, ldc: usize, j0: i32, n: i32, extraOps: i32, traceMap: usize, listTable: usize,
): void {
  const outBase = (img * d.outC + g * m);
  const positions = d.outH * d.outW;
  let nSurv = 0;
  ops += <f64>(m * n * (d.neuronOps + extraOps));
  for (let o = 0; o < m; o++) {
    const row = c + <usize>o * ldc + <usize>j0 * 4;
    if (d.spet) {
      const limit = f32.load(<usize>d.limits + <usize>(outBase + o) * 4);
      let saturated = true;
      if (addendBlock) {
        for (let j = 0; j < n; j++) {
          const p = <usize>i32.load(listTable + <usize>(j0 + j) * 4);
          if (!(f32.load(row + <usize>j * 4) + addendAt(o, p) < limit)) { saturated = false; break; }
        }
      } else {
        for (let j = 0; j < n; j++) if (!(f32.load(row + <usize>j * 4) < limit)) { saturated = false; break; }
      }
      if (saturated) {
        if (addendBlock) {
          for (let j = 0; j < n; j++) f32.store(row + <usize>j * 4, saturatedValue(o, <usize>i32.load(listTable + <usize>(j0 + j) * 4)));
        } else {
          memory.fill(row, 0, <usize>n * 4);
        }
        if (traceMap) {
          for (let j = 0; j < n; j++) store<u8>(traceMap + <usize>(outBase + o) * positions + <usize>i32.load(listTable + <usize>(j0 + j) * 4), 1);
        }
        continue;
      }
    }
    i32.store(rowListAt + <usize>(nSurv++) * 4, o);
  }
  if (d.spet) {
    tested += <f64>(m * n);
    terminated += <f64>((m - nSurv) * n);
  }
  if (nSurv == 0 || k2 == 0) return;
  macs += <f64>nSurv * n * k2;
  if (nSurv == m && n == d.tile && (n & 7) == 0) {
    // Every channel survives: the rest as the dense micro-kernels run it, in place, packed A
    // (whole panels only: a panel writes 8 columns of C).
    gatherPanels(j0, n, k1, k2);
    packedTiles(m, k2, packedRest, panelsAt, <usize>k2 * 32, n >> 3, c + <usize>j0 * 4, ldc);
    return;
  }
  const ldS = <usize>max(d.tile, 8) * 4;
  for (let f = 0; f < nSurv; f++) copyBytes(sAt + <usize>f * ldS, c + <usize>row(rowListAt, f) * ldc + <usize>j0 * 4, <usize>n * 4);
  gatherPanels(j0, n, k1, k2);
  addRows(rowListAt, nSurv, k1, k2, panelsAt, <usize>k2 * 32, (n + 7) >> 3, sAt, ldS);
  for (let f = 0; f < nSurv; f++) copyBytes(c + <usize>row(rowListAt, f) * ldc + <usize>j0 * 4, sAt + <usize>f * ldS, <usize>n * 4);
}

/**
 * C[m x 8 nPanels] += packed A (row panels, k columns) x the gathered panels (panel q at
 * panels + q * panelBytes): the dense GEMM's micro-kernels, for tiles where every row is needed.
 */
function packedTiles(m: i32, k: i32, a: usize, panels: usize, panelBytes: usize, nPanels: i32, c: usize, ldc: usize): void {
  for (let q = 0; q < nPanels; q++) {
    let row = 0;
    for (let p = 0; p < panelCount(m); p++) {
      const mr = panelRows(m, p);
      tile(mr, k, a + <usize>row * k * 4, panels + <usize>q * panelBytes, 32, c + <usize>row * ldc + <usize>q * 32, ldc, INIT_FROM_C, 0);
      row += mr;
    }
  }
}

/** Runs the layer described at `desc` (see TileDesc) on its whole batch. */
export function tileConvolution(desc: usize): void {
  const d = changetype<TileDesc>(desc);
  layout(d, <usize>d.scratch);
  const cpg = d.inC / d.group;
  const m = d.outC / d.group;
  const taps = d.kernelH * d.kernelW;
  const kFull = cpg * taps;
  const n = d.outH * d.outW;
  const ph = d.inH + 2 * d.padH;
  const pw = d.inW + 2 * d.padW;
  macs = 0; ops = 0; tested = 0; terminated = 0; interpolated = 0; interpolationOps = 0;
  mapSize = <usize>n;
  setIm2colGeometry(cpg, ph, pw, d.kernelH, d.kernelW, d.strideH, d.strideW, d.dilationH, d.dilationW, d.outH, d.outW, false, kTableAt, nTableAt);
  // Window offsets of the listed positions, as the n table has them.
  for (let j = 0; j < d.listCount; j++) i32.store(listTableAt + <usize>j * 4, i32.load(nTableAt + <usize>i32.load(<usize>d.list + <usize>j * 4) * 4));
  for (let j = 0; j < d.othersCount; j++) i32.store(othersTableAt + <usize>j * 4, i32.load(nTableAt + <usize>i32.load(<usize>d.others + <usize>j * 4) * 4));
  if (d.sdss && d.tile > 1) {
    // The tiles' test reads the neighbours in the transposed grid: their grid entries.
    for (let j = 0; j < d.listCount; j++) i32.store(gridIndexAt + <usize>i32.load(<usize>d.list + <usize>j * 4) * 4, j);
    for (let i = 0; i < 4 * d.othersCount; i++) {
      i32.store(neighbourIndexAt + <usize>i * 4, i32.load(gridIndexAt + <usize>i32.load(<usize>d.neighbours + <usize>i * 4) * 4));
    }
  }
  const allListed = !d.sdss && d.listCount == n;
  memory.fill(planesAt, 0, <usize>cpg * ph * pw * 4);
  const inPlane = <usize>d.inH * d.inW * 4;
  const srcPlane = <usize>ph * pw * 4;
  const rowBytes = <usize>d.inW * 4;

  for (let img = 0; img < d.batch; img++) {
    for (let g = 0; g < d.group; g++) {
      const ig = img * d.group + g;
      const nKept = i32.load(<usize>d.kept + <usize>ig * 4);
      const nPre = i32.load(<usize>d.keptPrefix + <usize>ig * 4);
      const keptAt = <usize>d.keptPositions + <usize>ig * cpg * 4;
      const dropped = nKept < cpg;
      // The kept maps in kept order, zero-padded (borders stay zero: only interiors are written).
      for (let j = 0; j < nKept; j++) {
        const c = i32.load(<usize>d.order + <usize>(g * cpg + i32.load(keptAt + <usize>j * 4)) * 4);
        const from = <usize>d.x + (<usize>img * d.inC + <usize>(g * cpg + c)) * inPlane;
        const to = planesAt + <usize>j * srcPlane + (<usize>d.padH * pw + d.padW) * 4;
        for (let r = 0; r < d.inH; r++) copyBytes(to + <usize>r * pw * 4, from + <usize>r * rowBytes, rowBytes);
      }
      setIm2colSource(planesAt);
      k1 = nPre * taps;
      k2 = (nKept - nPre) * taps;
      let packedA: usize;
      if (dropped) {
        // The kept order positions' weights, then their prefix packed for the GEMM.
        ldRow = <usize>nKept * taps * 4;
        for (let o = 0; o < m; o++) {
          const src = <usize>d.rows + <usize>(g * m + o) * kFull * 4;
          for (let j = 0; j < nKept; j++) {
            copyBytes(keptRowsAt + <usize>o * ldRow + <usize>j * taps * 4, src + <usize>i32.load(keptAt + <usize>j * 4) * taps * 4, <usize>taps * 4);
          }
        }
        rowBase = keptRowsAt;
        packedA = keptPackedAt;
        if (k1 > 0) packRowPanels(keptRowsAt, m, k1, nKept * taps, packedA);
        if (k2 > 0) packRowPanels(keptRowsAt + <usize>k1 * 4, m, k2, nKept * taps, packedA + <usize>m * k1 * 4);
      } else {
        ldRow = <usize>kFull * 4;
        rowBase = <usize>d.rows + <usize>g * m * kFull * 4;
        packedA = <usize>d.packed + <usize>g * m * kFull * 4;
      }
      packedRest = packedA + <usize>m * k1 * 4;
      hwcReady = smallTiles(d);
      // The rows: the layer's cached ones, or this image's kept maps' (transposed here).
      if (hwcReady) {
        hwcRowsAt = dropped ? keptHwcRowsAt : <usize>d.hwcRows + <usize>g * m * kFull * 4;
        channelsLast(nKept, ph * pw, srcPlane, m, taps, pw, dropped);
      }
      const bias = <usize>d.bias + <usize>g * m * 4;
      const outBlock = <usize>d.y + (<usize>img * d.outC + <usize>g * m) * n * 4;
      const corrBlock = <usize>d.corr + (<usize>img * d.outC + <usize>g * m) * n * 4;
      addendBlock = d.addend ? <usize>d.addend + (<usize>img * d.outC + <usize>g * m) * n * 4 : 0;
      const traceMap = d.trace ? <usize>d.trace : 0;
      const extraOps = dropped ? 1 : 0;

      // Pass 1 over the list: into the output block (every position, in order) or the grid buffer.
      const c = allListed ? outBlock : gridAt;
      const ldc = <usize>(allListed ? n : d.listCount) * 4;
      if (allListed) setIm2colAllColumns(d.outH, d.outW);
      else setIm2colColumns(listTableAt, d.listCount);
      if (k1 > 0) {
        gemm(m, d.listCount, k1, packedA, B_IM2COL, 0, c, ldc, INIT_ROW_BIAS, bias, gemmAt, edgeAt);
        macs += <f64>m * d.listCount * k1;
      } else {
        for (let o = 0; o < m; o++) {
          const v = f32.load(bias + <usize>o * 4);
          for (let j = 0; j < d.listCount; j++) f32.store(c + <usize>o * ldc + <usize>j * 4, v);
        }
      }
      if (dropped) {
        for (let o = 0; o < m; o++) {
          for (let j = 0; j < d.listCount; j++) {
            const at = c + <usize>o * ldc + <usize>j * 4;
            f32.store(at, f32.load(at) + f32.load(corrBlock + (<usize>o * n + <usize>i32.load(<usize>d.list + <usize>j * 4)) * 4));
          }
        }
      }
      if (d.tile == 1) {
        finishListNeurons(d, img, g, m, c, ldc, extraOps, traceMap, allListed ? nTableAt : listTableAt);
      } else if (!d.spet && k2 == 0) {
        // Nothing to test or add on the list: its neurons' ops only (as finishListTile counts them).
        ops += <f64>(m * d.listCount * (d.neuronOps + extraOps));
      } else {
        for (let j0 = 0; j0 < d.listCount; j0 += d.tile) {
          finishListTile(d, img, g, m, c, ldc, j0, min(d.tile, d.listCount - j0), extraOps, traceMap, <usize>d.list);
        }
      }
      if (!d.sdss) continue;

      // SDSS: the grid into the output (rectified) and, for the tiles' test, transposed; then the
      // tiles off the grid.
      storeGrid(d, m, c, ldc, outBlock, n);
      if (d.rectified) ops += <f64>(m * d.listCount);
      setIm2colColumns(othersTableAt, d.othersCount);
      if (d.tile == 1) evaluateOthersNeurons(d, img, g, m, n, outBlock, corrBlock, bias, extraOps, traceMap);
      else evaluateOthers(d, img, g, m, n, outBlock, corrBlock, bias, extraOps, traceMap);
    }
  }
  const counters = <usize>d.counters;
  f64.store(counters, f64.load(counters) + macs);
  f64.store(counters, f64.load(counters, 8) + ops, 8);
  f64.store(counters, f64.load(counters, 16) + tested, 16);
  f64.store(counters, f64.load(counters, 24) + terminated, 24);
  const sc = <usize>d.sdssCounters;
  f64.store(sc, f64.load(sc) + interpolated);
  f64.store(sc, f64.load(sc, 8) + interpolationOps, 8);
}

/**
 * SDSS's test of one neuron: its 4 grid neighbours (a pair stored twice) pairwise within delta.
 * The largest pairwise difference is max - min (sdss.ts), without min / max's NaN handling; a NaN
 * neighbour fails every comparison, so it never passes. (Two equal infinite neighbours fail too,
 * where max - min passes an infinite delta: kept, as the branch-free max and min measured up to
 * 1.9x slower on this path.)
 */
// @ts-ignore: decorator
@inline
function agree(a: f32, b: f32, c: f32, e: f32, delta: f32): i32 {
  return <i32>(abs(a - b) <= delta) & <i32>(abs(a - c) <= delta) & <i32>(abs(a - e) <= delta) &
    <i32>(abs(b - c) <= delta) & <i32>(abs(b - e) <= delta) & <i32>(abs(c - e) <= delta);
}

/**
 * The grid's s values (row o at c + o * ldc, one per grid entry), rectified in place where a ReLU
 * follows, into the output maps at their positions and, for tiles of several positions, into
 * gridTAt entry-major (entry j's m4 channels at + j * m4 * 4): four channels x four entries at a
 * time, transposed in registers; the edges one value at a time.
 */
function storeGrid(d: TileDesc, m: i32, c: usize, ldc: usize, outBlock: usize, n: i32): void {
  const count = d.listCount;
  const list = <usize>d.list;
  const m4 = <usize>channelLanes(m);
  const transpose = d.tile > 1;
  const rect = d.rectified != 0;
  const zero = f32x4.splat(0);
  const mapBytes = <usize>n * 4;
  const c4 = count & ~3;
  let o = 0;
  for (; o + 4 <= m; o += 4) {
    const row0 = c + <usize>o * ldc, row1 = row0 + ldc, row2 = row1 + ldc, row3 = row2 + ldc;
    const map0 = outBlock + <usize>o * mapBytes, map1 = map0 + mapBytes, map2 = map1 + mapBytes, map3 = map2 + mapBytes;
    for (let j = 0; j < c4; j += 4) {
      const at = <usize>j * 4;
      let r0 = v128.load(row0 + at), r1 = v128.load(row1 + at), r2 = v128.load(row2 + at), r3 = v128.load(row3 + at);
      if (rect) {
        // pmax(v, 0) is `v < 0 ? 0 : v`: NaN and -0 stay as they are, as in the reference.
        r0 = f32x4.pmax(r0, zero); r1 = f32x4.pmax(r1, zero); r2 = f32x4.pmax(r2, zero); r3 = f32x4.pmax(r3, zero);
        v128.store(row0 + at, r0); v128.store(row1 + at, r1); v128.store(row2 + at, r2); v128.store(row3 + at, r3);
      }
      const q0 = <usize>i32.load(list + at) * 4, q1 = <usize>i32.load(list + at, 4) * 4;
      const q2 = <usize>i32.load(list + at, 8) * 4, q3 = <usize>i32.load(list + at, 12) * 4;
      v128.store32_lane(map0 + q0, r0, 0); v128.store32_lane(map0 + q1, r0, 1); v128.store32_lane(map0 + q2, r0, 2); v128.store32_lane(map0 + q3, r0, 3);
      v128.store32_lane(map1 + q0, r1, 0); v128.store32_lane(map1 + q1, r1, 1); v128.store32_lane(map1 + q2, r1, 2); v128.store32_lane(map1 + q3, r1, 3);
      v128.store32_lane(map2 + q0, r2, 0); v128.store32_lane(map2 + q1, r2, 1); v128.store32_lane(map2 + q2, r2, 2); v128.store32_lane(map2 + q3, r2, 3);
      v128.store32_lane(map3 + q0, r3, 0); v128.store32_lane(map3 + q1, r3, 1); v128.store32_lane(map3 + q2, r3, 2); v128.store32_lane(map3 + q3, r3, 3);
      if (transpose) {
        const t = gridTAt + (<usize>j * m4 + <usize>o) * 4;
        v128.store(t, transposed(r0, r1, r2, r3, 0));
        v128.store(t + m4 * 4, transposed(r0, r1, r2, r3, 1));
        v128.store(t + m4 * 8, transposed(r0, r1, r2, r3, 2));
        v128.store(t + m4 * 12, transposed(r0, r1, r2, r3, 3));
      }
    }
    for (let q = 0; q < 4; q++) storeGridValues(m4, c + <usize>(o + q) * ldc, outBlock + <usize>(o + q) * mapBytes, o + q, c4, count, list, rect, transpose);
  }
  for (; o < m; o++) storeGridValues(m4, c + <usize>o * ldc, outBlock + <usize>o * mapBytes, o, 0, count, list, rect, transpose);
}

/** storeGrid for channel o's entries [from, to), one value at a time. */
function storeGridValues(m4: usize, row: usize, map: usize, o: i32, from: i32, to: i32, list: usize, rect: bool, transpose: bool): void {
  for (let j = from; j < to; j++) {
    let v = f32.load(row + <usize>j * 4);
    if (rect && v < 0) {
      v = 0;
      f32.store(row + <usize>j * 4, v);
    }
    f32.store(map + <usize>i32.load(list + <usize>j * 4) * 4, v);
    if (transpose) f32.store(gridTAt + (<usize>j * m4 + <usize>o) * 4, v);
  }
}

/**
 * SDSS's test on four channels at once: all lanes set where max - min of the channel's neighbours
 * is within delta and their mean is a number (tile-reference.ts). A NaN neighbour makes the mean
 * NaN, so the pseudo-min / max (one x86 instruction each, where f32x4.min / max need a NaN fix-up
 * sequence) suffice: 8 operations where the pairwise differences took 23.
 */
// @ts-ignore: decorator
@inline
function agree4(a: v128, b: v128, c: v128, e: v128, mean: v128, delta: v128): v128 {
  const hi = f32x4.pmax(f32x4.pmax(a, b), f32x4.pmax(c, e));
  const lo = f32x4.pmin(f32x4.pmin(a, b), f32x4.pmin(c, e));
  return v128.and(f32x4.le(f32x4.sub(hi, lo), delta), f32x4.eq(mean, mean));
}

/**
 * The means of a tile's `cnt` positions (meansAt, entry-major: position j's m4 channels) into the
 * output maps at outBlock (channel-major), four channels x four positions at a time: transposed in
 * registers, then one vector store per channel where the four positions are consecutive in the
 * map (tile mode lists the rows off the grid whole), else one store per position.
 */
function writeMeans(j0: i32, cnt: i32, m: i32, n: i32, outBlock: usize, others: usize, m4: usize): void {
  for (let j = 0; j < cnt; j += 4) {
    const c4 = min(4, cnt - j);
    const at = others + <usize>(j0 + j) * 4;
    const p0 = <usize>i32.load(at);
    const p1 = <usize>i32.load(at + <usize>min(1, c4 - 1) * 4);
    const p2 = <usize>i32.load(at + <usize>min(2, c4 - 1) * 4);
    const p3 = <usize>i32.load(at + <usize>(c4 - 1) * 4);
    const consecutive = c4 == 4 && p1 == p0 + 1 && p2 == p0 + 2 && p3 == p0 + 3;
    const row = meansAt + <usize>j * m4 * 4;
    const ld = m4 * 4;
    for (let q: usize = 0; q < <usize>m; q += 4) {
      const r0 = v128.load(row + q * 4);
      const r1 = v128.load(row + <usize>min(1, c4 - 1) * ld + q * 4);
      const r2 = v128.load(row + <usize>min(2, c4 - 1) * ld + q * 4);
      const r3 = v128.load(row + <usize>(c4 - 1) * ld + q * 4);
      const lanes = min(<usize>4, <usize>m - q);
      for (let i: usize = 0; i < lanes; i++) {
        // Channel q + i at the four positions.
        const t = transposed(r0, r1, r2, r3, <i32>i);
        const map = outBlock + (q + i) * <usize>n * 4;
        if (consecutive) {
          v128.store(map + p0 * 4, t);
          continue;
        }
        f32.store(map + p0 * 4, f32x4.extract_lane(t, 0));
        if (c4 > 1) f32.store(map + p1 * 4, f32x4.extract_lane(t, 1));
        if (c4 > 2) f32.store(map + p2 * 4, f32x4.extract_lane(t, 2));
        if (c4 > 3) f32.store(map + p3 * 4, f32x4.extract_lane(t, 3));
      }
    }
  }
}

/** SDSS's tiles off the grid of one image and group: test, interpolate, or evaluate whole. */
function evaluateOthers(
  d: TileDesc, img: i32, g: i32, m: i32, n: i32, outBlock: usize, corrBlock: usize, bias: usize, extraOps: i32, traceMap: usize,
): void {
  const ldS = <usize>max(d.tile, 8) * 4;
  const outBase = img * d.outC + g * m;
  const others = <usize>d.others;
  const m4 = <usize>channelLanes(m);
  const deltaV = f32x4.splat(d.delta);
  const quarter = f32x4.splat(0.25);
  for (let j0 = 0; j0 < d.othersCount; j0 += d.tile) {
    const cnt = min(d.tile, d.othersCount - j0);
    let nFail = 0;
    let tileTestOps = 0;
    for (let j = j0; j < j0 + cnt; j++) tileTestOps += <i32>load<u8>(<usize>d.testOps + <usize>j);
    ops += <f64>(m * tileTestOps);
    // The interpolations cost n ops for n neighbours, the tests 2n (sdss.ts).
    const tileInterpolationOps = <f64>(tileTestOps >> 1);
    // The test of every neuron of the tile, four channels at a time: per position, its
    // neighbours' channel vectors in the transposed grid (their offsets are the same in every
    // channel), pairwise within delta, ANDed over the tile into one mask per four channels; the
    // means of every channel are kept for the channels that pass.
    for (let q: usize = 0; q < m4; q += 4) v128.store(masksAt + q * 4, i32x4.splat(-1));
    for (let j = j0; j < j0 + cnt; j++) {
      const t = neighbourIndexAt + <usize>j * 16;
      const a0 = gridTAt + <usize>i32.load(t) * m4 * 4, a1 = gridTAt + <usize>i32.load(t, 4) * m4 * 4;
      const a2 = gridTAt + <usize>i32.load(t, 8) * m4 * 4, a3 = gridTAt + <usize>i32.load(t, 12) * m4 * 4;
      const means = meansAt + <usize>(j - j0) * m4 * 4;
      for (let q: usize = 0; q < m4 * 4; q += 16) {
        const a = v128.load(a0 + q), b = v128.load(a1 + q), cc = v128.load(a2 + q), e = v128.load(a3 + q);
        const mean = f32x4.mul(f32x4.add(f32x4.add(a, b), f32x4.add(cc, e)), quarter);
        v128.store(masksAt + q, v128.and(v128.load(masksAt + q), agree4(a, b, cc, e, mean, deltaV)));
        v128.store(means + q, mean);
      }
    }
    let nPass = 0;
    for (let o = 0; o < m; o++) {
      if (i32.load(masksAt + <usize>o * 4)) {
        if (traceMap) {
          for (let j = j0; j < j0 + cnt; j++) store<u8>(traceMap + <usize>(outBase + o) * n + <usize>i32.load(others + <usize>j * 4), 2);
        }
        nPass++;
        continue;
      }
      i32.store(rowListAt + <usize>(nFail++) * 4, o);
    }
    interpolated += <f64>(nPass * cnt);
    interpolationOps += tileInterpolationOps * <f64>nPass;
    // Every channel's means into the map, the failing channels' too (evaluated below, they
    // overwrite them). A scattered store per neuron cost as much as computing it on a layer of
    // small K (conv1 of cifar10-quick: K = 75); transposed in registers, it is one vector store
    // per channel and four positions of a row.
    if (nPass > 0) writeMeans(j0, cnt, m, n, outBlock, others, m4);
    if (nFail == 0) continue;
    if (hwcReady) {
      evaluateSmallTile(d, n, j0, cnt, nFail, outBlock, corrBlock, bias, extraOps, traceMap, outBase);
      continue;
    }
    // The failing channels of this tile, evaluated whole: prefix, SPET's test, rest.
    const kAll = k1 + k2;
    gatherPanels(j0, cnt, 0, kAll);
    const nPanels = (cnt + 7) >> 3;
    for (let f = 0; f < nFail; f++) {
      const o = row(rowListAt, f);
      const v = f32.load(bias + <usize>o * 4);
      for (let j = 0; j < nPanels * 8; j++) {
        const jj = min(j, cnt - 1);
        const corr = extraOps ? f32.load(corrBlock + (<usize>o * n + <usize>i32.load(others + <usize>(j0 + jj) * 4)) * 4) : <f32>0;
        f32.store(sAt + <usize>f * ldS + <usize>j * 4, v + corr);
      }
    }
    ops += <f64>(nFail * cnt * (d.neuronOps + extraOps));
    const allRows = nFail == m;
    if (k1 > 0) {
      if (allRows) packedTiles(m, k1, packedRest - <usize>m * k1 * 4, panelsAt, <usize>kAll * 32, nPanels, sAt, ldS);
      else addRows(rowListAt, nFail, 0, k1, panelsAt, <usize>kAll * 32, nPanels, sAt, ldS);
    }
    macs += <f64>nFail * cnt * k1;
    // SPET's test per failing channel: the saturated ones are written 0, the others keep going.
    let nSurv = 0;
    for (let f = 0; f < nFail; f++) {
      const o = row(rowListAt, f);
      const srow = sAt + <usize>f * ldS;
      let saturated = false;
      if (d.spet) {
        const limit = f32.load(<usize>d.limits + <usize>(outBase + o) * 4);
        saturated = true;
        for (let j = 0; j < cnt; j++) {
          const a = addendAt(o, <usize>i32.load(others + <usize>(j0 + j) * 4));
          if (!(f32.load(srow + <usize>j * 4) + a < limit)) { saturated = false; break; }
        }
      }
      const map = outBlock + <usize>o * n * 4;
      if (saturated) {
        for (let j = 0; j < cnt; j++) {
          const p = <usize>i32.load(others + <usize>(j0 + j) * 4);
          f32.store(map + p * 4, saturatedValue(o, p));
          if (traceMap) store<u8>(traceMap + <usize>(outBase + o) * n + p, 1);
        }
        continue;
      }
      if (nSurv != f) copyBytes(sAt + <usize>nSurv * ldS, srow, ldS);
      i32.store(rowListAt + <usize>(nSurv++) * 4, o);
    }
    if (d.spet) {
      tested += <f64>(nFail * cnt);
      terminated += <f64>((nFail - nSurv) * cnt);
    }
    if (k2 > 0 && nSurv > 0) {
      if (allRows && nSurv == m) packedTiles(m, k2, packedRest, panelsAt + <usize>k1 * 32, <usize>kAll * 32, nPanels, sAt, ldS);
      else addRows(rowListAt, nSurv, k1, k2, panelsAt + <usize>k1 * 32, <usize>kAll * 32, nPanels, sAt, ldS);
      macs += <f64>nSurv * cnt * k2;
    }
    for (let f = 0; f < nSurv; f++) {
      const map = outBlock + <usize>row(rowListAt, f) * n * 4;
      for (let j = 0; j < cnt; j++) {
        const p = <usize>i32.load(others + <usize>(j0 + j) * 4);
        f32.store(map + p * 4, f32.load(sAt + <usize>f * ldS + <usize>j * 4));
        if (traceMap) store<u8>(traceMap + <usize>(outBase + row(rowListAt, f)) * n + p, 0);
      }
    }
  }
}


// Tiles of ONE position (tile 1): every neuron decides alone. The neurons still to compute are
// collected per position (a compressed list: the position's window, its surviving output
// channels, their running sums), then finished by dot products over the patch (K contiguous),
// four channels per pass. Positions go in groups of PATCH_GROUP whose patches are gathered once,
// and K in blocks of DOT_BLOCK, so that the surviving channels' weight blocks stay in L1 across
// the group's positions (without the blocks every position streamed all its weight rows from L2:
// measured 4x slower than the dense GEMM per MAC).

/** Positions whose patches are gathered together. */
const PATCH_GROUP: i32 = 16;
/** K values per block of the dot products. */
const DOT_BLOCK: i32 = 128;

/** Entries of the compressed list: positions, and rows (with sums) so far. */
let csrCount: i32 = 0;
let csrEntries: i32 = 0;

/** Empties the compressed list. */
function csrReset(): void {
  csrCount = 0;
  csrEntries = 0;
  i32.store(csrStartAt, 0);
}

/** Opens a position of the compressed list: window offset `window` (bytes), list index `index`. */
// @ts-ignore: decorator
@inline
function csrOpen(window: i32, index: i32): void {
  i32.store(csrPosAt + <usize>csrCount * 4, window);
  i32.store(csrIndexAt + <usize>csrCount * 4, index);
}

/** Closes the open position: kept when it got rows (else the next one takes its slot). */
// @ts-ignore: decorator
@inline
function csrClose(): void {
  if (csrEntries > i32.load(csrStartAt + <usize>csrCount * 4)) {
    csrCount++;
    i32.store(csrStartAt + <usize>csrCount * 4, csrEntries);
  }
}

/** Appends row o with running sum v to the open position. */
// @ts-ignore: decorator
@inline
function csrAdd(o: i32, v: f32): void {
  i32.store(csrRowsAt + <usize>csrEntries * 4, o);
  f32.store(csrSumsAt + <usize>csrEntries * 4, v);
  csrEntries++;
}

/**
 * Gathers the patch rows [kFrom, kFrom + kc) of the position at window offset `window` into dst.
 * With no column dilation each (channel, kernel row) is kernelW consecutive values of a padded
 * plane: copied as one run.
 */
function gatherPatch(d: TileDesc, window: usize, kFrom: i32, kc: i32, dst: usize): void {
  const src = planesAt + window;
  if (d.dilationW == 1) {
    const run = d.kernelW;
    const bytes = <usize>run * 4;
    for (let k = kFrom; k < kFrom + kc; k += run) {
      copyBytes(dst, src + <usize>i32.load(kTableAt + <usize>k * 4), bytes);
      dst += bytes;
    }
    return;
  }
  let kt = kTableAt + <usize>kFrom * 4;
  const end = dst + <usize>kc * 4;
  while (dst < end) {
    f32.store(dst, f32.load(src + <usize>i32.load(kt)));
    kt += 4;
    dst += 4;
  }
}

/** Adds to every row of the compressed list its dot product over A columns [kFrom, kFrom + kc) with the patch. */
function csrDots(d: TileDesc, kFrom: i32, kc: i32): void {
  if (kc == 0) return;
  const patchBytes = <usize>kc * 4;
  for (let q0 = 0; q0 < csrCount; q0 += PATCH_GROUP) {
    const q1 = min(csrCount, q0 + PATCH_GROUP);
    for (let q = q0; q < q1; q++) gatherPatch(d, <usize>i32.load(csrPosAt + <usize>q * 4), kFrom, kc, patchAt + <usize>(q - q0) * patchBytes);
    for (let b0 = 0; b0 < kc; b0 += DOT_BLOCK) {
      const bk = min(DOT_BLOCK, kc - b0);
      const aOff = <usize>(kFrom + b0) * 4;
      for (let q = q0; q < q1; q++) {
        const x = patchAt + <usize>(q - q0) * patchBytes + <usize>b0 * 4;
        const e1 = i32.load(csrStartAt + <usize>(q + 1) * 4);
        let e = i32.load(csrStartAt + <usize>q * 4);
        for (; e + 4 <= e1; e += 4) {
          const r = csrRowsAt + <usize>e * 4;
          const c = csrSumsAt + <usize>e * 4;
          dots4(
            bk,
            rowBase + <usize>i32.load(r) * ldRow + aOff, rowBase + <usize>i32.load(r, 4) * ldRow + aOff,
            rowBase + <usize>i32.load(r, 8) * ldRow + aOff, rowBase + <usize>i32.load(r, 12) * ldRow + aOff,
            x, c, c + 4, c + 8, c + 12,
          );
        }
        for (; e < e1; e++) dot1(bk, rowBase + <usize>i32.load(csrRowsAt + <usize>e * 4) * ldRow + aOff, x, csrSumsAt + <usize>e * 4);
      }
    }
    macs += <f64>(i32.load(csrStartAt + <usize>q1 * 4) - i32.load(csrStartAt + <usize>q0 * 4)) * kc;
  }
}

/** SPET per neuron on pass 1's list (s in C, list-indexed), then the rest of each position's survivors. */
function finishListNeurons(d: TileDesc, img: i32, g: i32, m: i32, c: usize, ldc: usize, extraOps: i32, traceMap: usize, windows: usize): void {
  const outBase = img * d.outC + g * m;
  const positions = d.outH * d.outW;
  ops += <f64>(m * d.listCount * (d.neuronOps + extraOps));
  if (!d.spet) return;
  const limits = <usize>d.limits + <usize>outBase * 4;
  csrReset();
  for (let j = 0; j < d.listCount; j++) {
    csrOpen(i32.load(windows + <usize>j * 4), j);
    const p = <usize>i32.load(<usize>d.list + <usize>j * 4);
    for (let o = 0; o < m; o++) {
      const at = c + <usize>o * ldc + <usize>j * 4;
      const v = f32.load(at);
      if (v + addendAt(o, p) < f32.load(limits + <usize>o * 4)) {
        f32.store(at, saturatedValue(o, p));
        if (traceMap) store<u8>(traceMap + <usize>(outBase + o) * positions + <usize>i32.load(<usize>d.list + <usize>j * 4), 1);
      } else {
        csrAdd(o, v);
      }
    }
    csrClose();
  }
  tested += <f64>(m * d.listCount);
  terminated += <f64>(m * d.listCount - csrEntries);
  csrDots(d, k1, k2);
  for (let q = 0; q < csrCount; q++) {
    const col = c + <usize>i32.load(csrIndexAt + <usize>q * 4) * 4;
    const e1 = i32.load(csrStartAt + <usize>(q + 1) * 4);
    for (let e = i32.load(csrStartAt + <usize>q * 4); e < e1; e++) {
      f32.store(col + <usize>i32.load(csrRowsAt + <usize>e * 4) * ldc, f32.load(csrSumsAt + <usize>e * 4));
    }
  }
}

/** SDSS per neuron off the grid: the test, the mean, or the neuron evaluated (with SPET's test). */
function evaluateOthersNeurons(
  d: TileDesc, img: i32, g: i32, m: i32, n: i32, outBlock: usize, corrBlock: usize, bias: usize, extraOps: i32, traceMap: usize,
): void {
  const outBase = img * d.outC + g * m;
  const limits = <usize>d.limits + <usize>outBase * 4;
  const delta = d.delta;
  csrReset();
  for (let j = 0; j < d.othersCount; j++) {
    const testOps = <i32>load<u8>(<usize>d.testOps + <usize>j);
    ops += <f64>(m * testOps);
    const t = <usize>d.neighbours + <usize>j * 16;
    const n0 = <usize>i32.load(t) * 4, n1 = <usize>i32.load(t, 4) * 4, n2 = <usize>i32.load(t, 8) * 4, n3 = <usize>i32.load(t, 12) * 4;
    const p = <usize>i32.load(<usize>d.others + <usize>j * 4);
    csrOpen(i32.load(othersTableAt + <usize>j * 4), <i32>p);
    for (let o = 0; o < m; o++) {
      const map = outBlock + <usize>o * n * 4;
      const a = f32.load(map + n0), b = f32.load(map + n1), cc = f32.load(map + n2), e = f32.load(map + n3);
      const mean = ((a + b) + (cc + e)) * 0.25;
      if (agree(a, b, cc, e, delta)) {
        f32.store(map + p * 4, mean);
        if (traceMap) store<u8>(traceMap + <usize>(outBase + o) * n + p, 2);
        interpolated += 1;
        interpolationOps += <f64>(testOps >> 1);
      } else {
        csrAdd(o, f32.load(bias + <usize>o * 4) + (extraOps ? f32.load(corrBlock + (<usize>o * n + p) * 4) : <f32>0));
      }
    }
    csrClose();
  }
  const failing = csrEntries;
  ops += <f64>(failing * (d.neuronOps + extraOps));
  csrDots(d, 0, k1);
  if (d.spet) {
    // SPET's test per failing neuron: the list is compacted in place to the survivors.
    const count = csrCount;
    csrReset();
    let e = 0;
    for (let q = 0; q < count; q++) {
      const e1 = i32.load(csrStartAt + <usize>(q + 1) * 4 + 0);
      const p = <usize>i32.load(csrIndexAt + <usize>q * 4);
      csrOpen(i32.load(csrPosAt + <usize>q * 4), <i32>p);
      for (; e < e1; e++) {
        const o = i32.load(csrRowsAt + <usize>e * 4);
        const v = f32.load(csrSumsAt + <usize>e * 4);
        if (v + addendAt(o, p) < f32.load(limits + <usize>o * 4)) {
          f32.store(outBlock + (<usize>o * n + p) * 4, saturatedValue(o, p));
          if (traceMap) store<u8>(traceMap + <usize>(outBase + o) * n + p, 1);
        } else {
          csrAdd(o, v);
        }
      }
      csrClose();
    }
    tested += <f64>failing;
    terminated += <f64>(failing - csrEntries);
  }
  csrDots(d, k1, k2);
  for (let q = 0; q < csrCount; q++) {
    const p = <usize>i32.load(csrIndexAt + <usize>q * 4);
    const e1 = i32.load(csrStartAt + <usize>(q + 1) * 4);
    for (let e = i32.load(csrStartAt + <usize>q * 4); e < e1; e++) {
      const o = i32.load(csrRowsAt + <usize>e * 4);
      f32.store(outBlock + (<usize>o * n + p) * 4, f32.load(csrSumsAt + <usize>e * 4));
      if (traceMap) store<u8>(traceMap + <usize>(outBase + o) * n + p, 0);
    }
  }
}

/** A failing neuron's value from its dot product `s`: bias + SFMA's correction + s (traced as evaluated). */
// @ts-ignore: decorator
@inline
function storeEvaluated(o: i32, p: usize, s: f32, n: i32, outBlock: usize, corrBlock: usize, bias: usize, extraOps: i32, traceMap: usize, outBase: i32): void {
  const corr = extraOps ? f32.load(corrBlock + (<usize>o * n + p) * 4) : <f32>0;
  f32.store(outBlock + (<usize>o * n + p) * 4, f32.load(bias + <usize>o * 4) + corr + s);
  if (traceMap) store<u8>(traceMap + <usize>(outBase + o) * n + p, 0);
}

/** The first value of position p's window in the channels-last planes. */
// @ts-ignore: decorator
@inline
function windowAt(d: TileDesc, p: i32, kC: i32): usize {
  const y = p / d.outW;
  return hwcAt + (<usize>(y * d.strideH) * hwcPw + <usize>((p - y * d.outW) * d.strideW)) * kC * 4;
}

/**
 * The failing channels of a tile of fewer than 8 positions (SDSS without SPET), evaluated whole by
 * dot products over the channels-last planes: a position's window is kernelH runs of kernelW x
 * nKept contiguous values, so nothing is gathered. A tile of four positions runs two channels x
 * its four positions per pass (measured 5 % faster on conv2 of cifar10-quick than four channels x
 * two positions, which reads every weight vector twice per tile; three channels ran out of
 * registers: 14-30 % slower); other tiles four channels x two positions.
 */
function evaluateSmallTile(
  d: TileDesc, n: i32, j0: i32, cnt: i32, nFail: i32, outBlock: usize, corrBlock: usize, bias: usize, extraOps: i32, traceMap: usize, outBase: i32,
): void {
  ops += <f64>(nFail * cnt * (d.neuronOps + extraOps));
  macs += <f64>nFail * cnt * k1;
  const others = <usize>d.others;
  const kC = hwcKept;
  const L = d.kernelW * kC;
  const rowStride = <usize>(d.dilationH * hwcPw * kC) * 4;
  const kk = <usize>d.kernelH * L * 4;
  if (cnt == 4) {
    // A whole tile: two channels x its four positions per pass, so that each weight vector (the
    // rows come from L2) feeds four multiply-adds; an odd channel last alone.
    const p0 = i32.load(others + <usize>j0 * 4), p1 = i32.load(others + <usize>(j0 + 1) * 4);
    const p2 = i32.load(others + <usize>(j0 + 2) * 4), p3 = i32.load(others + <usize>(j0 + 3) * 4);
    const x0 = windowAt(d, p0, kC), x1 = windowAt(d, p1, kC), x2 = windowAt(d, p2, kC), x3 = windowAt(d, p3, kC);
    for (let f = 0; f < nFail; f += 2) {
      const a0 = hwcRowsAt + <usize>row(rowListAt, f) * kk;
      if (f + 1 < nFail) dots2x4(d.kernelH, L, rowStride, a0, hwcRowsAt + <usize>row(rowListAt, f + 1) * kk, x0, x1, x2, x3, dotsOutAt);
      else dot1x4(d.kernelH, L, rowStride, a0, x0, x1, x2, x3, dotsOutAt);
      for (let q = 0; q < 2 && f + q < nFail; q++) {
        const o = row(rowListAt, f + q);
        for (let e = 0; e < 4; e++) {
          const p = <usize>(e == 0 ? p0 : e == 1 ? p1 : e == 2 ? p2 : p3);
          storeEvaluated(o, p, f32.load(dotsOutAt + <usize>(q * 4 + e) * 4), n, outBlock, corrBlock, bias, extraOps, traceMap, outBase);
        }
      }
    }
    return;
  }
  for (let j = 0; j < cnt; j += 2) {
    const p0 = i32.load(others + <usize>(j0 + j) * 4);
    const p1 = i32.load(others + <usize>(j0 + min(j + 1, cnt - 1)) * 4);
    const x0 = windowAt(d, p0, kC), x1 = windowAt(d, p1, kC);
    for (let f = 0; f < nFail; f += 4) {
      const o0 = row(rowListAt, f);
      const o1 = row(rowListAt, min(f + 1, nFail - 1));
      const o2 = row(rowListAt, min(f + 2, nFail - 1));
      const o3 = row(rowListAt, min(f + 3, nFail - 1));
      dots4x2(d.kernelH, L, rowStride, hwcRowsAt + <usize>o0 * kk, hwcRowsAt + <usize>o1 * kk, hwcRowsAt + <usize>o2 * kk, hwcRowsAt + <usize>o3 * kk, x0, x1, dotsOutAt);
      for (let q = 0; q < 4 && f + q < nFail; q++) {
        const o = row(rowListAt, f + q);
        for (let e = 0; e < 2 && j + e < cnt; e++) {
          const p = <usize>(e == 0 ? p0 : p1);
          storeEvaluated(o, p, f32.load(dotsOutAt + <usize>(q * 2 + e) * 4), n, outBlock, corrBlock, bias, extraOps, traceMap, outBase);
        }
      }
    }
  }
}
