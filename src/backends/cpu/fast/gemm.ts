/**
 * Single-precision GEMM in plain TypeScript: C += op(A) x op(B), cache blocked (BLIS loop order)
 * with packed panels and a 4 x 3 register-blocked micro-kernel.
 *
 * Why it looks the way it does (V8 11 / Node 20, x86-64; about 2.9 GMAC/s single-threaded on
 * 256x169x576 and 512^3, where a naive triple loop gets about 0.3):
 * - Panels are packed into ONE module-level Float64Array. Because that array is a constant, the
 *   JIT embeds its base address and length, so a load in the micro-kernel is a compare against
 *   an immediate plus one move; through a parameter array every iteration also pays a map check
 *   and reloads of base and length (about 10 % slower; two arrays instead of one, another 10 %).
 *   Float64 also saves the float32 -> float64 conversion on every load of the inner loop.
 * - Bounds checks make loads, not the multiply-adds, the bottleneck, so the tile maximises MACs
 *   per load while fitting the 16 SSE registers: 4 x 3 and 3 x 4 measured best (~2.9), 4 x 4 and
 *   2 x 6 about 5 % behind, 4 x 6 / 4 x 8 / 6 x 8 spill and lose 20-30 %, 2 x 4 loses 20 %.
 *   Unrolling k by two only adds spills.
 * - Index arithmetic is kept in int32 (`| 0`) to drop the overflow checks.
 * Accumulation inside one KC block is in float64 (JS numbers); C is float32 between blocks.
 *
 * Not reentrant: the packing buffer is shared (JS is single-threaded and nothing here awaits).
 */

/** A row-major float32 matrix inside a larger array. */
export interface MatrixRef {
  readonly data: Float32Array;
  /** Index of element (0, 0) of the stored (untransposed) matrix. */
  readonly offset: number;
  /** Leading dimension: distance between consecutive stored rows. */
  readonly ld: number;
  /** Use the transpose of the stored matrix: element (r, c) is at offset + c * ld + r. */
  readonly trans?: boolean;
}

const MR = 4;
const NR = 3;
/** Depth of one packed block (K direction). */
const KC = 256;
/** Rows of A packed at once (a multiple of MR); MC x KC doubles stay in L2. */
const MC = 96;
/** Columns of B packed at once (a multiple of NR). */
const NC = 2046;
const B_OFFSET = MC * KC;
/**
 * Up to this many columns, with both operands contiguous along k (an inner product on a small
 * batch), the unpacked 2 x 4 dot-product kernel wins: packing A costs as much as the product.
 */
const SKINNY_N = 16;
const PACK = new Float64Array(MC * KC + KC * NC);

/**
 * C[m x n] += op(A)[m x k] x op(B)[k x n]. C is never transposed. Callers initialise C (zeros or
 * bias): this only accumulates.
 */
export function gemm(m: number, n: number, k: number, a: MatrixRef, b: MatrixRef, c: MatrixRef): void {
  if (m <= 0 || n <= 0 || k <= 0) return;
  if (c.trans) throw new Error('gemm: C cannot be transposed');
  const aRow = a.trans ? 1 : a.ld;
  const aCol = a.trans ? a.ld : 1;
  const bRow = b.trans ? 1 : b.ld;
  const bCol = b.trans ? b.ld : 1;
  if (aCol === 1 && bRow === 1 && n <= SKINNY_N) {
    gemmSkinny(m, n, k, a.data, a.offset, aRow, b.data, b.offset, bCol, c.data, c.offset, c.ld);
    return;
  }
  if (m < 2 || n < 2) {
    gemmSmall(m, n, k, a, b, c);
    return;
  }
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = Math.min(KC, k - k0);
      packB(b.data, b.offset + k0 * bRow + j0 * bCol, bRow, bCol, kc, nc);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packA(a.data, a.offset + i0 * aRow + k0 * aCol, aRow, aCol, mc, kc);
        for (let jp = 0; jp < nc; jp += NR) {
          const nr = Math.min(NR, nc - jp);
          for (let ip = 0; ip < mc; ip += MR) {
            const mr = Math.min(MR, mc - ip);
            const cOff = c.offset + (i0 + ip) * c.ld + j0 + jp;
            if (mr === MR && nr === NR) microKernel(kc, ip * kc, B_OFFSET + jp * kc, c.data, cOff, c.ld);
            else microKernelEdge(kc, ip * kc, B_OFFSET + jp * kc, c.data, cOff, c.ld, mr, nr);
          }
        }
      }
    }
  }
}

