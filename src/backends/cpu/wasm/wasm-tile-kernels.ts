/**
 * The fast dynamic convolution's hot loops in WebAssembly (wasm/dynamic/): the module imports
 * the memory of a TypeScript kernel set's workspace (../dynamic/tile-kernels.ts), so the
 * TypeScript driver packs weights, pads planes and reads partial sums exactly as it does for the
 * TypeScript loops, and only the loops change hands. Each call copies its small lists (channel
 * lists, neuron offsets, the neurons' sums) into the staging area above the workspace; a call
 * whose lists do not fit there runs the TypeScript loop instead (the same sums either way).
 */
import { DyveError } from '../../../errors.js';
import { WASM_DYNAMIC_SIMD } from '../../../generated/embedded-assets.js';
import type { DynGeometry } from '../../../mechanisms/geometry.js';
import {
  sharedTileKernels, STAGING_BYTE_OFFSET, STAGING_BYTES, WORKSPACE_BYTE_OFFSET,
  type SpetQuads, type TapLayout, type TileKernels, type TsTileKernels,
} from '../dynamic/tile-kernels.js';
import { decodeBase64 } from './base64.js';

/** The exports of wasm/dynamic/index.ts (workspace indices in doubles; lists as byte addresses). */
interface DynamicExports {
  heapBase(): number;
  buildPatches(kernelH: number, kernelW: number, rowStep: number, colStep: number, planeSize: number, planes: number, nKept: number, bases: number, ld: number, dst: number): void;
  accumulatePanels(T: number, cpg: number, kept: number, nKept: number, wA: number, quads: number, xOff: number, ld: number, pOff: number): void;
  accumulateQuadTile(T: number, cpg: number, kept: number, nKept: number, wA: number, qd: number, xOff: number, q: number, pOff: number, pld: number): void;
  accumulateSpetQuads(
    T: number, kept: number, nKept: number, quadStart: number, quadRows: number, remStart: number, remRows: number, rowCount: number,
    sqBase: number, wB: number, rowLen: number, xOff: number, ld: number, pOff: number,
  ): number;
  accumulatePacked(wRow: number, T: number, chanC: number, chanJ: number, nChan: number, xOff: number, chanStride: number, idx: number, count: number, acc: number): void;
  accumulatePlanes(
    wRow: number, kernelH: number, kernelW: number, rowStep: number, colStep: number, flat: number,
    chanC: number, chanJ: number, nChan: number, planes: number, planeSize: number, idx: number, count: number, acc: number,
  ): void;
}

/** Copies lists into the staging area, one after the other (8-byte aligned); null when they do not fit. */
class Stage {
  /** The addresses {@link neurons} staged: chanC, chanJ, the neuron offsets, their sums. */
  readonly at = new Int32Array(4);
  private top = STAGING_BYTE_OFFSET;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private fits = true;

  constructor(memory: WebAssembly.Memory) {
    this.i32 = new Int32Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
  }

  reset(): this {
    this.top = STAGING_BYTE_OFFSET;
    this.fits = true;
    return this;
  }

  private take(bytes: number): number {
    const at = this.top;
    this.top = (at + bytes + 15) & ~15;
    if (this.top > STAGING_BYTE_OFFSET + STAGING_BYTES) this.fits = false;
    return at;
  }

  /** list[from .. to) as Int32 (address); check `ok` before the call. */
  ints(list: Int32Array, from = 0, to = list.length): number {
    const at = this.take((to - from) * 4);
    if (this.fits) this.i32.set(list.subarray(from, to), at >> 2);
    return at;
  }

  /** acc[0 .. n) as Float64 (address). */
  doubles(acc: Float64Array, n: number): number {
    const at = this.take(n * 8);
    if (this.fits) this.f64.set(acc.subarray(0, n), at >> 3);
    return at;
  }

  /**
   * Stages one output row's neurons: chanC and chanJ over [from, to), the neuron offsets `idx`
   * and their sums `acc` over [0, count), at the addresses `at`; false when they do not fit.
   */
  neurons(chanC: Int32Array, chanJ: Int32Array, from: number, to: number, idx: Int32Array, count: number, acc: Float64Array): boolean {
    this.reset();
    this.at[0] = this.ints(chanC, from, to);
    this.at[1] = this.ints(chanJ, from, to);
    this.at[2] = this.ints(idx, 0, count);
    this.at[3] = this.doubles(acc, count);
    return this.fits;
  }

  /** Copies n doubles at `address` back into acc. */
  readBack(address: number, acc: Float64Array, n: number): void {
    acc.set(this.f64.subarray(address >> 3, (address >> 3) + n));
  }

  get ok(): boolean {
    return this.fits;
  }
}

