/**
 * The blocked loops of the FAST dynamic convolution, and the packing that feeds them, all on one
 * float64 workspace per kernel set, created with the set on first use (nothing is allocated at
 * import: dense runs never pay for it).
 *
 * Why this shape (V8 11 / Node 20, measured on cifar10-quick and SqueezeNet convolutions):
 * - Every hot load goes through the workspace array `WS`, a `const` of the closure that
 *   createTsTileKernels() runs once per thread: V8 then specialises the loops on that closure's
 *   context and embeds the array's base and length, so a load is one compare against an
 *   immediate and one move. The workspace read through a parameter array, or a module-level
 *   `let`, costs 10-20 % (../fast/gemm.ts found the same); so does a second set made by the same
 *   factory (its closures are no longer specialised).
 * - The kept input maps are copied once per image into zero-padded float64 planes, so no loop
 *   ever tests a border. Positions that every output row evaluates (all, or SDSS's grid) get
 *   packed patches (3 positions interleaved per tap) built from the planes: a 4 x 3 tile then
 *   runs at ~2.9 GMAC/s, where reading the planes through a tap-offset table gave ~2.4. Neurons
 *   evaluated one by one read the planes directly (row by row, kx contiguous), as a patch would
 *   serve one output row only.
 * - Two summation orders, both exactly the reference's (see reference-convolution.ts), so that
 *   fast and reference take the same decisions:
 *   - without SPET, a neuron adds w * x over its kept channels and taps in sequence: the 4 x 3
 *     tile keeps its 12 sums in registers across all channels, like the dense GEMM;
 *   - with SPET, each row has its own significant channels, so the tiles go channel by channel
 *     (the quads of rows for which that channel is significant): a channel's taps are summed from
 *     0 in 12 registers, then added to the partial sums P. With 9 taps these read-modify-writes
 *     cost ~30 %, which is why the SPET-free order differs.
 * - Neurons evaluated one by one (SPET completions, SDSS neurons that failed the test) go 8 at a
 *   time for one output row: each weight is loaded once for 8 positions (~1.8-2 GMAC/s).
 *
 * Workspace layouts (T = taps per channel):
 * - channel panels W_A: per quad of 4 output rows, per channel c, per tap, the 4 rows' weights.
 * - SPET quads: per channel c, the quads of rows for which c is significant, same inner layout.
 * - rows W_B: per output row, per channel, per tap (the weights in Caffe order).
 * - planes: per kept channel j, its input map zero-padded to (H + 2 padH) x (W + 2 padW).
 * - patches X: per 3 listed positions, per kept channel j, per tap t, 3 values (one per position):
 *   X[((q / 3) * nKept + j) * 3T + 3t + q % 3], so that a tile over all channels reads on.
 * - P: rows of `ld` float64 partial sums, one per listed position.
 *
 * Not reentrant (JS is single-threaded and nothing here awaits).
 */
import type { DynGeometry } from '../../../mechanisms/geometry.js';

/** Doubles in the workspace (32 MiB of address space; pages are touched only as used). */
export const WORKSPACE_DOUBLES = 1 << 22;

const PAGE_BYTES = 65536;
/** Byte offset of the workspace in its memory (the first page holds the wasm module's static data). */
export const WORKSPACE_BYTE_OFFSET = PAGE_BYTES;
/** Bytes after the workspace where the wasm tile kernels stage their small lists (see wasm-tile-kernels.ts). */
export const STAGING_BYTES = 8 << 20;
/** Byte offset of the staging area. */
export const STAGING_BYTE_OFFSET = WORKSPACE_BYTE_OFFSET + WORKSPACE_DOUBLES * 8;
/** Pages of a workspace memory: fixed (it never grows, so views never detach). */
const WORKSPACE_PAGES = (STAGING_BYTE_OFFSET + STAGING_BYTES) / PAGE_BYTES;

/** Where the taps of a padded plane are: the padded geometry of a layer. */
export interface TapLayout {
  /** Padded plane width and size. */
  readonly paddedW: number;
  readonly planeSize: number;
  /** Distance between kernel rows, and between kernel columns, in a padded plane. */
  readonly rowStep: number;
  readonly colStep: number;
  /** Per output position: the offset of its (0, 0) tap in a padded plane. */
  readonly posBase: Int32Array;
}

const tapLayouts = new WeakMap<DynGeometry, TapLayout>();

/** The tap layout of a geometry (cached per geometry object). */
export function tapLayout(geom: DynGeometry): TapLayout {
  let l = tapLayouts.get(geom);
  if (!l) {
    const paddedW = geom.inW + 2 * geom.padW;
    const paddedH = geom.inH + 2 * geom.padH;
    const posBase = new Int32Array(geom.positions);
    for (let oy = 0; oy < geom.outH; oy++) {
      for (let ox = 0; ox < geom.outW; ox++) posBase[oy * geom.outW + ox] = oy * geom.strideH * paddedW + ox * geom.strideW;
    }
    l = { paddedW, planeSize: paddedW * paddedH, rowStep: geom.dilationH * paddedW, colStep: geom.dilationW, posBase };
    tapLayouts.set(geom, l);
  }
  return l;
}

