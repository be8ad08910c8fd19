import { runLayer } from '../backends/cpu/cpu-backend.js';
import { blobPool } from '../backends/cpu/blob-pool.js';
import type { KernelVariant } from '../backends/cpu/kernel-types.js';
import { layerMacs } from '../ir/layer-metrics.js';
import { convParams } from '../ir/layer-params.js';
import { isConvOrInnerProduct, logitsBlob, shapeSize, type Layer, type Network } from '../ir/network.js';
import { feedsRelu } from '../ir/relu-reach.js';
import type { SdssSampling } from '../effort/effort.js';
import { sdssTileOrder } from '../mechanisms/tile-plan.js';
import { pairedDrop, type PairedDrop } from './paired-drop.js';
import { fitErrorBasis, lowRankTestMacs, neighbourMean, principalMapsLayer, principalResiduals, type ErrorBasis } from './sdss-low-rank.js';
import { argmax } from './top-k.js';

/**
 * How much SDSS could save with a better test: its grid (the square grid of sdss.ts or the
 * checkerboard) and interpolation, in tile mode's order and tiles (tile-plan.ts), decided by a
 * PERFECT test, beside SDSS's own neighbour test on the same images. The perfect test interpolates a tile of one output channel's off-grid neurons
 * when every neuron's true interpolation error |mean(grid neighbours) - value| is at most the limit
 * (`tolerance` x the layer's output standard deviation, rectified where a ReLU follows, as SDSS
 * compares them): exactly the neurons the interpolation gets right, which no test that must decide
 * before computing them knows. The network then runs on and its top-1 is compared with dense. The
 * gap between the two tests' curves (MACs against top-1 drop) is what a better test could win;
 * what stays between the perfect test and dense is the cost of the grid and the interpolation.
 * A third test, `low-rank` (sdss-low-rank.ts), is a candidate that decides before computing: it
 * estimates each neuron's error from a few principal maps, and pays for them in MACs.
 */

/**
 * Which test decides a neuron: `perfect` (|mean - value| <= limit: the reference), `neighbours`
 * (max - min of the grid neighbours <= limit: SDSS's own test with delta = limit, for comparison)
 * or `low-rank` (|mean - estimated value| <= limit, the value estimated as the neighbours' mean
 * before the ReLU plus the rank-R estimate of its interpolation error: sdss-low-rank.ts).
 */
export type SdssTest = 'perfect' | 'neighbours' | 'low-rank';

/** The tests, in the order reports list them. */
export const SDSS_TESTS: readonly SdssTest[] = ['perfect', 'neighbours', 'low-rank'];

/** One run: which layers interpolate, by which test, with tiles of `positions` and limit `tolerance` x sigma. */
export interface SdssOracleSetting {
  /** The layers the test acts on (each alone, or several at once). */
  readonly layers: readonly string[];
  readonly test: SdssTest;
  readonly positions: number;
  readonly tolerance: number;
  /** The low-rank test's principal directions per group (that test only). */
  readonly rank?: number;
}

/** What one setting measured over every image added. */
export interface SdssOracleResult extends SdssOracleSetting {
  /** Off-grid neurons interpolated, as a share of the neurons of the layers it acts on. */
  readonly interpolated: number;
  /** Dense MACs of the network / MACs left (interpolated neurons cost none; the low-rank test's own MACs count). */
  readonly macReduction: number;
  /** Top-1 against dense on the same images, or null without labels. */
  readonly drop: PairedDrop | null;
}

/** A layer SDSS may act on: a Convolution whose maps have positions off the grid of `sampling`. */
export function sdssLayers(net: Network, sampling: SdssSampling): Layer[] {
  return net.layers.filter((l) => {
    if (l.params.type !== 'Convolution') return false;
    const { h, w } = l.outputShapes[0];
    return sdssTileOrder(h, w, sampling.stride, sampling.pattern).others.length > 0;
  });
}

interface Tally {
  /** Off-grid neurons interpolated, and the MACs they would have cost. */
  neurons: number;
  macs: number;
  /** MACs the test itself costs (the low-rank test's principal maps and estimates). */
  testMacs: number;
  /** Per image: 1 top-1 right, 0 wrong, -1 not scored. */
  readonly correct: number[];
}

/** Runs the oracle settings beside a dense run, batch by batch (add), then reports (result). */
export class SdssHeadroom {
  /** The layers' output standard deviations (rectified where SDSS compares them so), from the first batch's dense run. */
  readonly sigma = new Map<string, number>();
  /**
   * The low-rank test's principal error directions per layer and rank, fitted on the first
   * batch's dense run. Those images are scored too: the fit is R directions among the output
   * channels, not the images' outputs, but with few batches it is a larger share of what is scored.
   */
  readonly bases = new Map<string, ErrorBasis>();
  private readonly mapLayers = new Map<string, Layer>();
  private readonly eligible: ReadonlySet<string>;
  private readonly tallies: Tally[];
  /** Per image of the dense runs, as Tally.correct. */
  private readonly denseCorrect: number[] = [];
  private images = 0;

