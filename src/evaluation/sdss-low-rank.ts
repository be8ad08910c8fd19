import { convParams } from '../ir/layer-params.js';
import type { Layer } from '../ir/network.js';
import { sdssTileOrder } from '../mechanisms/tile-plan.js';
import type { SdssSampling } from '../effort/effort.js';

/**
 * A candidate SDSS test that predicts each off-grid neuron's interpolation error before computing
 * it, measured by `dyve headroom` beside the perfect test and SDSS's own (it is not an engine
 * mechanism). The error of output channel o at position p, e_o(p) = y_o(p) - mean of y_o at its
 * grid neighbours, is linear in the input: e = W r(p), r(p) the patch's own interpolation residual.
 * Its rank-R estimate projects it on the R principal directions U of the errors across a group's
 * output channels (fitted on a dense run): e ~ U (U^T W) r(p). U^T W is a Convolution with R
 * output maps per group ("principal maps", z = U^T W x); the estimate of e_o(p) is then
 * sum_j U[o, j] (z_j(p) - mean of z_j at the neighbours), R MACs per neuron. On the grid, z needs
 * no patch: z = U^T (y - bias) from the grid neurons already computed.
 */

/** The mean of off-grid entry j's 4 grid neighbours (tile mode's table, a pair listed twice) in the map at values[at ..]. */
export function neighbourMean(values: ArrayLike<number>, at: number, nb: Int32Array, j: number): number {
  return (values[at + nb[4 * j]] + values[at + nb[4 * j + 1]] + values[at + nb[4 * j + 2]] + values[at + nb[4 * j + 3]]) / 4;
}

/** A layer's principal error directions: per group, the m x rank matrix U (row o: channel o's loadings). */
export interface ErrorBasis {
  readonly rank: number;
  /** Per group, m x rank, row-major. */
  readonly u: readonly Float64Array[];
  /** Share of the fitting run's error variance that the directions capture, per group. */
  readonly captured: readonly number[];
}

/** Iterations of the subspace iteration (the estimate needs the subspace, not exact eigenvectors). */
const ITERATIONS = 200;

/**
 * The `rank` principal directions of `layer`'s interpolation errors over the off-grid positions of
 * SDSS's `sampling`, per group, from `y` (its dense output, pre-activation, `batch` images).
 */
export function fitErrorBasis(layer: Layer, y: Float32Array, batch: number, sampling: SdssSampling, rank: number): ErrorBasis {
  const { c: outC, h, w } = layer.outputShapes[0];
  const group = convParams(layer).group;
  const m = outC / group;
  if (!(Number.isInteger(rank) && rank >= 1 && rank <= m)) throw new RangeError(`the low-rank test's rank is a whole number in [1, ${m}] for '${layer.name}', got ${rank}`);
  const { others, neighbours } = sdssTileOrder(h, w, sampling.stride, sampling.pattern);
  const nb = neighbours.neighbours;
  const n = h * w;
  const u: Float64Array[] = [];
  const captured: number[] = [];
  const e = new Float64Array(m);
  for (let g = 0; g < group; g++) {
    const cov = new Float64Array(m * m);
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < others.length; j++) {
        for (let o = 0; o < m; o++) {
          const at = (b * outC + g * m + o) * n;
          e[o] = y[at + others[j]] - neighbourMean(y, at, nb, j);
        }
        for (let a = 0; a < m; a++) {
          if (e[a] === 0) continue;
          for (let c = 0; c < m; c++) cov[a * m + c] += e[a] * e[c];
        }
      }
    }
    const { vectors, share } = principalSubspace(cov, m, rank);
    u.push(vectors);
    captured.push(share);
  }
  return { rank, u, captured };
}

/**
 * The top-`rank` eigenvectors of the symmetric m x m matrix `a` (subspace iteration with
 * Gram-Schmidt), as an m x rank matrix, and the share of its trace they capture.
 */
