/**
 * SDSS — Significance-driven Selective Sampling (DYVEDEEP.md section 2), feature level.
 *
 * Our fixed semantics, per output map (stride s >= 2, delta d >= 0):
 * - Grid rows are {0, s, 2s, ...} plus the last row H - 1; grid columns likewise with W. Grid
 *   neurons (grid row AND grid column) are evaluated (with SPET / SFMA when on). Because the last
 *   row and column are on the grid, every other neuron lies between grid neurons.
 * - A non-grid neuron on a grid row takes its left and right grid neighbours, one on a grid
 *   column its upper and lower ones, any other the 4 grid neurons at the corners of its cell
 *   (order: top-left, top-right, bottom-left, bottom-right). If max - min of those values <= d,
 *   the neuron is set to their mean and not computed; otherwise it is evaluated.
 * - The values compared are the layer's stored (float32) outputs of the grid neurons; the mean is
 *   summed in float64 in the order above, multiplied by 1/n and stored as float32. A neuron whose
 *   neighbours include a NaN or an infinity never passes the test.
 *
 * Counting (both implementations run the same loop): a test over n neighbours costs 2 (n - 1)
 * comparisons (running min and max), one subtraction and one comparison; an interpolation n - 1
 * adds and one multiply.
 */
import { NetworkError } from '../errors.js';
import type { SdssKnobs } from '../effort/effort.js';

/** The sampling grid of one map size and stride. */
export interface SdssGrid {
  readonly height: number;
  readonly width: number;
  /** 1 for grid rows. */
  readonly gridRow: Uint8Array;
  /** 1 for grid columns. */
  readonly gridCol: Uint8Array;
  /** Per row: the grid row at or above it. */
  readonly rowAbove: Int32Array;
  /** Per row: the grid row at or below it. */
  readonly rowBelow: Int32Array;
  /** Per column: the grid column at or left of it. */
  readonly colLeft: Int32Array;
  /** Per column: the grid column at or right of it. */
  readonly colRight: Int32Array;
  /** Grid positions (y * width + x), row-major. */
  readonly grid: Int32Array;
  /** Every other position, row-major. */
  readonly others: Int32Array;
}

const grids = new Map<string, SdssGrid>();

/** Checks SDSS knobs; throws a NetworkError naming the layer. */
export function validateSdss(knobs: SdssKnobs, layerName: string): void {
  if (!(Number.isInteger(knobs.stride) && knobs.stride >= 2)) {
    throw new NetworkError(`layer '${layerName}': SDSS stride must be an integer >= 2, got ${knobs.stride}`);
  }
  if (!(knobs.delta >= 0)) throw new NetworkError(`layer '${layerName}': SDSS delta must be >= 0, got ${knobs.delta}`);
}

function axis(size: number, stride: number): { on: Uint8Array; before: Int32Array; after: Int32Array } {
  const on = new Uint8Array(size);
  for (let i = 0; i < size; i += stride) on[i] = 1;
  on[size - 1] = 1;
  const before = new Int32Array(size);
  const after = new Int32Array(size);
  let last = 0;
  for (let i = 0; i < size; i++) {
    if (on[i]) last = i;
    before[i] = last;
  }
  let next = size - 1;
  for (let i = size - 1; i >= 0; i--) {
    if (on[i]) next = i;
    after[i] = next;
  }
  return { on, before, after };
}

/** The grid of an H x W map for `stride` (cached: a few shapes per network). */
export function sdssGrid(height: number, width: number, stride: number): SdssGrid {
  const key = `${height}x${width}/${stride}`;
  let g = grids.get(key);
  if (!g) {
    const rows = axis(height, stride);
    const cols = axis(width, stride);
    const grid: number[] = [];
    const others: number[] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) (rows.on[y] && cols.on[x] ? grid : others).push(y * width + x);
    }
    g = {
      height, width, gridRow: rows.on, gridCol: cols.on,
      rowAbove: rows.before, rowBelow: rows.after, colLeft: cols.before, colRight: cols.after,
      grid: Int32Array.from(grid), others: Int32Array.from(others),
    };
    grids.set(key, g);
  }
  return g;
}

/** Number of grid neighbours of non-grid position (y, x): 2 on a grid row or column, else 4. */
export function neighbourCount(g: SdssGrid, y: number, x: number): number {
  return g.gridRow[y] || g.gridCol[x] ? 2 : 4;
}

/** Ops of one test over n neighbours. */
export function sdssTestOps(n: number): number {
  return 2 * (n - 1) + 2;
}

/** Ops of one interpolation over n neighbours. */
export function sdssInterpolateOps(n: number): number {
  return n;
}

/**
 * The SDSS test of non-grid neuron (y, x) of the map stored at map[offset ..] (row length
 * g.width, grid neurons already written). Returns the interpolated value when max - min of its
 * grid neighbours is <= delta, NaN when it must be evaluated.
 */
export function sdssInterpolate(map: Float32Array, offset: number, g: SdssGrid, y: number, x: number, delta: number): number {
  const w = g.width;
  if (g.gridRow[y]) {
    const a = map[offset + y * w + g.colLeft[x]];
    const b = map[offset + y * w + g.colRight[x]];
    return pair(a, b, delta);
  }
  if (g.gridCol[x]) {
    const a = map[offset + g.rowAbove[y] * w + x];
    const b = map[offset + g.rowBelow[y] * w + x];
    return pair(a, b, delta);
  }
  const top = offset + g.rowAbove[y] * w;
  const bottom = offset + g.rowBelow[y] * w;
  const l = g.colLeft[x];
  const r = g.colRight[x];
  const a = map[top + l];
  const b = map[top + r];
  const c = map[bottom + l];
  const d = map[bottom + r];
  let lo = a;
  let hi = a;
  if (b < lo) lo = b;
  if (b > hi) hi = b;
  if (c < lo) lo = c;
  if (c > hi) hi = c;
  if (d < lo) lo = d;
  if (d > hi) hi = d;
  return hi - lo <= delta ? (a + b + c + d) * 0.25 : NaN;
}

function pair(a: number, b: number, delta: number): number {
  let lo = a;
  let hi = a;
  if (b < lo) lo = b;
  if (b > hi) hi = b;
  return hi - lo <= delta ? (a + b) * 0.5 : NaN;
}
