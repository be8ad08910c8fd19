/**
 * Listed neurons of ONE output row (SPET's completions, SDSS's failing neurons): tile-kernels.ts
 * accumulatePacked and accumulatePlanes, eight neurons at a time as four f64x2 pairs (each lane
 * one of the TypeScript loop's accumulators, the same multiply then add in the same order).
 * Neurons sit at arbitrary offsets, so each pair is gathered by two scalar loads, except where
 * the eight are consecutive values (positions of one row read from the planes, stride 1): then
 * whole-vector loads.
 *
 * Staged lists (byte addresses): chanC / chanJ (the channels, from index 0), idx (per neuron: its
 * lane in the patches, or its base in the planes), acc (per neuron: its sum, read and written).
 */
import { at, ws } from './workspace';

// @ts-ignore: decorator
@inline
function gather(x: usize, d: usize): v128 {
  return f64x2.replace_lane(v128.load64_splat(x), 1, load<f64>(x + d));
}

// @ts-ignore: decorator
@inline
function madd(c: v128, a: v128, b: v128): v128 {
  return f64x2.add(c, f64x2.mul(a, b));
}

// @ts-ignore: decorator
@inline
function loadAcc(acc: usize, i: i32): v128 {
  return v128.load(acc + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline
function storeAcc(acc: usize, i: i32, a01: v128, a23: v128, a45: v128, a67: v128): void {
  const p = acc + (<usize>i << 3);
  v128.store(p, a01);
  v128.store(p, a23, 16);
  v128.store(p, a45, 32);
  v128.store(p, a67, 48);
}

/** Whether the byte distances of neurons 1..7 from neuron 0 make them eight consecutive doubles. */
// @ts-ignore: decorator
@inline
function consecutive(d1: usize, d2: usize, d3: usize, d4: usize, d5: usize, d6: usize, d7: usize): bool {
  return (d1 == 8) & (d2 == 16) & (d3 == 24) & (d4 == 32) & (d5 == 40) & (d6 == 48) & (d7 == 56);
}

/** accumulatePacked: channel chanJ[k]'s patch block at xOff + chanJ[k] * chanStride, taps 3 apart. */
export function accumulatePacked(
  wRow: i32, T: i32, chanC: usize, chanJ: usize, nChan: i32, xOff: i32, chanStride: i32, idx: usize, count: i32, acc: usize,
): void {
  if (nChan <= 0) return;
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const x0 = at(idx, i);
    const d1 = <usize>(at(idx, i + 1) - x0) << 3;
    const d2 = <usize>(at(idx, i + 2) - x0) << 3;
    const d3 = <usize>(at(idx, i + 3) - x0) << 3;
    const d4 = <usize>(at(idx, i + 4) - x0) << 3;
    const d5 = <usize>(at(idx, i + 5) - x0) << 3;
    const d6 = <usize>(at(idx, i + 6) - x0) << 3;
    const d7 = <usize>(at(idx, i + 7) - x0) << 3;
    const d3m2 = d3 - d2;
    const d5m4 = d5 - d4;
    const d7m6 = d7 - d6;
    let a01 = loadAcc(acc, i), a23 = loadAcc(acc, i + 2), a45 = loadAcc(acc, i + 4), a67 = loadAcc(acc, i + 6);
    if (T == 1 && consecutive(d1, d2, d3, d4, d5, d6, d7)) {
      // Eight consecutive values (planes of a 1 x 1 kernel, stride 1): whole-vector loads.
      for (let k = 0; k < nChan; k++) {
        const w = v128.load64_splat(ws(wRow + at(chanC, k)));
        const xi = ws(xOff + at(chanJ, k) * chanStride + x0);
        a01 = madd(a01, w, v128.load(xi));
        a23 = madd(a23, w, v128.load(xi, 16));
        a45 = madd(a45, w, v128.load(xi, 32));
        a67 = madd(a67, w, v128.load(xi, 48));
      }
      storeAcc(acc, i, a01, a23, a45, a67);
      continue;
    }
    for (let k = 0; k < nChan; k++) {
      let wi = ws(wRow + at(chanC, k) * T);
      const we = wi + (<usize>T << 3);
      let xi = ws(xOff + at(chanJ, k) * chanStride + x0);
      if (T == 1) {
        // One tap: the channel's sum is one exact product, added straight to the sums.
        const w = f64x2.splat(load<f64>(wi));
        a01 = madd(a01, w, gather(xi, d1));
        a23 = madd(a23, w, gather(xi + d2, d3m2));
        a45 = madd(a45, w, gather(xi + d4, d5m4));
        a67 = madd(a67, w, gather(xi + d6, d7m6));
        continue;
      }
      let s01 = f64x2.splat(0), s23 = f64x2.splat(0), s45 = f64x2.splat(0), s67 = f64x2.splat(0);
      while (wi < we) {
        const w = v128.load64_splat(wi);
        s01 = madd(s01, w, gather(xi, d1));
        s23 = madd(s23, w, gather(xi + d2, d3m2));
        s45 = madd(s45, w, gather(xi + d4, d5m4));
        s67 = madd(s67, w, gather(xi + d6, d7m6));
        wi += 8;
        xi += 24;
      }
      a01 = f64x2.add(a01, s01);
      a23 = f64x2.add(a23, s23);
      a45 = f64x2.add(a45, s45);
      a67 = f64x2.add(a67, s67);
    }
    v128.store(acc + (<usize>i << 3), a01);
    v128.store(acc + (<usize>(i + 2) << 3), a23);
    v128.store(acc + (<usize>(i + 4) << 3), a45);
    v128.store(acc + (<usize>(i + 6) << 3), a67);
  }
  for (; i < count; i++) {
    const p = acc + (<usize>i << 3);
    let a = load<f64>(p);
    const x0 = at(idx, i);
    for (let k = 0; k < nChan; k++) {
      let wi = ws(wRow + at(chanC, k) * T);
      const we = wi + (<usize>T << 3);
      let xi = ws(xOff + at(chanJ, k) * chanStride + x0);
      // Even one tap is summed from 0 first here, as the TypeScript tail loops do.
      let s: f64 = 0;
      while (wi < we) {
        s += load<f64>(wi) * load<f64>(xi);
        wi += 8;
        xi += 24;
      }
      a += s;
    }
    store<f64>(p, a);
  }
}

/**
 * accumulatePlanes: channel chanJ[k]'s padded plane at planes + chanJ[k] * planeSize, neuron i's
 * (0, 0) tap at idx[i]; taps row by row (kx `colStep` apart, rows `rowStep`). `flat` (1): every
 * w * x added straight to the neuron's sum (the SPET-free order); 0: each channel's taps summed
 * from 0 first (the SPET order). One-tap kernels go through accumulatePacked, as in TypeScript.
 */
export function accumulatePlanes(
  wRow: i32, kernelH: i32, kernelW: i32, rowStep: i32, colStep: i32, flat: i32,
  chanC: usize, chanJ: usize, nChan: i32, planes: i32, planeSize: i32, idx: usize, count: i32, acc: usize,
): void {
  if (nChan <= 0) return;
  const T = kernelH * kernelW;
  if (T == 1) {
    accumulatePacked(wRow, 1, chanC, chanJ, nChan, planes, planeSize, idx, count, acc);
    return;
  }
  const rowBytes = <usize>rowStep << 3;
  const colBytes = <usize>colStep << 3;
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const q0 = at(idx, i);
    const d1 = <usize>(at(idx, i + 1) - q0) << 3;
    const d2 = <usize>(at(idx, i + 2) - q0) << 3;
    const d3 = <usize>(at(idx, i + 3) - q0) << 3;
    const d4 = <usize>(at(idx, i + 4) - q0) << 3;
    const d5 = <usize>(at(idx, i + 5) - q0) << 3;
    const d6 = <usize>(at(idx, i + 6) - q0) << 3;
    const d7 = <usize>(at(idx, i + 7) - q0) << 3;
    const d3m2 = d3 - d2;
    const d5m4 = d5 - d4;
    const d7m6 = d7 - d6;
    let a01 = loadAcc(acc, i), a23 = loadAcc(acc, i + 2), a45 = loadAcc(acc, i + 4), a67 = loadAcc(acc, i + 6);
    if (colStep == 1 && consecutive(d1, d2, d3, d4, d5, d6, d7)) {
      // Eight consecutive positions of a row (stride 1): every tap is eight consecutive values.
      for (let k = 0; k < nChan; k++) {
        let wi = ws(wRow + at(chanC, k) * T);
        let row = ws(planes + at(chanJ, k) * planeSize + q0);
        let s01 = f64x2.splat(0), s23 = f64x2.splat(0), s45 = f64x2.splat(0), s67 = f64x2.splat(0);
        if (flat) {
          s01 = a01; s23 = a23; s45 = a45; s67 = a67;
        }
        for (let ky = 0; ky < kernelH; ky++) {
          let x = row;
          const we = wi + (<usize>kernelW << 3);
          while (wi < we) {
            const w = v128.load64_splat(wi);
            s01 = madd(s01, w, v128.load(x));
            s23 = madd(s23, w, v128.load(x, 16));
            s45 = madd(s45, w, v128.load(x, 32));
            s67 = madd(s67, w, v128.load(x, 48));
            wi += 8;
            x += 8;
          }
          row += rowBytes;
        }
        if (flat) {
          a01 = s01; a23 = s23; a45 = s45; a67 = s67;
        } else {
          a01 = f64x2.add(a01, s01);
          a23 = f64x2.add(a23, s23);
          a45 = f64x2.add(a45, s45);
          a67 = f64x2.add(a67, s67);
        }
      }
      storeAcc(acc, i, a01, a23, a45, a67);
      continue;
    }
    for (let k = 0; k < nChan; k++) {
      let wi = ws(wRow + at(chanC, k) * T);
      let row = ws(planes + at(chanJ, k) * planeSize + q0);
      if (flat) {
        for (let ky = 0; ky < kernelH; ky++) {
          let x = row;
          const we = wi + (<usize>kernelW << 3);
          while (wi < we) {
            const w = v128.load64_splat(wi);
            a01 = madd(a01, w, gather(x, d1));
            a23 = madd(a23, w, gather(x + d2, d3m2));
            a45 = madd(a45, w, gather(x + d4, d5m4));
            a67 = madd(a67, w, gather(x + d6, d7m6));
            wi += 8;
            x += colBytes;
          }
          row += rowBytes;
        }
        continue;
      }
      let s01 = f64x2.splat(0), s23 = f64x2.splat(0), s45 = f64x2.splat(0), s67 = f64x2.splat(0);
      for (let ky = 0; ky < kernelH; ky++) {
        let x = row;
        const we = wi + (<usize>kernelW << 3);
        while (wi < we) {
          const w = v128.load64_splat(wi);
          s01 = madd(s01, w, gather(x, d1));
          s23 = madd(s23, w, gather(x + d2, d3m2));
          s45 = madd(s45, w, gather(x + d4, d5m4));
          s67 = madd(s67, w, gather(x + d6, d7m6));
          wi += 8;
          x += colBytes;
        }
        row += rowBytes;
      }
      a01 = f64x2.add(a01, s01);
      a23 = f64x2.add(a23, s23);
      a45 = f64x2.add(a45, s45);
      a67 = f64x2.add(a67, s67);
    }
    v128.store(acc + (<usize>i << 3), a01);
    v128.store(acc + (<usize>(i + 2) << 3), a23);
    v128.store(acc + (<usize>(i + 4) << 3), a45);
    v128.store(acc + (<usize>(i + 6) << 3), a67);
  }
  for (; i < count; i++) {
    const p = acc + (<usize>i << 3);
    let a = load<f64>(p);
    for (let k = 0; k < nChan; k++) {
      let wi = ws(wRow + at(chanC, k) * T);
      let row = ws(planes + at(chanJ, k) * planeSize + at(idx, i));
      let s: f64 = 0;
      for (let ky = 0; ky < kernelH; ky++) {
        let x = row;
        for (let kx = 0; kx < kernelW; kx++) {
          if (flat) a += load<f64>(wi) * load<f64>(x);
          else s += load<f64>(wi) * load<f64>(x);
          wi += 8;
          x += colBytes;
        }
        row += rowBytes;
      }
      if (!flat) a += s;
    }
    store<f64>(p, a);
  }
}