  /**
   * @param net The network (trained weights: the drop needs them).
   * @param settings The oracle runs; their layers must be among sdssLayers(net, sampling).
   * @param sampling SDSS's grid: its stride and pattern (square when absent).
   * @param kernels The CPU kernels that run the layers ('wasm' needs initWasmKernels()).
   */
  constructor(
    private readonly net: Network,
    readonly settings: readonly SdssOracleSetting[],
    readonly sampling: SdssSampling,
    private readonly kernels: KernelVariant = 'wasm',
  ) {
    if (sampling.pattern === 'checkerboard' && sampling.stride !== 2) throw new RangeError(`the checkerboard samples every other position: its stride is 2, got ${sampling.stride}`);
    this.eligible = new Set(sdssLayers(net, sampling).map((l) => l.name));
    for (const s of settings) {
      if (s.layers.length === 0) throw new RangeError('a setting acts on at least one layer');
      const wrong = s.layers.find((name) => !this.eligible.has(name));
      if (wrong !== undefined) throw new RangeError(`'${wrong}' is not a Convolution with positions off the ${samplingLabel(sampling)} grid`);
      if (!(Number.isInteger(s.positions) && s.positions >= 1)) throw new RangeError(`tile positions must be whole numbers >= 1, got ${s.positions}`);
      if (!(s.tolerance >= 0)) throw new RangeError(`tolerances must be >= 0, got ${s.tolerance}`);
      if ((s.test === 'low-rank') !== (s.rank !== undefined)) throw new RangeError('a rank goes with the low-rank test, and only with it');
    }
    this.tallies = settings.map(() => ({ neurons: 0, macs: 0, testMacs: 0, correct: [] }));
  }

  /**
   * Adds `batch` images (label -1: none): one dense run, then one run per setting from its first
   * acting layer on (the layers before it see what the dense run computed).
   */
  add(input: Float32Array, labels: ArrayLike<number>, batch: number): void {
    const logits = logitsBlob(this.net);
    const score = (blobs: ReadonlyMap<string, Float32Array>, into: number[]) => {
      const scores = blobs.get(logits) as Float32Array;
      const classes = scores.length / batch;
      for (let b = 0; b < batch; b++) into.push(labels[b] < 0 ? -1 : argmax(scores, b * classes, classes) === labels[b] ? 1 : 0);
    };
    const dense = new Map([[this.net.inputName, input]]);
    this.forward(dense, 0, batch, null);
    score(dense, this.denseCorrect);
    const denseArrays = new Set(dense.values());
    this.settings.forEach((setting, i) => {
      const blobs = new Map(dense);
      this.forward(blobs, this.net.layers.findIndex((l) => setting.layers.includes(l.name)), batch, { setting, tally: this.tallies[i] });
      score(blobs, this.tallies[i].correct);
      // The run's own blobs back to the pool, never one it shares with the dense run.
      for (const b of blobs.values()) if (!denseArrays.has(b)) blobPool.give(b);
    });
    for (const b of denseArrays) blobPool.give(b);
    this.images += batch;
  }

  /** Per setting: interpolated share, network MAC reduction, top-1 drop against dense. */
  result(): SdssOracleResult[] {
    const denseMacs = this.net.layers.filter(isConvOrInnerProduct).reduce((s, l) => s + layerMacs(l), 0);
    const byName = new Map(this.net.layers.map((l) => [l.name, l]));
    const dense = Int8Array.from(this.denseCorrect);
    return this.settings.map((setting, i) => {
      const tally = this.tallies[i];
      const neurons = setting.layers.reduce((s, name) => s + shapeSize((byName.get(name) as Layer).outputShapes[0]), 0) * this.images;
      return {
        ...setting,
        interpolated: neurons ? tally.neurons / neurons : 0,
        macReduction: this.images ? denseMacs / (denseMacs - (tally.macs - tally.testMacs) / this.images) : 1,
        drop: pairedDrop(dense, Int8Array.from(tally.correct)),
      };
    });
  }