/** Where the SPET quads of one row chunk are, per channel. */
export interface SpetQuads {
  /** Per channel c: its quads are quadStart[c] .. quadStart[c + 1] - 1. */
  readonly quadStart: Int32Array;
  /** 4 local rows per quad. */
  readonly quadRows: Int32Array;
  /** Per channel c: rows remRows[remStart[c] .. remStart[c + 1] - 1] left over after the quads. */
  readonly remStart: Int32Array;
  readonly remRows: Int32Array;
  /** Per channel: number of local rows for which it is significant. */
  readonly rowCount: Int32Array;
  /** WS offset of quad 0; quad k is at base + k * 4 * taps. */
  readonly base: number;
  /** Doubles used in WS. */
  readonly size: number;
}

/** Where listed position q's values start inside the patches of kept channel 0 (X layout). */
export function patchLane(q: number, T: number, nKept: number): number {
  return ((q / 3) | 0) * 3 * T * nKept + (q % 3);
}

/** Distance between the patch values of consecutive kept channels for one position. */
export function patchChannelStride(T: number): number {
  return 3 * T;
}

/**
 * The hot loops of the fast dynamic convolution and the packing that feeds them, as one swappable
 * set on one workspace: the TypeScript loops ({@link createTsTileKernels}, {@link TS_TILE_KERNELS})
 * or their WebAssembly f64x2 twins on the same workspace (../wasm/wasm-tile-kernels.ts). Both add
 * the same terms in the same order, so the decisions and outputs are the same bit for bit.
 * Workspace positions are indices in doubles.
 */
export interface TileKernels {
  /**
   * Neurons evaluated one by one read the padded planes rather than the packed patches (the
   * driver passes plane bases to accumulatePlanes instead of lanes to accumulatePacked).
   */
  readonly neuronsFromPlanes: boolean;
  /** The workspace, for the (not hot) code that initialises and reads partial sums. */
  workspace(): Float64Array;
  /**
   * Copies the kept channels (group-relative indices in kept[0 .. nKept)) of the group whose first
   * input map starts at x[planeBase] into zero-padded planes at WS[dst ..], one per kept channel.
   */
  padPlanes(x: Float32Array, planeBase: number, geom: DynGeometry, tl: TapLayout, kept: Int32Array, nKept: number, dst: number): void;
  /**
   * W_A: the weights of rows o0 .. o0 + mc - 1 of group g (group-relative) for every channel of
   * the group, as 4-row panels at WS[dst ..]: quad qd, channel c at dst + (qd * cpg + c) * 4 * taps;
   * rows past mc are zero. Size ceil(mc / 4) * cpg * 4 * taps.
   */
  packChannelPanels(w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number, dst: number): void;
  /** W_B: rows o0 .. o0 + mc - 1 of group g in Caffe order (row, channel, tap) at WS[dst ..]. */
  packRows(w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number, dst: number): void;
  /**
   * Packs, for rows o0 .. o0 + mc - 1 of group g and each channel c, the rows for which c is
   * significant (`rowsOfChannel[g * cpg + c]`, group-relative ascending) by 4 as panels at
   * WS[dst ..]; the 0-3 rows left over are computed from W_B.
   */
  packSpetQuads(w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number, rowsOfChannel: readonly Int32Array[], dst: number): SpetQuads;
  /**
   * Packed patches of `ld` listed positions (a multiple of 3; position q's plane offset is
   * bases[q]) for the nKept planes at WS[planes ..], into WS[dst ..] in the X layout.
   */
  buildPatches(geom: DynGeometry, tl: TapLayout, planes: number, nKept: number, bases: Int32Array, ld: number, dst: number): void;
  /**
   * Every row of the chunk (W_A panels at `wA`) over every kept channel and listed position
   * (patches at xOff, `ld` positions): P (rows of `ld` at `pOff`, initialised by the caller) += the
   * sums over the kept channels and taps, in sequence (the SPET-free order).
   */
  accumulatePanels(T: number, cpg: number, kept: Int32Array, nKept: number, wA: number, quads: number, xOff: number, ld: number, pOff: number): void;
  /**
   * One 4-row x 3-position tile over every kept channel and tap, in sequence: P (4 rows `pld`
   * apart at pOff, holding the bases) += the sums. The rows are quad `qd` of the W_A panels at wA;
   * the positions are the 3 at lane q of the packed patches at xOff.
   */
  accumulateQuadTile(
    T: number, cpg: number, kept: Int32Array, nKept: number, wA: number, qd: number, xOff: number, q: number, pOff: number, pld: number,
  ): void;
  /**
   * SPET partial sums: for each kept channel c (in `kept` order), only the rows for which c is
   * significant: P[row] += the channel's tap sum, by quads and then leftover single rows (W_B rows
   * at `wB`, `rowLen` = cpg * T apart). Returns the MACs executed per position.
   */
  accumulateSpetQuads(
    T: number, kept: Int32Array, nKept: number, sq: SpetQuads, wB: number, rowLen: number, xOff: number, ld: number, pOff: number,
  ): number;
  /**
   * Listed neurons of ONE output row, from packed patches: acc[i] += sum over the channels k in
   * [chanFrom, chanTo) of channel chanC[k]'s tap sum (weights at wRow + chanC[k] * T; patch block
   * at xOff + chanJ[k] * chanStride), for i < count; neuron i's lane is at slotX[i] inside a block
   * (taps 3 apart). Eight neurons at a time share each weight load.
   */
  accumulatePacked(
    wRow: number, T: number, chanC: Int32Array, chanJ: Int32Array, chanFrom: number, chanTo: number,
    xOff: number, chanStride: number, slotX: Int32Array, count: number, acc: Float64Array,
  ): void;
  /**
   * Listed neurons of ONE output row, straight from the padded planes: as accumulatePacked but
   * channel chanJ[k]'s plane is at planes + chanJ[k] * planeSize and neuron i's (0, 0) tap at
   * bases[i] in it; taps are walked row by row (kx contiguous, `colStep` apart; rows `rowStep`).
   * `flat`: add every w * x straight to the neuron's sum (the SPET-free order); otherwise sum each
   * channel's taps from 0 first (the SPET order).
   */
  accumulatePlanes(
    wRow: number, kernelH: number, kernelW: number, rowStep: number, colStep: number, flat: boolean,
    chanC: Int32Array, chanJ: Int32Array, chanFrom: number, chanTo: number,
    planes: number, planeSize: number, bases: Int32Array, count: number, acc: Float64Array,
  ): void;
}