/**
 * Instantiates the WebAssembly tile kernels on the workspace memory of `ts` (this thread's shared
 * TypeScript set by default, created now if no dynamic layer has run yet), whose TypeScript loops
 * also serve the calls whose lists do not fit the staging area.
 */
export async function instantiateWasmTileKernels(ts: TsTileKernels = sharedTileKernels()): Promise<TileKernels> {
  const abort = (): never => {
    throw new DyveError('the wasm dynamic kernels aborted (an internal error: please report it)');
  };
  const { instance } = await WebAssembly.instantiate(decodeBase64(WASM_DYNAMIC_SIMD), { env: { memory: ts.memory, abort } });
  const x = instance.exports as unknown as DynamicExports;
  if (x.heapBase() > WORKSPACE_BYTE_OFFSET) throw new DyveError('the wasm dynamic kernels have more static data than the page left for it');
  const stage = new Stage(ts.memory);
  return {
    // The workspace and the packing are the TypeScript set's; only the loops change hands.
    ...ts,
    // Consecutive positions of a stride-1 row are consecutive in a plane: whole-vector loads.
    neuronsFromPlanes: true,
    buildPatches(geom: DynGeometry, tl: TapLayout, planes: number, nKept: number, bases: Int32Array, ld: number, dst: number): void {
      const b = stage.reset().ints(bases, 0, ld);
      if (!stage.ok) return ts.buildPatches(geom, tl, planes, nKept, bases, ld, dst);
      x.buildPatches(geom.kernelH, geom.kernelW, tl.rowStep, tl.colStep, tl.planeSize, planes, nKept, b, ld, dst);
    },
    accumulatePanels(T, cpg, kept, nKept, wA, quads, xOff, ld, pOff): void {
      const k = stage.reset().ints(kept, 0, nKept);
      if (!stage.ok) return ts.accumulatePanels(T, cpg, kept, nKept, wA, quads, xOff, ld, pOff);
      x.accumulatePanels(T, cpg, k, nKept, wA, quads, xOff, ld, pOff);
    },
    accumulateQuadTile(T, cpg, kept, nKept, wA, qd, xOff, q, pOff, pld): void {
      const k = stage.reset().ints(kept, 0, nKept);
      if (!stage.ok) return ts.accumulateQuadTile(T, cpg, kept, nKept, wA, qd, xOff, q, pOff, pld);
      x.accumulateQuadTile(T, cpg, k, nKept, wA, qd, xOff, q, pOff, pld);
    },
    accumulateSpetQuads(T: number, kept: Int32Array, nKept: number, sq: SpetQuads, wB: number, rowLen: number, xOff: number, ld: number, pOff: number): number {
      stage.reset();
      const k = stage.ints(kept, 0, nKept);
      const qs = stage.ints(sq.quadStart);
      const qr = stage.ints(sq.quadRows);
      const rs = stage.ints(sq.remStart);
      const rr = stage.ints(sq.remRows);
      const rc = stage.ints(sq.rowCount);
      if (!stage.ok) return ts.accumulateSpetQuads(T, kept, nKept, sq, wB, rowLen, xOff, ld, pOff);
      return x.accumulateSpetQuads(T, k, nKept, qs, qr, rs, rr, rc, sq.base, wB, rowLen, xOff, ld, pOff);
    },
    accumulatePacked(wRow, T, chanC, chanJ, chanFrom, chanTo, xOff, chanStride, slotX, count, acc): void {
      if (chanTo <= chanFrom || count === 0) return;
      if (!stage.neurons(chanC, chanJ, chanFrom, chanTo, slotX, count, acc)) {
        return ts.accumulatePacked(wRow, T, chanC, chanJ, chanFrom, chanTo, xOff, chanStride, slotX, count, acc);
      }
      const at = stage.at;
      x.accumulatePacked(wRow, T, at[0], at[1], chanTo - chanFrom, xOff, chanStride, at[2], count, at[3]);
      stage.readBack(at[3], acc, count);
    },
    accumulatePlanes(wRow, kernelH, kernelW, rowStep, colStep, flat, chanC, chanJ, chanFrom, chanTo, planes, planeSize, bases, count, acc): void {
      if (chanTo <= chanFrom || count === 0) return;
      if (!stage.neurons(chanC, chanJ, chanFrom, chanTo, bases, count, acc)) {
        return ts.accumulatePlanes(wRow, kernelH, kernelW, rowStep, colStep, flat, chanC, chanJ, chanFrom, chanTo, planes, planeSize, bases, count, acc);
      }
      const at = stage.at;
      x.accumulatePlanes(
        wRow, kernelH, kernelW, rowStep, colStep, flat ? 1 : 0, at[0], at[1], chanTo - chanFrom, planes, planeSize, at[2], count, at[3],
      );
      stage.readBack(at[3], acc, count);
    },
  };
}
