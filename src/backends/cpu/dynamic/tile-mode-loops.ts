/**
 * The hot loops of the TypeScript tile-mode convolution (tile-mode-fast.ts drives them), all on
 * one float64 workspace `WS`, a `const` of the closure {@link createTileModeLoops} builds: V8 then
 * embeds the array's base and length in every loop (a load is one compare against an immediate
 * and one move; tile-kernels.ts and ../fast/gemm.ts measured 10-20 % for reading it through a
 * parameter). Values are stored as float64 because JavaScript computes in float64 anyway: a
 * float32 array would add a conversion to every load of the inner loops.
 *
 * Layouts (indices in doubles, chosen by the driver):
 * - weights A: per output row o of the group, its kept channels' taps in kept order, `lda` apart;
 * - planes: per kept channel (kept order), its input map zero-padded (no loop tests a border);
 * - panel: per K row k (kept channel x tap), `bw` values, one per position of the block;
 * - S: per output row o, `bw` partial sums, one per position of the block.
 */

/** The loops of one workspace (see the file comment). */
export interface TileModeLoops {
  /** The workspace (the driver initialises and reads partial sums through it). */
  readonly ws: Float64Array;
  /**
   * Copies `count` rows of `width` float32 values from w (row r at src[r]) to WS[dst + r * width ..].
   */
  copyRows(w: Float32Array, src: Int32Array, count: number, width: number, dst: number): void;
  /**
   * Copies the input maps x[planeBase + channels[j] * inH * inW ..] (j < n) into zero-padded
   * planes of ph x pw at WS[dst + j * ph * pw ..] (the map at row padH, column padW).
   */
  padPlanes(
    x: Float32Array, planeBase: number, channels: Int32Array, n: number,
    inH: number, inW: number, padH: number, padW: number, ph: number, pw: number, dst: number,
  ): void;
  /**
   * The panel of `n` positions for `kRows` = kept channels x taps rows: WS[dst + k * bw + j] =
   * plane (k / taps) at tap offset tapOff[k % taps] + bases[j], the planes `planeSize` apart from
   * WS[planes].
   */
  packPanel(planes: number, planeSize: number, tapOff: Int32Array, nKept: number, bases: Int32Array, n: number, bw: number, dst: number): void;
  /**
   * For f < nRows, o = rows[f], j < nCols: WS[s + o * bw + c0 + j] += sum over k in [kFrom, kTo)
   * of WS[a + o * lda + k] x WS[panel + k * bw + c0 + j]. Output rows stay apart (each has its own
   * decisions); three share every panel load and four positions every weight load.
   */
  rowsTimesPanel(
    rows: Int32Array, nRows: number, a: number, lda: number, kFrom: number, kTo: number,
    panel: number, bw: number, c0: number, nCols: number, s: number,
  ): void;
}

