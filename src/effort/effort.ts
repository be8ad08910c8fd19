/**
 * Effort knobs of the DyVEDeep mechanisms (../shared/docs/DYVEDEEP.md), per layer. A layer with
 * no knobs (or all off) runs the dense kernel, bit for bit.
 */

/** SPET: predict ReLU saturation from a partial sum over the significant input channels. */
export type SpetKnobs =
  /**
   * Heuristic: terminate (output 0) when bias + partial sum < threshold. Tile mode only:
   * `thresholds` (one per output channel) replaces `threshold` channel by channel, and
   * `inputScale` (one per input channel, >= 0: the calibration set's mean |x_c|) weighs each input
   * channel's significance, so the significant part is the channels that add the most, not the
   * largest weights.
   */
  | {
    readonly mode: 'threshold';
    readonly fraction: number;
    readonly threshold: number;
    readonly thresholds?: readonly number[];
    readonly inputScale?: readonly number[];
  }
  /** Exact: terminate only when the partial sum plus a bound on the rest proves the neuron < 0. */
  | { readonly mode: 'exact'; readonly fraction: number };

/**
 * Where SDSS samples: `square` is the spec's grid (every `stride`-th row and column, sdss.ts);
 * `checkerboard` (tile mode, stride 2) evaluates the positions whose row + column is even, so
 * every other position lies between grid neighbours one step away (left, right, above, below)
 * instead of at a cell's centre, a diagonal step from its four corners. Half the positions stay
 * exact (the square grid keeps a quarter), but many more of the rest pass the neighbour test at
 * the same error. On cifar10-quick's conv3 (tiles of 4, batch 64, one thread) delta 4.3 removes
 * 0.31 of the layer's MACs in 0.82 of its dense time for +0.14 pp top-1 drop, where the square
 * grid's mildest useful delta, 0.54, removes 0.21 in 1.06 for +0.39 pp (10,000 calibration
 * images, on top of conv2's SDSS). The geometry: tile-plan.ts checkerboardOrder.
 */
export type SdssPattern = 'square' | 'checkerboard';

/** SDSS's patterns, in the order profiles and help list them. */
export const SDSS_PATTERNS: readonly SdssPattern[] = ['square', 'checkerboard'];

/**
 * SDSS: compute the positions of a sampling pattern (absent: `square`, every `stride`-th row and
 * column), interpolate the others whose neighbours agree within `delta`.
 */
export interface SdssKnobs {
  readonly stride: number;
  readonly delta: number;
  readonly pattern?: SdssPattern;
}

/** Where SDSS samples, without its test: what a grid's geometry depends on (tile-plan.ts sdssTileOrder). */
export type SdssSampling = Pick<SdssKnobs, 'stride' | 'pattern'>;

/** SFMA: drop input map c when variance(c) <= epsilon * (mean(c)^2 + tiny); add mean x kernel sum. */
export interface SfmaKnobs {
  readonly epsilon: number;
}

/**
 * Tile mode (DYVEDEEP.md "Tile mode"): the mechanisms decide per tile of one output channel x
 * `positions` consecutive entries of the layer's list of evaluated positions, and the work that
 * survives runs float32 SIMD kernels: `positions` a multiple of 8 runs the dense micro-kernels
 * over the surviving tiles (8-position panels, four surviving channels per pass); `positions` 1
 * decides per neuron and finishes each position's surviving channels together (its patch
 * gathered once, dot products four channels at a time); `positions` 2 or 4 finish SDSS's failing
 * tiles by dot products over channels-last planes (two channels x a tile's four positions per pass,
 * four channels x two positions for tiles of 2) and
 * otherwise run as the 8-position panels, partly filled. Output channels are never grouped into
 * one tile: their saturation patterns differ (measured: 4 x 4 tiles keep 0.2-5 % of the
 * per-neuron skips).
 */
export interface TileKnobs {
  readonly positions: number;
}

/** The knobs of one layer; an absent mechanism is off. Without `tile` the layer runs in neuron mode. */
export interface LayerEffort {
  readonly spet?: SpetKnobs;
  readonly sdss?: SdssKnobs;
  readonly sfma?: SfmaKnobs;
  readonly tile?: TileKnobs;
}

/** Whether a layer's knobs turn any mechanism on. */
export function hasEffort(effort: LayerEffort | undefined): effort is LayerEffort {
  return effort !== undefined && (effort.spet !== undefined || effort.sdss !== undefined || effort.sfma !== undefined);
}
