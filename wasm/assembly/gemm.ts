/**
 * The blocked GEMM driver: C[m x n] = init + A[m x k] x B[k x n], float32, row-major C.
 *
 * A is packed in row panels (pack.ts, panels.ts); B comes in 8-column panels either pre-packed
 * (B_PACKED: an inner product's weights) or from the implicit im2col of a convolution (B_IM2COL,
 * im2col.ts). Loop order (BLIS): ranges of at most NC columns; K blocks of at most KC rows, whose
 * B panels are gathered once (kc x NC values: 2 MiB at most, in L2 / L3); blocks of A panels of at
 * most A_BLOCK_BYTES (kept in L2); the 8-column B panels (8 KiB, kept in L1); the A panels of the
 * block: one micro-kernel call per mr x 8 tile. Gathering B once per K block, not once per A
 * block, matters: a layer of 1000 output channels gathered its columns 8 times over, and ran at
 * half speed.
 * The first K block starts the accumulators from the bias (per row or per column), later ones
 * from C. A tile cut by the right edge of C (n % 8 columns) runs on a scratch tile and only its
 * valid columns are copied.
 */
import { copyBytes } from './copy';
import { im2colPanel, panelStride } from './im2col';
import { INIT_FROM_C, INIT_ROW_BIAS, tile } from './microkernels';
import { panelCount, panelRows } from './panels';

/** B is pre-packed in 8-column panels at bBase (pack.ts packColumnPanels). */
export const B_PACKED: i32 = 0;
/** B is the column matrix of the convolution set up in im2col.ts. */
export const B_IM2COL: i32 = 1;

/** Largest K block (measured best of 128 / 256 / 512 on SqueezeNet's and CIFAR's layers). */
export const KC: i32 = 256;
/** Largest column range whose B panels are gathered at once. */
export const NC: i32 = 2048;
/** Bytes of A kept hot in L2 across the B panels of a column range. */
const A_BLOCK_BYTES: i32 = 512 * 1024;

/** The balanced K block of a depth-k product: K blocks of nearly equal depth, none over KC. */
// @ts-ignore: decorator
@inline
function kBlock(k: i32): i32 {
  const blocks = (k + KC - 1) / KC;
  return (k + blocks - 1) / blocks;
}

/**
 * Scratch bytes `gemm` needs at `bScratch` for an n-column, depth-k product: the address and
 * stride of each B panel of a column range, then (B_IM2COL) the gathered panels of one K block.
 */
export function gemmScratchBytes(n: i32, k: i32, bMode: i32): usize {
  const panels = <usize>(min(NC, n) + 7) >> 3;
  return panels * 8 + (bMode == B_IM2COL ? panels * kBlock(k) * 32 : 0);
}

/**
 * C = init + A x B (see the file comment). `init`: INIT_ROW_BIAS (bias[i] per row, m values at
 * `bias`) or INIT_COLUMN_BIAS (bias[j] per column, n rounded up to 8 values at `bias`).
 * `bScratch`: gemmScratchBytes(n, k, bMode) bytes; `edge`: 6 x 8 floats.
 */
export function gemm(
  m: i32, n: i32, k: i32, a: usize, bMode: i32, bBase: usize, c: usize, ldc: usize,
  init: i32, bias: usize, bScratch: usize, edge: usize,
): void {
  const panels = panelCount(m);
  const kcMax = kBlock(k);
  // Per B panel of a column range: its address and row stride (int32 pairs), then the panels.
  const table = bScratch;
  const gathered = bScratch + (<usize>(min(NC, n) + 7) >> 3) * 8;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = min(NC, n - j0);
    const nPanels = (nc + 7) >> 3;
    for (let k0 = 0; k0 < k; k0 += kcMax) {
      const kc = min(kcMax, k - k0);
      const start = k0 == 0 ? init : INIT_FROM_C;
      for (let q = 0; q < nPanels; q++) {
        const n0 = j0 + (q << 3);
        const t = table + <usize>q * 8;
        if (bMode == B_PACKED) {
          i32.store(t, <i32>(bBase + (<usize>(n0 >> 3) * k + k0) * 32));
          i32.store(t, 32, 4);
        } else {
          i32.store(t, <i32>im2colPanel(k0, kc, n0, min(8, n - n0), gathered + <usize>q * kc * 32));
          i32.store(t, <i32>panelStride, 4);
        }
      }
      let p0 = 0;
      let row0 = 0;
      while (p0 < panels) {
        // The block of A panels [p0, p1), rows row0 .. row1.
        let p1 = p0;
        let row1 = row0;
        do {
          row1 += panelRows(m, p1);
          p1++;
        } while (p1 < panels && (row1 + panelRows(m, p1)) * kc * 4 <= A_BLOCK_BYTES);
        for (let q = 0; q < nPanels; q++) {
          const n0 = j0 + (q << 3);
          const nr = min(8, n - n0);
          const b = <usize>i32.load(table + <usize>q * 8);
          const bStride = <usize>i32.load(table + <usize>q * 8, 4);
          let row = row0;
          for (let p = p0; p < p1; p++) {
            const mr = panelRows(m, p);
            const ap = a + (<usize>row * k + <usize>k0 * mr) * 4;
            const bp: usize = start == INIT_FROM_C ? 0 : start == INIT_ROW_BIAS ? bias + <usize>row * 4 : bias + <usize>n0 * 4;
            const cp = c + <usize>row * ldc + <usize>n0 * 4;
            if (nr == 8) tile(mr, kc, ap, b, bStride, cp, ldc, start, bp);
            else edgeTile(mr, nr, kc, ap, b, bStride, cp, ldc, start, bp, edge);
            row += mr;
          }
        }
        p0 = p1;
        row0 = row1;
      }
    }
  }
}

/** An mr x nr tile with nr < 8: computed whole on `edge` (ldc 32), its nr columns copied to C. */
function edgeTile(
  mr: i32, nr: i32, kc: i32, a: usize, b: usize, bStride: usize, c: usize, ldc: usize, start: i32, bias: usize, edge: usize,
): void {
  const bytes = <usize>nr * 4;
  if (start == INIT_FROM_C) {
    for (let i = 0; i < mr; i++) copyBytes(edge + <usize>i * 32, c + <usize>i * ldc, bytes);
  }
  tile(mr, kc, a, b, bStride, edge, 32, start, bias);
  for (let i = 0; i < mr; i++) copyBytes(c + <usize>i * ldc, edge + <usize>i * 32, bytes);
}