  /**
   * Runs the layers from index `from` on, reading and writing `blobs`: dense, or with `run`'s
   * layers' off-grid tiles interpolated by its test (counted in its tally).
   */
  private forward(blobs: Map<string, Float32Array>, from: number, batch: number, run: { setting: SdssOracleSetting; tally: Tally } | null): void {
    for (const layer of this.net.layers.slice(from)) {
      const inputs = layer.bottoms.map((b) => blobs.get(b) as Float32Array);
      const outputs = runLayer(layer, inputs, batch, { kernels: this.kernels }).outputs;
      if (this.eligible.has(layer.name)) {
        const rectified = feedsRelu(this.net, layer);
        if (!this.sigma.has(layer.name)) {
          this.sigma.set(layer.name, standardDeviation(outputs[0], rectified));
          // Fitted where the dense run first passes (every setting's layers follow it).
          for (const rank of new Set(this.settings.filter((s) => s.rank !== undefined && s.layers.includes(layer.name)).map((s) => s.rank as number))) {
            const basis = fitErrorBasis(layer, outputs[0], batch, this.sampling, rank);
            this.bases.set(`${layer.name}/${rank}`, basis);
            this.mapLayers.set(`${layer.name}/${rank}`, principalMapsLayer(layer, basis));
          }
        }
        if (run?.setting.layers.includes(layer.name)) {
          const { setting, tally } = run;
          const limit = setting.tolerance * (this.sigma.get(layer.name) as number);
          let estimate: LowRankEstimate | undefined;
          if (setting.rank !== undefined) {
            const key = `${layer.name}/${setting.rank}`;
            const z = runLayer(this.mapLayers.get(key) as Layer, inputs, batch, { kernels: this.kernels }).outputs[0];
            estimate = { basis: this.bases.get(key) as ErrorBasis, residuals: principalResiduals(z, layer, batch, this.sampling, setting.rank) };
            blobPool.give(z);
            tally.testMacs += batch * lowRankTestMacs(layer, this.sampling, setting.rank);
          }
          const n = interpolateTiles(layer, outputs[0], batch, this.sampling, setting.test, setting.positions, limit, rectified, estimate);
          tally.neurons += n;
          tally.macs += (n * layerMacs(layer)) / shapeSize(layer.outputShapes[0]);
        }
      }
      outputs.forEach((o, j) => blobs.set(layer.tops[j], o));
    }
  }
}

/** How reports name a sampling: `checkerboard`, or `stride-S` for the square grid. */
export function samplingLabel(sampling: SdssSampling): string {
  return sampling.pattern === 'checkerboard' ? 'checkerboard' : `stride-${sampling.stride}`;
}

/** The standard deviation of `y`'s values (rectified first when `rectified`). */
function standardDeviation(y: Float32Array, rectified: boolean): number {
  let sum = 0;
  let squares = 0;
  for (const raw of y) {
    const v = rectified && raw < 0 ? 0 : raw;
    sum += v;
    squares += v * v;
  }
  const mean = sum / y.length;
  return Math.sqrt(Math.max(0, squares / y.length - mean * mean));
}

/** What the low-rank test reads: the layer's basis and its principal maps' residuals (principalResiduals). */
export interface LowRankEstimate {
  readonly basis: ErrorBasis;
  readonly residuals: Float64Array;
}

/**
 * In place: per image and output channel, every tile of `positions` off-grid neurons (tile mode's
 * order) whose every neuron passes `test` with `limit` takes the means of its grid neighbours (the
 * grid rectified where a ReLU follows, as SDSS stores it; failing tiles keep their values).
 * `estimate` is the low-rank test's input (that test only). Returns the neurons interpolated.
 */
export function interpolateTiles(
  layer: Layer, y: Float32Array, batch: number, sampling: SdssSampling, test: SdssTest, positions: number, limit: number, rectified: boolean,
  estimate?: LowRankEstimate,
): number {
  if ((test === 'low-rank') !== (estimate !== undefined)) throw new RangeError('the low-rank test, and only it, reads an estimate');
  const { c: channels, h, w } = layer.outputShapes[0];
  const { others, neighbours } = sdssTileOrder(h, w, sampling.stride, sampling.pattern);
  const nb = neighbours.neighbours;
  const n = h * w;
  const means = new Float64Array(positions);
  let interpolated = 0;
  // What SDSS compares and averages: the stored values, rectified where a ReLU follows.
  const r = rectified ? y.map((v) => (v < 0 ? 0 : v)) : y;
  const group = convParams(layer).group;
  const m = channels / group;
  const rank = estimate?.basis.rank ?? 0;
  for (let map = 0; map < batch * channels; map++) {
    const at = map * n;
    // The low-rank test: this channel's loadings and its group's residuals.
    const g = Math.floor((map % channels) / m);
    const u = estimate?.basis.u[g];
    const o = (map % channels) - g * m;
    const dz = (Math.floor(map / channels) * group + g) * rank * others.length;
    for (let j0 = 0; j0 < others.length; j0 += positions) {
      const j1 = Math.min(others.length, j0 + positions);
      let pass = true;
      for (let j = j0; j < j1 && pass; j++) {
        const a = r[at + nb[4 * j]], b = r[at + nb[4 * j + 1]], c = r[at + nb[4 * j + 2]], d = r[at + nb[4 * j + 3]];
        const mean = (a + b + c + d) / 4;
        means[j - j0] = mean;
        if (test === 'perfect') pass = Math.abs(mean - r[at + others[j]]) <= limit;
        else if (test === 'neighbours') pass = Math.max(a, b, c, d) - Math.min(a, b, c, d) <= limit;
        else {
          // The value before the ReLU: the neighbours' mean there plus the estimated error.
          let v = neighbourMean(y, at, nb, j);
          for (let k = 0; k < rank; k++) v += (u as Float64Array)[o * rank + k] * (estimate as LowRankEstimate).residuals[dz + k * others.length + j];
          pass = Math.abs(mean - (rectified && v < 0 ? 0 : v)) <= limit;
        }
      }
      if (!pass) continue;
      for (let j = j0; j < j1; j++) y[at + others[j]] = means[j - j0];
      interpolated += j1 - j0;
    }
  }
  return interpolated;
}
