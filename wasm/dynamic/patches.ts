/** tile-kernels.ts buildPatches: the packed patches of `ld` listed positions (staged bases). */
import { at, ws } from './workspace';

export function buildPatches(
  kernelH: i32, kernelW: i32, rowStep: i32, colStep: i32, planeSize: i32, planes: i32, nKept: i32, bases: usize, ld: i32, dst: i32,
): void {
  const T = kernelH * kernelW;
  const panelBytes = <usize>(nKept * 3 * T) << 3;
  for (let j = 0; j < nKept; j++) {
    const plane = planes + j * planeSize;
    for (let ky = 0; ky < kernelH; ky++) {
      for (let kx = 0; kx < kernelW; kx++) {
        const src = plane + ky * rowStep + kx * colStep;
        let d = ws(dst + (j * T + ky * kernelW + kx) * 3);
        for (let q = 0; q < ld; q += 3) {
          store<f64>(d, load<f64>(ws(src + at(bases, q))));
          store<f64>(d, load<f64>(ws(src + at(bases, q + 1))), 8);
          store<f64>(d, load<f64>(ws(src + at(bases, q + 2))), 16);
          d += panelBytes;
        }
      }
    }
  }
}