/** A set of the TypeScript tile kernels, with the memory its workspace lives in. */
export interface TsTileKernels extends TileKernels {
  /**
   * A WebAssembly memory of fixed size (it never grows, so views never detach), which the
   * WebAssembly tile kernels import so that both sets work on the very same workspace.
   */
  readonly memory: WebAssembly.Memory;
}

/**
 * A new set of the TypeScript tile kernels on a workspace of its own (40 MiB of address space).
 * Call it once per thread (see the file comment; {@link sharedTileKernels} does): each function
 * inside implements the {@link TileKernels} member of the same name.
 */
export function createTsTileKernels(): TsTileKernels {
  const memory = new WebAssembly.Memory({ initial: WORKSPACE_PAGES, maximum: WORKSPACE_PAGES });
  const WS = new Float64Array(memory.buffer, WORKSPACE_BYTE_OFFSET, WORKSPACE_DOUBLES);

  function padPlanes(x: Float32Array, planeBase: number, geom: DynGeometry, tl: TapLayout, kept: Int32Array, nKept: number, dst: number): void {
    const { inH, inW, padH, padW } = geom;
    const pw = tl.paddedW;
    for (let j = 0; j < nKept; j++) {
      const src = planeBase + kept[j] * geom.planeSize;
      const d = dst + j * tl.planeSize;
      if (padH > 0) WS.fill(0, d, d + padH * pw);
      for (let iy = 0; iy < inH; iy++) {
        const row = d + (iy + padH) * pw;
        for (let ix = 0; ix < padW; ix++) WS[row + ix] = 0;
        const s = src + iy * inW;
        for (let ix = 0; ix < inW; ix++) WS[row + padW + ix] = x[s + ix];
        for (let ix = padW + inW; ix < pw; ix++) WS[row + ix] = 0;
      }
      if (padH > 0) WS.fill(0, d + (padH + inH) * pw, d + tl.planeSize);
    }
  }

  function packChannelPanels(w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number, dst: number): void {
    const { cpg, taps, m } = geom;
    const quads = (mc + 3) >> 2;
    for (let qd = 0; qd < quads; qd++) {
      for (let c = 0; c < cpg; c++) {
        const d = dst + (qd * cpg + c) * 4 * taps;
        for (let i = 0; i < 4; i++) {
          const r = qd * 4 + i;
          let q = d + i;
          if (r < mc) {
            const src = ((g * m + o0 + r) * cpg + c) * taps;
            for (let t = 0; t < taps; t++, q += 4) WS[q] = w[src + t];
          } else {
            for (let t = 0; t < taps; t++, q += 4) WS[q] = 0;
          }
        }
      }
    }
  }

  function packRows(w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number, dst: number): void {
    const n = geom.cpg * geom.taps;
    const src = (g * geom.m + o0) * n;
    for (let i = 0; i < mc * n; i++) WS[dst + i] = w[src + i];
  }

  function packSpetQuads(
    w: Float32Array, geom: DynGeometry, g: number, o0: number, mc: number,
    rowsOfChannel: readonly Int32Array[], dst: number,
  ): SpetQuads {
    const { cpg, taps, m } = geom;
    const quadStart = new Int32Array(cpg + 1);
    const remStart = new Int32Array(cpg + 1);
    const rowCount = new Int32Array(cpg);
    const quadRows: number[] = [];
    const remRows: number[] = [];
    let d = dst;
    for (let c = 0; c < cpg; c++) {
      const rows: number[] = [];
      for (const r of rowsOfChannel[g * cpg + c]) if (r >= o0 && r < o0 + mc) rows.push(r - o0);
      rowCount[c] = rows.length;
      quadStart[c] = quadRows.length / 4;
      remStart[c] = remRows.length;
      const full = rows.length & ~3;
      for (let k = 0; k < full; k += 4) {
        for (let i = 0; i < 4; i++) {
          const r = rows[k + i];
          quadRows.push(r);
          const src = ((g * m + o0 + r) * cpg + c) * taps;
          let q = d + i;
          for (let t = 0; t < taps; t++, q += 4) WS[q] = w[src + t];
        }
        d += 4 * taps;
      }
      for (let k = full; k < rows.length; k++) remRows.push(rows[k]);
    }
    quadStart[cpg] = quadRows.length / 4;
    remStart[cpg] = remRows.length;
    return { quadStart, quadRows: Int32Array.from(quadRows), remStart, remRows: Int32Array.from(remRows), rowCount, base: dst, size: d - dst };
  }

  // The inner loop runs over the positions (a tap of a channel at a time), the longest loop available.
  function buildPatches(geom: DynGeometry, tl: TapLayout, planes: number, nKept: number, bases: Int32Array, ld: number, dst: number): void {
    const { kernelH, kernelW, taps: T } = geom;
    const panelStride = nKept * 3 * T;
    for (let j = 0; j < nKept; j++) {
      const plane = planes + j * tl.planeSize;
      for (let ky = 0; ky < kernelH; ky++) {
        for (let kx = 0; kx < kernelW; kx++) {
          const src = plane + ky * tl.rowStep + kx * tl.colStep;
          let d = dst + (j * T + ky * kernelW + kx) * 3;
          for (let q = 0; q < ld; q += 3) {
            WS[d] = WS[src + bases[q]];
            WS[d + 1] = WS[src + bases[q + 1]];
            WS[d + 2] = WS[src + bases[q + 2]];
            d += panelStride;
          }
        }
      }
    }
  }

  /**
   * One channel's taps for 4 rows x 3 positions: P[p_i + j] += sum_t A[t][i] * X[t][j]. The loop
   * of ../fast/gemm.ts's microKernel on this workspace: one loop serving both would read its array
   * through a parameter, which costs 17 % (gemm) to 20 % (here).
   */
  function tile4x3(T: number, ao: number, bo: number, p0: number, p1: number, p2: number, p3: number): void {
    let c00 = 0, c01 = 0, c02 = 0;
    let c10 = 0, c11 = 0, c12 = 0;
    let c20 = 0, c21 = 0, c22 = 0;
    let c30 = 0, c31 = 0, c32 = 0;
    ao |= 0;
    bo |= 0;
    const aEnd = (ao + 4 * T) | 0;
    while (ao < aEnd) {
      const a0 = WS[ao];
      const a1 = WS[(ao + 1) | 0];
      const a2 = WS[(ao + 2) | 0];
      const a3 = WS[(ao + 3) | 0];
      const b0 = WS[bo];
      c00 += a0 * b0;
      c10 += a1 * b0;
      c20 += a2 * b0;
      c30 += a3 * b0;
      const b1 = WS[(bo + 1) | 0];
      c01 += a0 * b1;
      c11 += a1 * b1;
      c21 += a2 * b1;
      c31 += a3 * b1;
      const b2 = WS[(bo + 2) | 0];
      c02 += a0 * b2;
      c12 += a1 * b2;
      c22 += a2 * b2;
      c32 += a3 * b2;
      ao = (ao + 4) | 0;
      bo = (bo + 3) | 0;
    }
    WS[p0] += c00;
    WS[p0 + 1] += c01;
    WS[p0 + 2] += c02;
    WS[p1] += c10;
    WS[p1 + 1] += c11;
    WS[p1 + 2] += c12;
    WS[p2] += c20;
    WS[p2 + 1] += c21;
    WS[p2 + 2] += c22;
    WS[p3] += c30;
    WS[p3 + 1] += c31;
    WS[p3 + 2] += c32;
  }

  /** One channel's taps for 1 row (weights contiguous at ao) x 3 positions. */
  function tile1x3(T: number, ao: number, bo: number, p: number): void {
    let c0 = 0, c1 = 0, c2 = 0;
    ao |= 0;
    bo |= 0;
    const aEnd = (ao + T) | 0;
    while (ao < aEnd) {
      const a = WS[ao];
      c0 += a * WS[bo];
      c1 += a * WS[(bo + 1) | 0];
      c2 += a * WS[(bo + 2) | 0];
      ao = (ao + 1) | 0;
      bo = (bo + 3) | 0;
    }
    WS[p] += c0;
    WS[p + 1] += c1;
    WS[p + 2] += c2;
  }

  /**
   * 4 rows x 3 positions over every kept channel and tap, in sequence, the 12 sums in registers
   * from P's initial values (the SPET-free order). The channel c = kept[k] has its 4-row weights at
   * aQuad + c * 4T, the positions' values of kept channel k at bo + k * 3T.
   */
  function tileKept(T: number, nKept: number, kept: Int32Array, aQuad: number, bo: number, p0: number, pld: number): void {
    const p1 = p0 + pld;
    const p2 = p1 + pld;
    const p3 = p2 + pld;
    let c00 = WS[p0], c01 = WS[p0 + 1], c02 = WS[p0 + 2];
    let c10 = WS[p1], c11 = WS[p1 + 1], c12 = WS[p1 + 2];
    let c20 = WS[p2], c21 = WS[p2 + 1], c22 = WS[p2 + 2];
    let c30 = WS[p3], c31 = WS[p3 + 1], c32 = WS[p3 + 2];
    let b = bo | 0;
    for (let k = 0; k < nKept; k++) {
      let a = (aQuad + kept[k] * 4 * T) | 0;
      const aEnd = (a + 4 * T) | 0;
      while (a < aEnd) {
        const a0 = WS[a];
        const a1 = WS[(a + 1) | 0];
        const a2 = WS[(a + 2) | 0];
        const a3 = WS[(a + 3) | 0];
        const b0 = WS[b];
        c00 += a0 * b0;
        c10 += a1 * b0;
        c20 += a2 * b0;
        c30 += a3 * b0;
        const b1 = WS[(b + 1) | 0];
        c01 += a0 * b1;
        c11 += a1 * b1;
        c21 += a2 * b1;
        c31 += a3 * b1;
        const b2 = WS[(b + 2) | 0];
        c02 += a0 * b2;
        c12 += a1 * b2;
        c22 += a2 * b2;
        c32 += a3 * b2;
        a = (a + 4) | 0;
        b = (b + 3) | 0;
      }
    }
    WS[p0] = c00;
    WS[p0 + 1] = c01;
    WS[p0 + 2] = c02;
    WS[p1] = c10;
    WS[p1 + 1] = c11;
    WS[p1 + 2] = c12;
    WS[p2] = c20;
    WS[p2 + 1] = c21;
    WS[p2 + 2] = c22;
    WS[p3] = c30;
    WS[p3 + 1] = c31;
    WS[p3 + 2] = c32;
  }

  function accumulatePanels(
    T: number, cpg: number, kept: Int32Array, nKept: number, wA: number, quads: number, xOff: number, ld: number, pOff: number,
  ): void {
    for (let qd = 0; qd < quads; qd++) {
      const aQuad = wA + qd * cpg * 4 * T;
      for (let q = 0; q < ld; q += 3) tileKept(T, nKept, kept, aQuad, xOff + q * nKept * T, pOff + qd * 4 * ld + q, ld);
    }
  }

  function accumulateQuadTile(
    T: number, cpg: number, kept: Int32Array, nKept: number, wA: number, qd: number, xOff: number, q: number, pOff: number, pld: number,
  ): void {
    tileKept(T, nKept, kept, wA + qd * cpg * 4 * T, xOff + q * nKept * T, pOff, pld);
  }

  function accumulateSpetQuads(
    T: number, kept: Int32Array, nKept: number, sq: SpetQuads, wB: number, rowLen: number, xOff: number, ld: number, pOff: number,
  ): number {
    const panelStride = nKept * 3 * T;
    let macsPerPosition = 0;
    for (let j = 0; j < nKept; j++) {
      const c = kept[j];
      const bChan = xOff + j * 3 * T;
      for (let qd = sq.quadStart[c]; qd < sq.quadStart[c + 1]; qd++) {
        const ao = sq.base + qd * 4 * T;
        const r0 = pOff + sq.quadRows[4 * qd] * ld;
        const r1 = pOff + sq.quadRows[4 * qd + 1] * ld;
        const r2 = pOff + sq.quadRows[4 * qd + 2] * ld;
        const r3 = pOff + sq.quadRows[4 * qd + 3] * ld;
        for (let q = 0, b = bChan; q < ld; q += 3, b += panelStride) tile4x3(T, ao, b, r0 + q, r1 + q, r2 + q, r3 + q);
      }
      for (let k = sq.remStart[c]; k < sq.remStart[c + 1]; k++) {
        const r = sq.remRows[k];
        const ao = wB + r * rowLen + c * T;
        const p = pOff + r * ld;
        for (let q = 0, b = bChan; q < ld; q += 3, b += panelStride) tile1x3(T, ao, b, p + q);
      }
      macsPerPosition += sq.rowCount[c] * T;
    }
    return macsPerPosition;
  }

  // Not accumulatePlanes on a 1 x T kernel with taps 3 apart: that measured 10-15 % slower.
  function accumulatePacked(
    wRow: number, T: number, chanC: Int32Array, chanJ: Int32Array, chanFrom: number, chanTo: number,
    xOff: number, chanStride: number, slotX: Int32Array, count: number, acc: Float64Array,
  ): void {
    if (chanTo <= chanFrom) return;
    // With one tap the loop below is skipped (multiTapTo = chanFrom): see the T === 1 branch.
    const multiTapTo = T === 1 ? chanFrom : chanTo;
    let i = 0;
    for (; i + 8 <= count; i += 8) {
      const x0 = slotX[i];
      const d1 = slotX[i + 1] - x0;
      const d2 = slotX[i + 2] - x0;
      const d3 = slotX[i + 3] - x0;
      const d4 = slotX[i + 4] - x0;
      const d5 = slotX[i + 5] - x0;
      const d6 = slotX[i + 6] - x0;
      const d7 = slotX[i + 7] - x0;
      let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
      let a4 = acc[i + 4], a5 = acc[i + 5], a6 = acc[i + 6], a7 = acc[i + 7];
      if (T === 1) {
        // One tap: a channel's tap sum is one exact product, added straight to the sums.
        for (let k = chanFrom; k < chanTo; k++) {
          const w = WS[(wRow + chanC[k]) | 0];
          const xi = (xOff + chanJ[k] * chanStride + x0) | 0;
          a0 += w * WS[xi];
          a1 += w * WS[(xi + d1) | 0];
          a2 += w * WS[(xi + d2) | 0];
          a3 += w * WS[(xi + d3) | 0];
          a4 += w * WS[(xi + d4) | 0];
          a5 += w * WS[(xi + d5) | 0];
          a6 += w * WS[(xi + d6) | 0];
          a7 += w * WS[(xi + d7) | 0];
        }
      }
      for (let k = chanFrom; k < multiTapTo; k++) {
        let wi = (wRow + chanC[k] * T) | 0;
        const we = (wi + T) | 0;
        let xi = (xOff + chanJ[k] * chanStride + x0) | 0;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        while (wi < we) {
          const w = WS[wi];
          s0 += w * WS[xi];
          s1 += w * WS[(xi + d1) | 0];
          s2 += w * WS[(xi + d2) | 0];
          s3 += w * WS[(xi + d3) | 0];
          s4 += w * WS[(xi + d4) | 0];
          s5 += w * WS[(xi + d5) | 0];
          s6 += w * WS[(xi + d6) | 0];
          s7 += w * WS[(xi + d7) | 0];
          wi = (wi + 1) | 0;
          xi = (xi + 3) | 0;
        }
        a0 += s0;
        a1 += s1;
        a2 += s2;
        a3 += s3;
        a4 += s4;
        a5 += s5;
        a6 += s6;
        a7 += s7;
      }
      acc[i] = a0;
      acc[i + 1] = a1;
      acc[i + 2] = a2;
      acc[i + 3] = a3;
      acc[i + 4] = a4;
      acc[i + 5] = a5;
      acc[i + 6] = a6;
      acc[i + 7] = a7;
    }
    for (; i + 4 <= count; i += 4) {
      const x0 = slotX[i];
      const d1 = slotX[i + 1] - x0;
      const d2 = slotX[i + 2] - x0;
      const d3 = slotX[i + 3] - x0;
      let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
      for (let k = chanFrom; k < chanTo; k++) {
        let wi = (wRow + chanC[k] * T) | 0;
        const we = (wi + T) | 0;
        let xi = (xOff + chanJ[k] * chanStride + x0) | 0;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        while (wi < we) {
          const w = WS[wi];
          s0 += w * WS[xi];
          s1 += w * WS[(xi + d1) | 0];
          s2 += w * WS[(xi + d2) | 0];
          s3 += w * WS[(xi + d3) | 0];
          wi = (wi + 1) | 0;
          xi = (xi + 3) | 0;
        }
        a0 += s0;
        a1 += s1;
        a2 += s2;
        a3 += s3;
      }
      acc[i] = a0;
      acc[i + 1] = a1;
      acc[i + 2] = a2;
      acc[i + 3] = a3;
    }
    for (; i < count; i++) {
      let a = acc[i];
      const x0 = slotX[i];
      for (let k = chanFrom; k < chanTo; k++) {
        let wi = (wRow + chanC[k] * T) | 0;
        const we = (wi + T) | 0;
        let xi = (xOff + chanJ[k] * chanStride + x0) | 0;
        let s = 0;
        while (wi < we) {
          s += WS[wi] * WS[xi];
          wi = (wi + 1) | 0;
          xi = (xi + 3) | 0;
        }
        a += s;
      }
      acc[i] = a;
    }
  }

  function accumulatePlanes(
    wRow: number, kernelH: number, kernelW: number, rowStep: number, colStep: number, flat: boolean,
    chanC: Int32Array, chanJ: Int32Array, chanFrom: number, chanTo: number,
    planes: number, planeSize: number, bases: Int32Array, count: number, acc: Float64Array,
  ): void {
    if (chanTo <= chanFrom) return;
    const T = kernelH * kernelW;
    // One tap per channel: the plane holds the tap at each base, a channel's sum is one exact
    // product (both orders agree): the packed kernel's 1x1 path reads it the same way.
    if (T === 1) {
      accumulatePacked(wRow, 1, chanC, chanJ, chanFrom, chanTo, planes, planeSize, bases, count, acc);
      return;
    }
    let i = 0;
    for (; i + 8 <= count; i += 8) {
      const q0 = bases[i];
      const d1 = bases[i + 1] - q0;
      const d2 = bases[i + 2] - q0;
      const d3 = bases[i + 3] - q0;
      const d4 = bases[i + 4] - q0;
      const d5 = bases[i + 5] - q0;
      const d6 = bases[i + 6] - q0;
      const d7 = bases[i + 7] - q0;
      let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
      let a4 = acc[i + 4], a5 = acc[i + 5], a6 = acc[i + 6], a7 = acc[i + 7];
      for (let k = chanFrom; k < chanTo; k++) {
        let wi = (wRow + chanC[k] * T) | 0;
        let row = (planes + chanJ[k] * planeSize + q0) | 0;
        if (flat) {
          for (let ky = 0; ky < kernelH; ky++) {
            let x = row;
            const we = (wi + kernelW) | 0;
            while (wi < we) {
              const w = WS[wi];
              a0 += w * WS[x];
              a1 += w * WS[(x + d1) | 0];
              a2 += w * WS[(x + d2) | 0];
              a3 += w * WS[(x + d3) | 0];
              a4 += w * WS[(x + d4) | 0];
              a5 += w * WS[(x + d5) | 0];
              a6 += w * WS[(x + d6) | 0];
              a7 += w * WS[(x + d7) | 0];
              wi = (wi + 1) | 0;
              x = (x + colStep) | 0;
            }
            row = (row + rowStep) | 0;
          }
          continue;
        }
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        for (let ky = 0; ky < kernelH; ky++) {
          let x = row;
          const we = (wi + kernelW) | 0;
          while (wi < we) {
            const w = WS[wi];
            s0 += w * WS[x];
            s1 += w * WS[(x + d1) | 0];
            s2 += w * WS[(x + d2) | 0];
            s3 += w * WS[(x + d3) | 0];
            s4 += w * WS[(x + d4) | 0];
            s5 += w * WS[(x + d5) | 0];
            s6 += w * WS[(x + d6) | 0];
            s7 += w * WS[(x + d7) | 0];
            wi = (wi + 1) | 0;
            x = (x + colStep) | 0;
          }
          row = (row + rowStep) | 0;
        }
        a0 += s0;
        a1 += s1;
        a2 += s2;
        a3 += s3;
        a4 += s4;
        a5 += s5;
        a6 += s6;
        a7 += s7;
      }
      acc[i] = a0;
      acc[i + 1] = a1;
      acc[i + 2] = a2;
      acc[i + 3] = a3;
      acc[i + 4] = a4;
      acc[i + 5] = a5;
      acc[i + 6] = a6;
      acc[i + 7] = a7;
    }
    for (; i + 4 <= count; i += 4) {
      const q0 = bases[i];
      const d1 = bases[i + 1] - q0;
      const d2 = bases[i + 2] - q0;
      const d3 = bases[i + 3] - q0;
      let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
      for (let k = chanFrom; k < chanTo; k++) {
        let wi = (wRow + chanC[k] * T) | 0;
        let row = (planes + chanJ[k] * planeSize + q0) | 0;
        if (flat) {
          for (let ky = 0; ky < kernelH; ky++) {
            let x = row;
            const we = (wi + kernelW) | 0;
            while (wi < we) {
              const w = WS[wi];
              a0 += w * WS[x];
              a1 += w * WS[(x + d1) | 0];
              a2 += w * WS[(x + d2) | 0];
              a3 += w * WS[(x + d3) | 0];
              wi = (wi + 1) | 0;
              x = (x + colStep) | 0;
            }
            row = (row + rowStep) | 0;
          }
          continue;
        }
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let ky = 0; ky < kernelH; ky++) {
          let x = row;
          const we = (wi + kernelW) | 0;
          while (wi < we) {
            const w = WS[wi];
            s0 += w * WS[x];
            s1 += w * WS[(x + d1) | 0];
            s2 += w * WS[(x + d2) | 0];
            s3 += w * WS[(x + d3) | 0];
            wi = (wi + 1) | 0;
            x = (x + colStep) | 0;
          }
          row = (row + rowStep) | 0;
        }
        a0 += s0;
        a1 += s1;
        a2 += s2;
        a3 += s3;
      }
      acc[i] = a0;
      acc[i + 1] = a1;
      acc[i + 2] = a2;
      acc[i + 3] = a3;
    }
    for (; i < count; i++) {
      let a = acc[i];
      for (let k = chanFrom; k < chanTo; k++) {
        let wi = (wRow + chanC[k] * T) | 0;
        let row = (planes + chanJ[k] * planeSize + bases[i]) | 0;
        let s = 0;
        for (let ky = 0; ky < kernelH; ky++) {
          let x = row;
          for (let kx = 0; kx < kernelW; kx++) {
            if (flat) a += WS[wi] * WS[x];
            else s += WS[wi] * WS[x];
            wi = (wi + 1) | 0;
            x = (x + colStep) | 0;
          }
          row = (row + rowStep) | 0;
        }
        if (!flat) a += s;
      }
      acc[i] = a;
    }
  }

  return {
    memory,
    // Scalar loops gather one value per neuron either way; the patches are the ones phase A built.
    neuronsFromPlanes: false,
    workspace: () => WS,
    padPlanes, packChannelPanels, packRows, packSpetQuads,
    buildPatches, accumulatePanels, accumulateQuadTile, accumulateSpetQuads, accumulatePacked, accumulatePlanes,
  };
}

