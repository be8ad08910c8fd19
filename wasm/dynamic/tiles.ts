/**
 * The 4-row x 3-position tiles of the fast dynamic convolution in f64x2: rows (0, 1) and (2, 3)
 * of a position share a vector, so one weight-panel load feeds two rows and one splat of a patch
 * value feeds them all. Each lane is one of the TypeScript tile's 12 accumulators, updated by the
 * same multiply then add (no fused multiply-add: it would round once, not twice), in the same
 * order: the sums are bit for bit those of tile-kernels.ts, so the decisions are the same.
 */
import { at, ws, wsLoad } from './workspace';

/** Two values `ld` apart at workspace index p, as one vector. */
// @ts-ignore: decorator
@inline
function pair(p0: i32, p1: i32): v128 {
  return f64x2.replace_lane(f64x2.splat(wsLoad(p0)), 1, wsLoad(p1));
}

// @ts-ignore: decorator
@inline
function storePair(v: v128, p0: i32, p1: i32): void {
  store<f64>(ws(p0), f64x2.extract_lane(v, 0));
  store<f64>(ws(p1), f64x2.extract_lane(v, 1));
}

// @ts-ignore: decorator
@inline
function madd(c: v128, a: v128, b: v128): v128 {
  return f64x2.add(c, f64x2.mul(a, b));
}

/**
 * tileKept: 4 rows x 3 positions over every kept channel (staged list `kept`) and tap, the 12
 * sums from P's values (rows `pld` apart at p0) and written back (the SPET-free order).
 */
function tileKept(T: i32, nKept: i32, kept: usize, aQuad: i32, bo: i32, p0: i32, pld: i32): void {
  const p1 = p0 + pld;
  const p2 = p1 + pld;
  const p3 = p2 + pld;
  let c0lo = pair(p0, p1), c0hi = pair(p2, p3);
  let c1lo = pair(p0 + 1, p1 + 1), c1hi = pair(p2 + 1, p3 + 1);
  let c2lo = pair(p0 + 2, p1 + 2), c2hi = pair(p2 + 2, p3 + 2);
  let b = ws(bo);
  for (let k = 0; k < nKept; k++) {
    let a = ws(aQuad + at(kept, k) * 4 * T);
    const aEnd = a + (<usize>(4 * T) << 3);
    while (a < aEnd) {
      const alo = v128.load(a);
      const ahi = v128.load(a, 16);
      const b0 = v128.load64_splat(b);
      c0lo = madd(c0lo, alo, b0);
      c0hi = madd(c0hi, ahi, b0);
      const b1 = v128.load64_splat(b, 8);
      c1lo = madd(c1lo, alo, b1);
      c1hi = madd(c1hi, ahi, b1);
      const b2 = v128.load64_splat(b, 16);
      c2lo = madd(c2lo, alo, b2);
      c2hi = madd(c2hi, ahi, b2);
      a += 32;
      b += 24;
    }
  }
  storePair(c0lo, p0, p1);
  storePair(c0hi, p2, p3);
  storePair(c1lo, p0 + 1, p1 + 1);
  storePair(c1hi, p2 + 1, p3 + 1);
  storePair(c2lo, p0 + 2, p1 + 2);
  storePair(c2hi, p2 + 2, p3 + 2);
}

/** tile-kernels.ts accumulatePanels: every row quad x every 3 listed positions, over the kept channels. */
export function accumulatePanels(T: i32, cpg: i32, kept: usize, nKept: i32, wA: i32, quads: i32, xOff: i32, ld: i32, pOff: i32): void {
  for (let qd = 0; qd < quads; qd++) {
    const aQuad = wA + qd * cpg * 4 * T;
    for (let q = 0; q < ld; q += 3) tileKept(T, nKept, kept, aQuad, xOff + q * nKept * T, pOff + qd * 4 * ld + q, ld);
  }
}

/** tile-kernels.ts accumulateQuadTile: one 4 x 3 tile over the kept channels. */
export function accumulateQuadTile(T: i32, cpg: i32, kept: usize, nKept: i32, wA: i32, qd: i32, xOff: i32, q: i32, pOff: i32, pld: i32): void {
  tileKept(T, nKept, kept, wA + qd * cpg * 4 * T, xOff + q * nKept * T, pOff, pld);
}

