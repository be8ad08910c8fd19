/**
 * Packing of GEMM operands into the layouts the micro-kernels stream (see microkernels.ts).
 */
import { panelCount, panelRows } from './panels';

/**
 * Packs A (rows x cols, element (i, k) at src + (i * ld + k) * 4) into row panels (panels.ts):
 * panel p, rows r0 .. r0 + mr, lands at dst + r0 * cols * 4, k-major ([k][mr]). The packed matrix
 * has exactly rows x cols values: no padding.
 */
export function packRowPanels(src: usize, rows: i32, cols: i32, ld: i32, dst: usize): void {
  const count = panelCount(rows);
  let r0 = 0;
  for (let p = 0; p < count; p++) {
    const mr = panelRows(rows, p);
    let d = dst + <usize>r0 * cols * 4;
    for (let k = 0; k < cols; k++) {
      let s = src + (<usize>r0 * ld + k) * 4;
      for (let i = 0; i < mr; i++) {
        f32.store(d, f32.load(s));
        d += 4;
        s += <usize>ld * 4;
      }
    }
    r0 += mr;
  }
}

/**
 * Packs B (rows x cols, element (k, j) at src + (j * ld + k) * 4: column j contiguous, i.e. the
 * transpose of a row-major cols x rows matrix) into 8-column panels: panel j / 8 at
 * dst + (j / 8) * rows * 32, row k of it 8 consecutive values; columns past `cols` are zero.
 * Size: ceil(cols / 8) * 8 * rows values.
 */
export function packColumnPanels(src: usize, rows: i32, cols: i32, ld: i32, dst: usize): void {
  for (let j0 = 0; j0 < cols; j0 += 8) {
    const d0 = dst + <usize>(j0 >> 3) * rows * 32;
    for (let j = 0; j < 8; j++) {
      let d = d0 + <usize>j * 4;
      if (j0 + j < cols) {
        let s = src + <usize>(j0 + j) * ld * 4;
        for (let k = 0; k < rows; k++) {
          f32.store(d, f32.load(s));
          d += 32;
          s += 4;
        }
      } else {
        for (let k = 0; k < rows; k++) {
          f32.store(d, 0);
          d += 32;
        }
      }
    }
  }
}
