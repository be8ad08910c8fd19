/**
 * Tile-mode SPET thresholds fitted to a calibration set, one per output channel.
 *
 * Why: in tile mode the whole tile must look saturated, and the significant part is one order
 * of input channels shared by the layer, so one threshold for the layer either skips almost
 * nothing or loses the tiles of channels whose partial sums run high. Fitted per channel, the
 * threshold is the largest value that loses at most `lossBudget` of that channel's ReLU output
 * mass on the calibration images: a tile skipped wrongly costs the positive values it held.
 *
 * The fit, per layer (fraction f, tiles of T positions, budget b):
 * 1. inputScale[c] = mean |x_c| over the calibration inputs: the significance order weighs each
 *    input channel by what it really adds (tile-plan.ts);
 * 2. s = bias + the sum over the significant channels (the layer run densely on weights whose
 *    other channels are zeroed) and z = the full pre-activation, for every neuron;
 * 3. per output channel o, its tiles (T consecutive positions of one image, as the kernels cut
 *    them when every position is evaluated) sorted by max s: the threshold rises past tiles while
 *    the positive mass sum(max(z, 0)) of the tiles below it stays within b x o's total positive
 *    mass. A channel whose tiles all carry mass keeps the lowest max s (skips nothing it has seen).
 */
import { runLayer } from '../backends/cpu/cpu-backend.js';
import type { SpetKnobs } from '../effort/effort.js';
import type { Layer } from '../ir/network.js';
import { convolutionGeometry } from '../mechanisms/geometry.js';
import { tilePlan } from '../mechanisms/tile-plan.js';

/** What a fit is asked for. */
export interface TileSpetFit {
  /** SPET's significant fraction. */
  readonly fraction: number;
  /** Tile positions T. */
  readonly tilePositions: number;
  /** Largest share of each output channel's positive output mass its skipped tiles may hold. */
  readonly lossBudget: number;
  /**
   * SPET through a residual sum: the sum's other operand on the calibration batch (indexed like
   * the output). The test reads s + addend and the mass is that of max(z + addend, 0).
   */
  readonly addend?: Float32Array;
}

/** Mean |x_c| per input channel over a batch of a layer's inputs. */
export function meanAbsoluteInput(layer: Layer, input: Float32Array, batch: number): number[] {
  const { c: channels, h, w } = layer.inputShapes[0];
  const plane = h * w;
  const sums = new Float64Array(channels);
  for (let img = 0; img < batch; img++) {
    for (let c = 0; c < channels; c++) {
      const from = (img * channels + c) * plane;
      let s = 0;
      for (let i = from; i < from + plane; i++) s += Math.abs(input[i]);
      sums[c] += s;
    }
  }
  return Array.from(sums, (s) => s / (batch * plane));
}

/**
 * Fits tile-mode SPET knobs (threshold mode, per-channel thresholds and input scale) for a
 * Convolution layer on `batch` calibration inputs. Runs the layer densely twice with the loaded
 * kernels of `kernels` ('wasm' needs initWasmKernels() first).
 */
export function fitTileSpet(layer: Layer, input: Float32Array, batch: number, fit: TileSpetFit, kernels: 'fast' | 'wasm' = 'wasm'): SpetKnobs {
  if (!layer.weights) throw new Error(`layer '${layer.name}' has no weights loaded`);
  const geom = convolutionGeometry(layer);
  const inputScale = meanAbsoluteInput(layer, input, batch);
  const plan = tilePlan(layer.weights, geom, fit.fraction, inputScale);
  // The weights of the significant channels only: a dense run gives s (bias included).
  const masked = new Float32Array(layer.weights.weight.length);
  const { cpg, m, taps, outC, positions } = geom;
  for (let o = 0; o < outC; o++) {
    const g = Math.floor(o / m);
    for (let j = 0; j < plan.nSig; j++) {
      const at = (o * cpg + plan.order[g * cpg + j]) * taps;
      masked.set(layer.weights.weight.subarray(at, at + taps), at);
    }
  }
  const prefixLayer: Layer = { ...layer, weights: { ...layer.weights, weight: masked } };
  const s = runLayer(prefixLayer, [input], batch, { kernels }).outputs[0];
  const z = runLayer(layer, [input], batch, { kernels }).outputs[0];
  if (fit.addend) {
    const a = fit.addend;
    for (let i = 0; i < s.length; i++) {
      s[i] += a[i];
      z[i] += a[i];
    }
  }

  const T = fit.tilePositions;
  const thresholds: number[] = [];
  for (let o = 0; o < outC; o++) {
    const tiles: { maxS: number; mass: number }[] = [];
    let total = 0;
    for (let img = 0; img < batch; img++) {
      const base = (img * outC + o) * positions;
      for (let p0 = 0; p0 < positions; p0 += T) {
        let maxS = -Infinity;
        let mass = 0;
        for (let p = base + p0; p < base + Math.min(positions, p0 + T); p++) {
          maxS = Math.max(maxS, s[p]);
          mass += Math.max(z[p], 0);
        }
        tiles.push({ maxS, mass });
        total += mass;
      }
    }
    tiles.sort((a, b) => a.maxS - b.maxS);
    const budget = fit.lossBudget * total;
    let lost = 0;
    let k = 0;
    while (k < tiles.length && lost + tiles[k].mass <= budget) lost += tiles[k++].mass;
    // Between the last tile skipped and the first kept (a tile is skipped when max s < threshold).
    const t = k === 0 ? tiles[0]?.maxS ?? 0 : k === tiles.length ? tiles[k - 1].maxS + 1 : (tiles[k - 1].maxS + tiles[k].maxS) / 2;
    thresholds.push(Number.isFinite(t) ? Math.fround(t) : 0);
  }
  return { mode: 'threshold', fraction: fit.fraction, threshold: 0, thresholds, inputScale: inputScale.map((v) => Math.fround(v)) };
}