/** One channel's taps for 4 rows x 3 positions, summed from 0 then added to P (the SPET order). */
function tile4x3(T: i32, ao: i32, bo: i32, p0: i32, p1: i32, p2: i32, p3: i32): void {
  let c0lo = f64x2.splat(0), c0hi = f64x2.splat(0);
  let c1lo = f64x2.splat(0), c1hi = f64x2.splat(0);
  let c2lo = f64x2.splat(0), c2hi = f64x2.splat(0);
  let a = ws(ao);
  let b = ws(bo);
  const aEnd = a + (<usize>(4 * T) << 3);
  while (a < aEnd) {
    const alo = v128.load(a);
    const ahi = v128.load(a, 16);
    const b0 = v128.load64_splat(b);
    c0lo = madd(c0lo, alo, b0);
    c0hi = madd(c0hi, ahi, b0);
    const b1 = v128.load64_splat(b, 8);
    c1lo = madd(c1lo, alo, b1);
    c1hi = madd(c1hi, ahi, b1);
    const b2 = v128.load64_splat(b, 16);
    c2lo = madd(c2lo, alo, b2);
    c2hi = madd(c2hi, ahi, b2);
    a += 32;
    b += 24;
  }
  // P[p_i + j] += c_ij: P first, as `WS[p] += c` adds.
  storePair(f64x2.add(pair(p0, p1), c0lo), p0, p1);
  storePair(f64x2.add(pair(p2, p3), c0hi), p2, p3);
  storePair(f64x2.add(pair(p0 + 1, p1 + 1), c1lo), p0 + 1, p1 + 1);
  storePair(f64x2.add(pair(p2 + 1, p3 + 1), c1hi), p2 + 1, p3 + 1);
  storePair(f64x2.add(pair(p0 + 2, p1 + 2), c2lo), p0 + 2, p1 + 2);
  storePair(f64x2.add(pair(p2 + 2, p3 + 2), c2hi), p2 + 2, p3 + 2);
}

/** One channel's taps for 1 row (weights contiguous at ao) x 3 positions, added to P. */
function tile1x3(T: i32, ao: i32, bo: i32, p: i32): void {
  let c01 = f64x2.splat(0);
  let c2: f64 = 0;
  let a = ws(ao);
  let b = ws(bo);
  const aEnd = a + (<usize>T << 3);
  while (a < aEnd) {
    const av = load<f64>(a);
    c01 = madd(c01, f64x2.splat(av), v128.load(b));
    c2 += av * load<f64>(b, 16);
    a += 8;
    b += 24;
  }
  const d = ws(p);
  store<f64>(d, load<f64>(d) + f64x2.extract_lane(c01, 0));
  store<f64>(d, load<f64>(d, 8) + f64x2.extract_lane(c01, 1), 8);
  store<f64>(d, load<f64>(d, 16) + c2, 16);
}

/**
 * tile-kernels.ts accumulateSpetQuads: per kept channel, the quads of rows for which it is
 * significant, then its leftover rows. Staged lists: kept, quadStart, quadRows, remStart, remRows,
 * rowCount (as in SpetQuads). Returns the MACs executed per position.
 */
export function accumulateSpetQuads(
  T: i32, kept: usize, nKept: i32, quadStart: usize, quadRows: usize, remStart: usize, remRows: usize, rowCount: usize,
  sqBase: i32, wB: i32, rowLen: i32, xOff: i32, ld: i32, pOff: i32,
): i32 {
  const panelStride = nKept * 3 * T;
  let macsPerPosition = 0;
  for (let j = 0; j < nKept; j++) {
    const c = at(kept, j);
    const bChan = xOff + j * 3 * T;
    const qEnd = at(quadStart, c + 1);
    for (let qd = at(quadStart, c); qd < qEnd; qd++) {
      const ao = sqBase + qd * 4 * T;
      const r0 = pOff + at(quadRows, 4 * qd) * ld;
      const r1 = pOff + at(quadRows, 4 * qd + 1) * ld;
      const r2 = pOff + at(quadRows, 4 * qd + 2) * ld;
      const r3 = pOff + at(quadRows, 4 * qd + 3) * ld;
      for (let q = 0, b = bChan; q < ld; q += 3, b += panelStride) tile4x3(T, ao, b, r0 + q, r1 + q, r2 + q, r3 + q);
    }
    const rEnd = at(remStart, c + 1);
    for (let k = at(remStart, c); k < rEnd; k++) {
      const r = at(remRows, k);
      const ao = wB + r * rowLen + c * T;
      const p = pOff + r * ld;
      for (let q = 0, b = bChan; q < ld; q += 3, b += panelStride) tile1x3(T, ao, b, p + q);
    }
    macsPerPosition += at(rowCount, c) * T;
  }
  return macsPerPosition;
}