/**
 * Packs an mc x kc block of A (element (i, p) at off + i * rs + p * cs) into MR-row panels,
 * k-major inside a panel; rows past mc are zero so edge tiles never meet stale values.
 */
function packA(src: Float32Array, off: number, rs: number, cs: number, mc: number, kc: number): void {
  let panel = 0;
  for (let ip = 0; ip < mc; ip += MR) {
    const mr = Math.min(MR, mc - ip);
    for (let i = 0; i < MR; i++) {
      let q = panel + i;
      if (i < mr) {
        let s = off + (ip + i) * rs;
        for (let p = 0; p < kc; p++) {
          PACK[q] = src[s];
          q += MR;
          s += cs;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          PACK[q] = 0;
          q += MR;
        }
      }
    }
    panel += MR * kc;
  }
}

/** Packs a kc x nc block of B (element (p, j) at off + p * rs + j * cs) into NR-column panels. */
function packB(src: Float32Array, off: number, rs: number, cs: number, kc: number, nc: number): void {
  let q = B_OFFSET;
  for (let jp = 0; jp < nc; jp += NR) {
    const nr = Math.min(NR, nc - jp);
    const col = off + jp * cs;
    if (nr === NR && cs === 1) {
      for (let p = 0; p < kc; p++) {
        const s = col + p * rs;
        PACK[q] = src[s];
        PACK[q + 1] = src[s + 1];
        PACK[q + 2] = src[s + 2];
        q += NR;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const s = col + p * rs;
        for (let j = 0; j < NR; j++) PACK[q + j] = j < nr ? src[s + j * cs] : 0;
        q += NR;
      }
    }
  }
}

/**
 * The MR x NR tile: C[co + i * ldc + j] += sum_p Apanel[p][i] * Bpanel[p][j]. The dynamic
 * kernels' tile4x3 (../dynamic/tile-kernels.ts) runs the same loop on their own workspace: each
 * copy reads a constant array (see the file comment; through a parameter this runs 17 % slower).
 */
function microKernel(kc: number, ao: number, bo: number, c: Float32Array, co: number, ldc: number): void {
  let c00 = 0, c01 = 0, c02 = 0;
  let c10 = 0, c11 = 0, c12 = 0;
  let c20 = 0, c21 = 0, c22 = 0;
  let c30 = 0, c31 = 0, c32 = 0;
  ao |= 0;
  bo |= 0;
  const aEnd = (ao + kc * MR) | 0;
  while (ao < aEnd) {
    const a0 = PACK[ao];
    const a1 = PACK[(ao + 1) | 0];
    const a2 = PACK[(ao + 2) | 0];
    const a3 = PACK[(ao + 3) | 0];
    const b0 = PACK[bo];
    c00 += a0 * b0;
    c10 += a1 * b0;
    c20 += a2 * b0;
    c30 += a3 * b0;
    const b1 = PACK[(bo + 1) | 0];
    c01 += a0 * b1;
    c11 += a1 * b1;
    c21 += a2 * b1;
    c31 += a3 * b1;
    const b2 = PACK[(bo + 2) | 0];
    c02 += a0 * b2;
    c12 += a1 * b2;
    c22 += a2 * b2;
    c32 += a3 * b2;
    ao = (ao + MR) | 0;
    bo = (bo + NR) | 0;
  }
  let r = co;
  c[r] += c00;
  c[r + 1] += c01;
  c[r + 2] += c02;
  r += ldc;
  c[r] += c10;
  c[r + 1] += c11;
  c[r + 2] += c12;
  r += ldc;
  c[r] += c20;
  c[r + 1] += c21;
  c[r + 2] += c22;
  r += ldc;
  c[r] += c30;
  c[r + 1] += c31;
  c[r + 2] += c32;
}

const edgeTile = new Float32Array(MR * NR);

/**
 * A tile cut by the edge of C: the full tile is computed on the zero-padded panels into a
 * scratch tile, and only its mr x nr corner is added to C.
 */
