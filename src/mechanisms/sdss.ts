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
 *   (a + b) * 0.5, or ((a + b) + (c + d)) * 0.25 in the order above, in float64, stored as float32.
 *   A neuron whose neighbours include a NaN, or whose mean is not a number, never passes.
 * - Rectified layers (whose output reaches the network only through a ReLU, directly or through
 *   max pools): the grid neurons are stored rectified, max(v, 0), before the tests, so the test
 *   compares what the next layer sees and a neuron whose neighbours all saturate becomes 0 (the
 *   spec's "e.g. all zero"); the ReLU after makes the stored change invisible. One op per grid
 *   neuron.
 * - The fast test decides with "every pair of neighbours differs by <= d" instead of max - min:
 *   the largest rounded pairwise difference IS the rounded max - min, so the decisions are the
 *   same, without the data-dependent branches of a running min/max (V8's Math.min/max branch too;
 *   a mispredicted branch per neuron cost more than the test itself).
 *
 * Counting (both implementations run the same loop): a test over n neighbours costs 2 (n - 1)
 * comparisons (running min and max), one subtraction and one comparison; an interpolation n - 1
 * adds and one multiply.
 */

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
  /** Non-grid neurons on a grid row or column: (position, neighbour 1, neighbour 2) triples. */
  readonly pairs: Int32Array;
  /** The other non-grid neurons: (position, top-left, top-right, bottom-left, bottom-right). */
  readonly cells: Int32Array;
  /** Ops of the tests of every non-grid neuron of one map. */
  readonly testOps: number;
}

const grids = new Map<string, SdssGrid>();

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
    const pairs: number[] = [];
    const cells: number[] = [];
    for (const p of others) {
      const y = Math.floor(p / width);
      const x = p - y * width;
      if (rows.on[y]) pairs.push(p, y * width + cols.before[x], y * width + cols.after[x]);
      else if (cols.on[x]) pairs.push(p, rows.before[y] * width + x, rows.after[y] * width + x);
      else {
        cells.push(
          p, rows.before[y] * width + cols.before[x], rows.before[y] * width + cols.after[x],
          rows.after[y] * width + cols.before[x], rows.after[y] * width + cols.after[x],
        );
      }
    }
    g = {
      height, width, gridRow: rows.on, gridCol: cols.on,
      rowAbove: rows.before, rowBelow: rows.after, colLeft: cols.before, colRight: cols.after,
      grid: Int32Array.from(grid), others: Int32Array.from(others),
      pairs: Int32Array.from(pairs), cells: Int32Array.from(cells),
      testOps: (pairs.length / 3) * sdssTestOps(2) + (cells.length / 5) * sdssTestOps(4),
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
  return hi - lo <= delta ? (a + b + (c + d)) * 0.25 : NaN;
}

/**
 * FAST form of {@link sdssInterpolate} over a whole map, branch-free: every non-grid neuron of the
 * map at map[offset ..] gets its neighbours' mean written (the failing ones are evaluated and
 * overwritten later) and its position appended to failing[failAt ..] unless it passes. Returns
 * the number of failing neurons; adds the interpolation ops to ops[0], the interpolated count to
 * ops[1].
 */
export function sdssTestMap(
  map: Float32Array, offset: number, g: SdssGrid, delta: number, failing: Int32Array, failAt: number, ops: Float64Array,
): number {
  let nFail = 0;
  let passPairs = 0;
  let passCells = 0;
  const pr = g.pairs;
  for (let k = 0; k < pr.length; k += 3) {
    const p = pr[k];
    const a = map[offset + pr[k + 1]];
    const b = map[offset + pr[k + 2]];
    const v = (a + b) * 0.5;
    map[offset + p] = v;
    failing[failAt + nFail] = p;
    const pass = +(Math.abs(a - b) <= delta) & +(v === v);
    nFail += 1 - pass;
    passPairs += pass;
  }
  const cl = g.cells;
  for (let k = 0; k < cl.length; k += 5) {
    const p = cl[k];
    const a = map[offset + cl[k + 1]];
    const b = map[offset + cl[k + 2]];
    const c = map[offset + cl[k + 3]];
    const d = map[offset + cl[k + 4]];
    const v = (a + b + (c + d)) * 0.25;
    map[offset + p] = v;
    failing[failAt + nFail] = p;
    const pass =
      +(Math.abs(a - b) <= delta) & +(Math.abs(a - c) <= delta) & +(Math.abs(a - d) <= delta) &
      +(Math.abs(b - c) <= delta) & +(Math.abs(b - d) <= delta) & +(Math.abs(c - d) <= delta) & +(v === v);
    nFail += 1 - pass;
    passCells += pass;
  }
  ops[0] += passPairs * sdssInterpolateOps(2) + passCells * sdssInterpolateOps(4);
  ops[1] += passPairs + passCells;
  return nFail;
}

/** ReLU's view of v (NaN stays NaN, so a NaN neighbour still never passes). */
export function rectify(v: number): number {
  return v < 0 ? 0 : v;
}

/** Rectifies the grid neurons of the map at map[offset ..]; returns the ops (one per neuron). */
export function rectifyGrid(map: Float32Array, offset: number, g: SdssGrid): number {
  const grid = g.grid;
  for (let k = 0; k < grid.length; k++) {
    const i = offset + grid[k];
    if (map[i] < 0) map[i] = 0;
  }
  return grid.length;
}

function pair(a: number, b: number, delta: number): number {
  let lo = a;
  let hi = a;
  if (b < lo) lo = b;
  if (b > hi) hi = b;
  return hi - lo <= delta ? (a + b) * 0.5 : NaN;
}
