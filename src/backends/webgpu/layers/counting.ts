/**
 * The other scalar operations (LayerCounters.otherOps) of the WebGPU kernels that have no MACs,
 * counted as the CPU kernels count them for the same layer and batch (src/backends/cpu/reference/
 * and fast/: their module comments say how), so that every backend reports one number per layer.
 * Where the two CPU variants differ (PReLU) the count is the one of the branch-free fast kernel,
 * which is what the shader executes.
 */
import type { Layer } from '../../../ir/network.js';
import { shapeSize } from '../../../ir/network.js';

/** Values of the layer's first input over the batch. */
function values(layer: Layer, batch: number): number {
  return batch * shapeSize(layer.inputShapes[0]);
}

/** Scale: a multiply per value, and an add with a bias term. */
export function scaleOps(layer: Layer, batch: number): number {
  const biasTerm = layer.params.type === 'Scale' && layer.params.scale.biasTerm;
  return (biasTerm ? 2 : 1) * values(layer, batch);
}

/** PReLU: a comparison and a multiply per value (both run for every value, as in the fast kernel). */
export function preluOps(layer: Layer, batch: number): number {
  return 2 * values(layer, batch);
}

/** Clip: two comparisons per value; Sigmoid: three (the exp, the add, the divide, as Softmax counts its exp). */
export function pointwiseOps(layer: Layer, batch: number): number {
  return (layer.params.type === 'Clip' ? 2 : 3) * values(layer, batch);
}

/**
 * The Eltwise dispatch that folds bottom `j` (1 or more) into the output: one add, multiply or
 * comparison per value, and for a sum with coefficients one multiply per value for bottom j's
 * (and, in the first dispatch, bottom 0's): with n bottoms, n - 1 (+ n) ops per value in all.
 */
export function eltwiseStepOps(layer: Layer, batch: number, j: number): number {
  if (layer.params.type !== 'Eltwise') return 0;
  const { operation, coeffs } = layer.params.eltwise;
  const multiplies = operation === 'sum' && coeffs.length > 0 ? (j === 1 ? 2 : 1) : 0;
  return (1 + multiplies) * values(layer, batch);
}
