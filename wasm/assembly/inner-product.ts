/**
 * An InnerProduct layer on a batch in one call: Y (batch x out) = bias + X (batch x in) x W^T.
 * X is the A operand (its rows packed per call: batch x in values, little next to the batch x in
 * x out MACs), W^T the B operand, packed once per layer in 8-column panels (pack.ts
 * packColumnPanels). So Y comes out in its own layout, and a batch of 1 is one 1 x 8 tile per 8
 * outputs: the weights stream once, with no zero rows computed.
 */
import { B_PACKED, gemm, gemmScratchBytes } from './gemm';
import { INIT_COLUMN_BIAS } from './microkernels';
import { packRowPanels } from './pack';

// @ts-ignore: decorator
@inline
function packedXBytes(batch: i32, inSize: i32): usize {
  return (<usize>batch * inSize * 4 + 15) & ~(<usize>15);
}

/** Scratch bytes `innerProduct` needs: the packed X, an edge tile, the GEMM's panel table. */
export function innerProductScratchBytes(batch: i32, inSize: i32, out: i32): usize {
  return packedXBytes(batch, inSize) + 8 * 32 + gemmScratchBytes(out, inSize, B_PACKED);
}

/**
 * Y = bias + X W^T. `weights`: W^T packed by packColumnPanels(W, inSize, out, inSize, ...);
 * `bias`: out values rounded up to a multiple of 8 (zeros past out, or all zeros without bias).
 */
export function innerProduct(batch: i32, x: usize, y: usize, inSize: i32, out: i32, weights: usize, bias: usize, scratch: usize): void {
  packRowPanels(x, batch, inSize, inSize, scratch);
  const edge = scratch + packedXBytes(batch, inSize);
  gemm(batch, out, inSize, scratch, B_PACKED, weights, y, <usize>out * 4, INIT_COLUMN_BIAS, bias, edge + 8 * 32, edge);
}