function microKernelEdge(kc: number, ao: number, bo: number, c: Float32Array, co: number, ldc: number, mr: number, nr: number): void {
  edgeTile.fill(0);
  microKernel(kc, ao, bo, edgeTile, 0, NR);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) c[co + i * ldc + j] += edgeTile[i * NR + j];
  }
}

/**
 * m or n below 2 with an operand strided along k (a group with one output channel): one dot
 * product per output, no packing.
 */
function gemmSmall(m: number, n: number, k: number, a: MatrixRef, b: MatrixRef, c: MatrixRef): void {
  const aRow = a.trans ? 1 : a.ld;
  const aCol = a.trans ? a.ld : 1;
  const bRow = b.trans ? 1 : b.ld;
  const bCol = b.trans ? b.ld : 1;
  const A = a.data;
  const B = b.data;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sa = a.offset + i * aRow;
      let sb = b.offset + j * bCol;
      let acc = 0;
      for (let p = 0; p < k; p++) {
        acc += A[sa] * B[sb];
        sa += aCol;
        sb += bRow;
      }
      c.data[c.offset + i * c.ld + j] += acc;
    }
  }
}

/**
 * C += A x B where row i of A is contiguous from aOff + i * lda and column j of B contiguous from
 * bOff + j * ldb, for few columns: 2 rows x 4 columns at a time (6 loads for 8 multiply-adds,
 * each row of A read once per 4 columns), then 2 rows x 1 column, then a last odd row by dot
 * products.
 */
function gemmSkinny(
  m: number, n: number, k: number, A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number, C: Float32Array, cOff: number, ldc: number,
): void {
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = aOff + i * lda;
    const a1 = a0 + lda;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = bOff + j * ldb;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      for (let p = 0; p < k; p++) {
        const x = A[a0 + p];
        const y = A[a1 + p];
        const v0 = B[b0 + p];
        const v1 = B[b1 + p];
        const v2 = B[b2 + p];
        const v3 = B[b3 + p];
        c00 += x * v0;
        c01 += x * v1;
        c02 += x * v2;
        c03 += x * v3;
        c10 += y * v0;
        c11 += y * v1;
        c12 += y * v2;
        c13 += y * v3;
      }
      const r0 = cOff + i * ldc + j;
      const r1 = r0 + ldc;
      C[r0] += c00;
      C[r0 + 1] += c01;
      C[r0 + 2] += c02;
      C[r0 + 3] += c03;
      C[r1] += c10;
      C[r1 + 1] += c11;
      C[r1 + 2] += c12;
      C[r1 + 3] += c13;
    }
    for (; j < n; j++) {
      // 2 rows x 1 column, two partial sums per row against the add latency.
      const b0 = bOff + j * ldb;
      let c0 = 0, c1 = 0, d0 = 0, d1 = 0;
      let p = 0;
      for (; p + 2 <= k; p += 2) {
        const v0 = B[b0 + p];
        const v1 = B[b0 + p + 1];
        c0 += A[a0 + p] * v0;
        c1 += A[a0 + p + 1] * v1;
        d0 += A[a1 + p] * v0;
        d1 += A[a1 + p + 1] * v1;
      }
      if (p < k) {
        c0 += A[a0 + p] * B[b0 + p];
        d0 += A[a1 + p] * B[b0 + p];
      }
      C[cOff + i * ldc + j] += c0 + c1;
      C[cOff + (i + 1) * ldc + j] += d0 + d1;
    }
  }
  for (; i < m; i++) {
    for (let j = 0; j < n; j++) C[cOff + i * ldc + j] += dot(A, aOff + i * lda, B, bOff + j * ldb, k);
  }
}

/** sum_p x[xo + p] * y[yo + p] over k terms, in four partial sums. */
function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, k: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    s0 += x[xo + p] * y[yo + p];
    s1 += x[xo + p + 1] * y[yo + p + 1];
    s2 += x[xo + p + 2] * y[yo + p + 2];
    s3 += x[xo + p + 3] * y[yo + p + 3];
  }
  for (; p < k; p++) s0 += x[xo + p] * y[yo + p];
  return s0 + s1 + s2 + s3;
}
