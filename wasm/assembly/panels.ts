/**
 * How the rows of A are cut into micro-tile panels, shared by the packer and the GEMM driver so
 * both walk the same panels.
 *
 * Every panel has MR or MR - 1 rows where possible (both run near peak), so M = 32 with MR = 5
 * is 4 x 5 + 3 x 4 instead of 6 x 5 + 1 x 2 (a 2-row tile runs at half speed) or 7 x 5 with 3
 * zero rows. When M is too small for that (M % MR rows left and fewer than MR - 1 - rem full
 * panels), the last panel takes the remainder.
 */
import { MR } from './madd';

/**
 * Number of panels of an m-row matrix: ceil(m / MR) either way (full + 1 - (MR - rem) panels of
 * MR rows and MR - rem of MR - 1 rows hold full * MR + rem rows).
 */
export function panelCount(m: i32): i32 {
  return (m + MR - 1) / MR;
}

/** Rows of panel p (0-based) of an m-row matrix; panels are stored in order, rows contiguous. */
export function panelRows(m: i32, p: i32): i32 {
  const full = m / MR;
  const rem = m % MR;
  if (rem == 0) return MR;
  if (full >= MR - 1 - rem) {
    // MR - rem panels of MR - 1 rows after full + 1 - (MR - rem) panels of MR rows.
    return p < full + 1 - (MR - rem) ? MR : MR - 1;
  }
  return p < full ? MR : rem;
}