/** A workspace of `doubles` values and the loops on it (one set per size the driver needs). */
export function createTileModeLoops(doubles: number): TileModeLoops {
  const WS = new Float64Array(doubles);

  function copyRows(w: Float32Array, src: Int32Array, count: number, width: number, dst: number): void {
    for (let r = 0; r < count; r++) {
      const from = src[r];
      const to = dst + r * width;
      for (let i = 0; i < width; i++) WS[to + i] = w[from + i];
    }
  }

  function padPlanes(
    x: Float32Array, planeBase: number, channels: Int32Array, n: number,
    inH: number, inW: number, padH: number, padW: number, ph: number, pw: number, dst: number,
  ): void {
    for (let j = 0; j < n; j++) {
      const from = planeBase + channels[j] * inH * inW;
      const d = dst + j * ph * pw;
      WS.fill(0, d, d + padH * pw);
      for (let iy = 0; iy < inH; iy++) {
        const row = d + (iy + padH) * pw;
        for (let ix = 0; ix < padW; ix++) WS[row + ix] = 0;
        const s = from + iy * inW;
        for (let ix = 0; ix < inW; ix++) WS[row + padW + ix] = x[s + ix];
        for (let ix = padW + inW; ix < pw; ix++) WS[row + ix] = 0;
      }
      WS.fill(0, d + (padH + inH) * pw, d + ph * pw);
    }
  }

  function packPanel(planes: number, planeSize: number, tapOff: Int32Array, nKept: number, bases: Int32Array, n: number, bw: number, dst: number): void {
    const taps = tapOff.length;
    let d = dst;
    for (let j = 0; j < nKept; j++) {
      const plane = planes + j * planeSize;
      for (let t = 0; t < taps; t++) {
        const src = plane + tapOff[t];
        for (let q = 0; q < n; q++) WS[d + q] = WS[src + bases[q]];
        d += bw;
      }
    }
  }

  function rowsTimesPanel(
    rows: Int32Array, nRows: number, a: number, lda: number, kFrom: number, kTo: number,
    panel: number, bw: number, c0: number, nCols: number, s: number,
  ): void {
    const kc = (kTo - kFrom) | 0;
    if (kc <= 0) return;
    const p0 = (panel + kFrom * bw + c0) | 0;
    let f = 0;
    for (; f + 3 <= nRows; f += 3) {
      const r0 = rows[f];
      const r1 = rows[f + 1];
      const r2 = rows[f + 2];
      const a0 = (a + r0 * lda + kFrom) | 0;
      const a1 = (a + r1 * lda + kFrom) | 0;
      const a2 = (a + r2 * lda + kFrom) | 0;
      const s0 = (s + r0 * bw + c0) | 0;
      const s1 = (s + r1 * bw + c0) | 0;
      const s2 = (s + r2 * bw + c0) | 0;
      let j = 0;
      for (; j + 4 <= nCols; j += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let p = (p0 + j) | 0;
        for (let k = 0; k < kc; k++) {
          const b0 = WS[p];
          const b1 = WS[p + 1];
          const b2 = WS[p + 2];
          const b3 = WS[p + 3];
          const x0 = WS[a0 + k];
          const x1 = WS[a1 + k];
          const x2 = WS[a2 + k];
          c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
          c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
          c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
          p = (p + bw) | 0;
        }
        WS[s0 + j] += c00; WS[s0 + j + 1] += c01; WS[s0 + j + 2] += c02; WS[s0 + j + 3] += c03;
        WS[s1 + j] += c10; WS[s1 + j + 1] += c11; WS[s1 + j + 2] += c12; WS[s1 + j + 3] += c13;
        WS[s2 + j] += c20; WS[s2 + j + 1] += c21; WS[s2 + j + 2] += c22; WS[s2 + j + 3] += c23;
      }
      for (; j < nCols; j++) {
        let c0v = 0, c1v = 0, c2v = 0;
        let p = (p0 + j) | 0;
        for (let k = 0; k < kc; k++) {
          const b = WS[p];
          c0v += WS[a0 + k] * b;
          c1v += WS[a1 + k] * b;
          c2v += WS[a2 + k] * b;
          p = (p + bw) | 0;
        }
        WS[s0 + j] += c0v;
        WS[s1 + j] += c1v;
        WS[s2 + j] += c2v;
      }
    }
    for (; f < nRows; f++) {
      const r = rows[f];
      const a0 = (a + r * lda + kFrom) | 0;
      const s0 = (s + r * bw + c0) | 0;
      let j = 0;
      for (; j + 4 <= nCols; j += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let p = (p0 + j) | 0;
        for (let k = 0; k < kc; k++) {
          const x0 = WS[a0 + k];
          c00 += x0 * WS[p]; c01 += x0 * WS[p + 1]; c02 += x0 * WS[p + 2]; c03 += x0 * WS[p + 3];
          p = (p + bw) | 0;
        }
        WS[s0 + j] += c00; WS[s0 + j + 1] += c01; WS[s0 + j + 2] += c02; WS[s0 + j + 3] += c03;
      }
      for (; j < nCols; j++) {
        let c = 0;
        let p = (p0 + j) | 0;
        for (let k = 0; k < kc; k++) {
          c += WS[a0 + k] * WS[p];
          p = (p + bw) | 0;
        }
        WS[s0 + j] += c;
      }
    }
  }

  return { ws: WS, copyRows, padPlanes, packPanel, rowsTimesPanel };
}