function principalSubspace(a: Float64Array, m: number, rank: number): { vectors: Float64Array; share: number } {
  let q = new Float64Array(m * rank);
  // A deterministic start with a component along every axis.
  for (let i = 0; i < m; i++) for (let j = 0; j < rank; j++) q[i * rank + j] = Math.cos(1 + i * (j + 1) * 0.7071) + (i === j ? 1 : 0);
  orthonormalise(q, m, rank);
  for (let it = 0; it < ITERATIONS; it++) {
    const next = new Float64Array(m * rank);
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < m; k++) {
        const aik = a[i * m + k];
        if (aik === 0) continue;
        for (let j = 0; j < rank; j++) next[i * rank + j] += aik * q[k * rank + j];
      }
    }
    if (!orthonormalise(next, m, rank)) break;
    q = next;
  }
  let trace = 0;
  for (let i = 0; i < m; i++) trace += a[i * m + i];
  let kept = 0;
  for (let j = 0; j < rank; j++) {
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += a[i * m + k] * q[k * rank + j];
      kept += q[i * rank + j] * s;
    }
  }
  return { vectors: q, share: trace > 0 ? kept / trace : 0 };
}

/** Gram-Schmidt on the columns of the m x rank matrix q; false when a column vanishes (the iteration then keeps its last basis). */
function orthonormalise(q: Float64Array, m: number, rank: number): boolean {
  for (let j = 0; j < rank; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[i * rank + j] * q[i * rank + k];
      for (let i = 0; i < m; i++) q[i * rank + j] -= dot * q[i * rank + k];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[i * rank + j] ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-300)) return false;
    for (let i = 0; i < m; i++) q[i * rank + j] /= norm;
  }
  return true;
}

/** The Convolution computing `layer`'s principal maps z = U^T W x (rank maps per group, no bias). */
export function principalMapsLayer(layer: Layer, basis: ErrorBasis): Layer {
  const conv = convParams(layer);
  const weights = layer.weights;
  if (!weights) throw new RangeError(`'${layer.name}' has no weights`);
  const { rank } = basis;
  const { c: outC, h, w } = layer.outputShapes[0];
  const m = outC / conv.group;
  const k = weights.weight.length / outC;
  const weight = new Float32Array(conv.group * rank * k);
  basis.u.forEach((u, g) => {
    for (let j = 0; j < rank; j++) {
      const row = new Float64Array(k);
      for (let o = 0; o < m; o++) {
        const l = u[o * rank + j];
        const src = (g * m + o) * k;
        for (let t = 0; t < k; t++) row[t] += l * weights.weight[src + t];
      }
      weight.set(row, (g * rank + j) * k);
    }
  });
  return {
    ...layer,
    name: `${layer.name}/principal-maps`,
    params: { type: 'Convolution', conv: { ...conv, numOutput: conv.group * rank, biasTerm: false } },
    outputShapes: [{ c: conv.group * rank, h, w }],
    weights: { weight },
  };
}

/**
 * MACs of the low-rank test per image: the principal maps at the off-grid positions (rank x K per
 * group), their values on the grid from the grid neurons (rank x m per group), and each off-grid
 * neuron's estimate (rank per neuron).
 */
export function lowRankTestMacs(layer: Layer, sampling: SdssSampling, rank: number): number {
  const { c: outC, h, w } = layer.outputShapes[0];
  const group = convParams(layer).group;
  const k = (layer.weights as { weight: Float32Array }).weight.length / outC;
  const order = sdssTileOrder(h, w, sampling.stride, sampling.pattern);
  return group * rank * (k * order.others.length + (outC / group) * (order.grid.length + order.others.length));
}

/**
 * Per image, group, direction j and off-grid entry (tile mode's order): z_j there minus the mean
 * of z_j at its grid neighbours; `z` holds the principal maps (batch x group*rank maps).
 */
export function principalResiduals(z: Float32Array, layer: Layer, batch: number, sampling: SdssSampling, rank: number): Float64Array {
  const { h, w } = layer.outputShapes[0];
  const group = convParams(layer).group;
  const { others, neighbours } = sdssTileOrder(h, w, sampling.stride, sampling.pattern);
  const nb = neighbours.neighbours;
  const n = h * w;
  const maps = batch * group * rank;
  const dz = new Float64Array(maps * others.length);
  for (let map = 0; map < maps; map++) {
    const at = map * n;
    for (let j = 0; j < others.length; j++) {
      dz[map * others.length + j] = z[at + others[j]] - neighbourMean(z, at, nb, j);
    }
  }
  return dz;
}