let shared: TsTileKernels | null = null;

/**
 * This thread's TypeScript tile kernels, created with their workspace on the first call (by the
 * first dynamic layer, or the WebAssembly tile kernels' instantiation) and the same afterwards.
 */
export function sharedTileKernels(): TsTileKernels {
  shared ??= createTsTileKernels();
  return shared;
}

/**
 * Forgets this thread's shared set, so that its workspace can be collected once nothing else
 * holds it (WebAssembly tile kernels instantiated on it do). A later use creates a new one, whose
 * loops V8 no longer specialises (see the file comment): release when done with dynamic layers.
 */
export function releaseSharedTileKernels(): void {
  shared = null;
}

/**
 * The TypeScript tile kernels of this thread ({@link sharedTileKernels}), created on first use:
 * a constant to pass where a set is expected, which allocates nothing until a member is called.
 */
export const TS_TILE_KERNELS: TileKernels = {
  neuronsFromPlanes: false,
  workspace: () => sharedTileKernels().workspace(),
  padPlanes: (x, planeBase, geom, tl, kept, nKept, dst) => sharedTileKernels().padPlanes(x, planeBase, geom, tl, kept, nKept, dst),
  packChannelPanels: (w, geom, g, o0, mc, dst) => sharedTileKernels().packChannelPanels(w, geom, g, o0, mc, dst),
  packRows: (w, geom, g, o0, mc, dst) => sharedTileKernels().packRows(w, geom, g, o0, mc, dst),
  packSpetQuads: (w, geom, g, o0, mc, rowsOfChannel, dst) => sharedTileKernels().packSpetQuads(w, geom, g, o0, mc, rowsOfChannel, dst),
  buildPatches: (geom, tl, planes, nKept, bases, ld, dst) => sharedTileKernels().buildPatches(geom, tl, planes, nKept, bases, ld, dst),
  accumulatePanels: (T, cpg, kept, nKept, wA, quads, xOff, ld, pOff) =>
    sharedTileKernels().accumulatePanels(T, cpg, kept, nKept, wA, quads, xOff, ld, pOff),
  accumulateQuadTile: (T, cpg, kept, nKept, wA, qd, xOff, q, pOff, pld) =>
    sharedTileKernels().accumulateQuadTile(T, cpg, kept, nKept, wA, qd, xOff, q, pOff, pld),
  accumulateSpetQuads: (T, kept, nKept, sq, wB, rowLen, xOff, ld, pOff) =>
    sharedTileKernels().accumulateSpetQuads(T, kept, nKept, sq, wB, rowLen, xOff, ld, pOff),
  accumulatePacked: (wRow, T, chanC, chanJ, chanFrom, chanTo, xOff, chanStride, slotX, count, acc) =>
    sharedTileKernels().accumulatePacked(wRow, T, chanC, chanJ, chanFrom, chanTo, xOff, chanStride, slotX, count, acc),
  accumulatePlanes: (wRow, kernelH, kernelW, rowStep, colStep, flat, chanC, chanJ, chanFrom, chanTo, planes, planeSize, bases, count, acc) =>
    sharedTileKernels().accumulatePlanes(
      wRow, kernelH, kernelW, rowStep, colStep, flat, chanC, chanJ, chanFrom, chanTo, planes, planeSize, bases, count, acc,
    ),
};
