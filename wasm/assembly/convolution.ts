/**
 * A whole Convolution layer on a batch in one call: per image, the planes are zero-padded into
 * scratch (when the layer pads), then per group C = bias + W x columns with the blocked GEMM and
 * the implicit im2col (gemm.ts, im2col.ts). W is packed once per layer (pack.ts packRowPanels, one
 * group after the other); C is the output block of the image and group, (outC / group) x (outH *
 * outW) row-major, which is Caffe's CHW layout.
 */
import { copyBytes } from './copy';
import { B_IM2COL, gemm, gemmScratchBytes } from './gemm';
import { setIm2colGeometry, setIm2colSource } from './im2col';
import { INIT_ROW_BIAS } from './microkernels';

/**
 * The layer and its buffers, written by the host as consecutive int32 fields in this order
 * (src/backends/cpu/wasm/convolution.ts mirrors it). Addresses are byte offsets in linear memory.
 */
@unmanaged
export class ConvDesc {
  batch: i32;
  /** batch x inC x inH x inW float32. */
  x: u32;
  /** batch x outC x outH x outW float32, written. */
  y: u32;
  inC: i32;
  inH: i32;
  inW: i32;
  outC: i32;
  outH: i32;
  outW: i32;
  kernelH: i32;
  kernelW: i32;
  strideH: i32;
  strideW: i32;
  padH: i32;
  padW: i32;
  dilationH: i32;
  dilationW: i32;
  group: i32;
  /** Packed weights: per group, (outC / group) x K row panels. */
  weights: u32;
  /** outC float32 (zeros when the layer has no bias). */
  bias: u32;
  /** convolutionScratchBytes(desc) bytes, 16-aligned. */
  scratch: u32;
}

// @ts-ignore: decorator
@inline
function align16(bytes: usize): usize {
  return (bytes + 15) & ~(<usize>15);
}

// Scratch layout, in order: k table, n table, B panels (gemm.ts), edge tile, padded planes (+ slack).
function kTableBytes(d: ConvDesc): usize {
  return align16(<usize>(d.inC / d.group) * d.kernelH * d.kernelW * 4);
}
function nTableBytes(d: ConvDesc): usize {
  return align16(<usize>d.outH * d.outW * 4);
}
const EDGE_BYTES: usize = 8 * 32;
function gemmBytes(d: ConvDesc): usize {
  return align16(gemmScratchBytes(d.outH * d.outW, (d.inC / d.group) * d.kernelH * d.kernelW, B_IM2COL));
}
function padded(d: ConvDesc): bool {
  return d.padH > 0 || d.padW > 0;
}
function paddedBytes(d: ConvDesc): usize {
  return padded(d) ? align16(<usize>d.inC * (d.inH + 2 * d.padH) * (d.inW + 2 * d.padW) * 4) + 64 : 0;
}

/** Scratch bytes `convolution` needs for the layer described at `desc`. */
export function convolutionScratchBytes(desc: usize): usize {
  const d = changetype<ConvDesc>(desc);
  return kTableBytes(d) + nTableBytes(d) + gemmBytes(d) + EDGE_BYTES + paddedBytes(d);
}

/** Runs the layer described at `desc` (see ConvDesc) on its whole batch. */
export function convolution(desc: usize): void {
  const d = changetype<ConvDesc>(desc);
  const icPerGroup = d.inC / d.group;
  const m = d.outC / d.group;
  const n = d.outH * d.outW;
  const k = icPerGroup * d.kernelH * d.kernelW;
  const pad = padded(d);
  const ph = d.inH + 2 * d.padH;
  const pw = d.inW + 2 * d.padW;
  const kTable = <usize>d.scratch;
  const nTable = kTable + kTableBytes(d);
  const panel = nTable + nTableBytes(d);
  const edge = panel + gemmBytes(d);
  const planes = edge + EDGE_BYTES;
  const pointwise = d.kernelH == 1 && d.kernelW == 1 && d.strideH == 1 && d.strideW == 1 && !pad;
  setIm2colGeometry(icPerGroup, ph, pw, d.kernelH, d.kernelW, d.strideH, d.strideW, d.dilationH, d.dilationW, d.outH, d.outW, pointwise, kTable, nTable);
  // Borders stay zero across images: only the interior of the padded planes is rewritten.
  if (pad) memory.fill(planes, 0, paddedBytes(d));

  const inPlane = <usize>d.inH * d.inW * 4;
  const srcPlane = pad ? <usize>ph * pw * 4 : inPlane;
  const rowBytes = <usize>d.inW * 4;
  for (let img = 0; img < d.batch; img++) {
    const x = <usize>d.x + <usize>img * d.inC * inPlane;
    let source = x;
    if (pad) {
      source = planes;
      for (let c = 0; c < d.inC; c++) {
        const from = x + <usize>c * inPlane;
        const to = planes + <usize>c * srcPlane + (<usize>d.padH * pw + d.padW) * 4;
        for (let r = 0; r < d.inH; r++) copyBytes(to + <usize>r * pw * 4, from + <usize>r * rowBytes, rowBytes);
      }
    }
    for (let g = 0; g < d.group; g++) {
      setIm2colSource(source + <usize>g * icPerGroup * srcPlane);
      const y = <usize>d.y + (<usize>img * d.outC + <usize>g * m) * n * 4;
      const w = <usize>d.weights + <usize>g * m * k * 4;
      gemm(m, n, k, w, B_IM2COL, 0, y, <usize>n * 4, INIT_ROW_BIAS, <usize>d.bias + <usize>g * m * 4, panel, edge);
    }
  }
}
