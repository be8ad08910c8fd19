/**
 * Dynamic-effort convolution: SFMA, SDSS and SPET (DYVEDEEP.md) composed inside one Convolution
 * layer, in a REFERENCE (plain per-neuron loops) and a FAST (blocked, really skipping) variant.
 *
 * Composition, per image (our fixed choice):
 *   1. SFMA decides, from each input map's mean and variance, which maps are kept; dropped maps
 *      leave the convolution and add mean x (in-bounds kernel taps) to every evaluated output.
 *   2. SDSS decides which neurons are evaluated: the grid, then the non-grid neurons whose grid
 *      neighbours differ by more than delta; the others are interpolated.
 *   3. Each evaluated neuron runs SPET over the kept channels when SPET is on (partial sum over its
 *      significant kept channels, the termination test, then the rest), otherwise the full sum
 *      over the kept channels.
 * Both variants add the same terms in the same order for every evaluated neuron (bias, the SFMA
 * correction, then per channel a tap sum started from 0: see reference-convolution.ts), so they
 * take identical decisions and produce the same outputs.
 *
 * Counting: macsExecuted gets the MACs really executed (every tap of every evaluated channel of
 * every evaluated neuron, padding taps included as on the dense path); otherOps every overhead:
 * bias and correction adds, SFMA statistics, SPET tests and bounds, SDSS tests and
 * interpolations; counts.mechanisms what each mechanism that was on did. With no mechanism on the
 * layer is computed densely (the backend routes such layers to the dense kernel anyway).
 */
import type { LayerDecisions } from '../../../records/decisions.js';
import type { LayerCounters } from '../../../records/counters.js';
import type { LayerEffort } from '../../../effort/effort.js';
import type { Layer } from '../../../ir/network.js';
import { checkLayerEffort } from '../../../effort/knob-rules.js';
import { DataError, NetworkError } from '../../../errors.js';
import { dynamicFast } from './fast-convolution.js';
import { convolutionGeometry, dynWeights, type DynGeometry } from '../../../mechanisms/geometry.js';
import { dynamicReference } from './reference-convolution.js';
import { prepareCall, recordStats, type CallState } from './run-state.js';
import { TS_TILE_KERNELS, type TileKernels } from './tile-kernels.js';
import { tileReference } from './tile-reference.js';
import { tilePlan, type TilePlan } from '../../../mechanisms/tile-plan.js';

/** What a dynamic layer runs with besides its layer, inputs and counters. */
export interface DynamicLayerOptions {
  /** The knobs (checked here against knob-rules.ts). */
  readonly effort: LayerEffort;
  /** The plain per-neuron loops (`reference`) or the blocked, really skipping driver (`fast`). */
  readonly variant: 'fast' | 'reference';
  /**
   * The output reaches the network only through a ReLU: SDSS stores its grid neurons rectified
   * and compares what the next layer sees (convolutions only).
   */
  readonly rectified?: boolean;
  /** A record of this layer and batch (`emptyDecisions`) that receives where each mechanism acted. */
  readonly decisions?: LayerDecisions;
  /** The loops the fast convolution runs: TypeScript (default) or the wasm backend's twins. */
  readonly tiles?: TileKernels;
  /**
   * What the fast variant runs for a tile-mode layer (`effort.tile`): the WebAssembly or the
   * TypeScript tile-mode kernel; without it the tile reference runs.
   */
  readonly tileMode?: TileModeKernel;
  /**
   * SPET through a residual sum (LayerEffortOptions.addend, convolutions only): the sum's other
   * operand, batch x the output size, indexed like the output (see CallState.addend).
   */
  readonly addend?: Float32Array;
  /**
   * The ReLU after the layer, run by the tile-mode kernel on its output (PlannedLayer.fusedRelu):
   * only a tile-mode layer with `tileMode` takes it.
   */
  readonly reluSlope?: number;
}

/**
 * A tile-mode convolution over one call's state (tile-reference.ts is the oracle); `reluSlope`:
 * the ReLU that follows, run on the output (DynamicLayerOptions.reluSlope).
 */
export type TileModeKernel = (state: CallState, plan: TilePlan, tilePositions: number, x: Float32Array, counts: LayerCounters, reluSlope?: number) => Float32Array;

/**
 * Runs a Convolution layer with the DyVEDeep mechanisms of `options.effort` on `batch` images
 * (inputs[0]: batch x C x H x W). Adds what it executed to `counts` and fills counts.mechanisms.
 *
 * @throws NetworkError on a non-Convolution layer or invalid knobs; DataError on a wrong input size.
 */
export function convolutionDynamic(
  layer: Layer, inputs: readonly Float32Array[], batch: number, counts: LayerCounters, options: DynamicLayerOptions,
): Float32Array[] {
  checkLayerEffort(layer, options.effort);
  const { tile, spet } = options.effort;
  const { reluSlope } = options;
  if (reluSlope !== undefined && !(tile && options.variant === 'fast' && options.tileMode)) {
    throw new NetworkError(`layer '${layer.name}': only a tile-mode kernel runs a fused ReLU`);
  }
  if (tile) {
    const kernel = options.variant === 'fast' && options.tileMode ? options.tileMode : tileReference;
    // The plan is built once the call's checks passed (runDynamicLayer checks the weights first).
    const run = (state: CallState, x: Float32Array, c: LayerCounters) =>
      kernel(state, tilePlan(layer.weights ?? noWeights(layer), state.geom, spet?.fraction ?? 1, spet?.mode === 'threshold' ? spet.inputScale : undefined), tile.positions, x, c, reluSlope);
    return runDynamicLayer(layer, convolutionGeometry(layer), inputs, batch, counts, { ...options, variant: 'fast' }, run);
  }
  const tiles = options.tiles ?? TS_TILE_KERNELS;
  const fast = (state: CallState, x: Float32Array, c: LayerCounters) => dynamicFast(state, x, c, tiles);
  return runDynamicLayer(layer, convolutionGeometry(layer), inputs, batch, counts, options, fast);
}

function noWeights(layer: Layer): never {
  throw new NetworkError(`layer '${layer.name}' has no weights loaded`);
}

/**
 * The steps every dynamic layer shares (its knobs already checked by the layer type's entry
 * point): input checks, the per-call state, the reference
 * or the layer type's `fast` kernel, the mechanism statistics, and (when `decisions` is given)
 * the decision trace: both kernels write the neuron map themselves, SFMA's drops are the state's.
 */
export function runDynamicLayer(
  layer: Layer, geom: DynGeometry, inputs: readonly Float32Array[], batch: number, counts: LayerCounters,
  options: DynamicLayerOptions, fast: (state: CallState, x: Float32Array, counts: LayerCounters) => Float32Array,
): Float32Array[] {
  const { effort, variant, decisions } = options;
  const x = inputs[0];
  if (x.length !== batch * geom.inSize) {
    throw new DataError(`layer '${layer.name}': expected ${batch * geom.inSize} input values (batch ${batch}), got ${x.length}`);
  }
  const w = dynWeights(layer, geom);
  if (!layer.weights) noWeights(layer);
  if (decisions && (decisions.neurons.length !== batch * geom.outSize || decisions.sfmaApproximated.length !== batch * geom.inC)) {
    throw new DataError(`layer '${layer.name}': the decision record does not fit batch ${batch}`);
  }
  const { addend } = options;
  if (addend) {
    if (layer.params.type !== 'Convolution') {
      throw new NetworkError(`layer '${layer.name}': SPET through a residual sum applies to Convolution layers, not ${layer.params.type}`);
    }
    if (addend.length !== batch * geom.outSize) {
      throw new DataError(`layer '${layer.name}': expected ${batch * geom.outSize} values of the residual sum's other operand (batch ${batch}), got ${addend.length}`);
    }
  }
  // The kernels write only the neurons a mechanism acted on: the rest must read NEURON_EVALUATED.
  decisions?.neurons.fill(0);
  const state = prepareCall({
    layerName: layer.name, layerWeights: layer.weights, geom, w, x, batch, effort, counts,
    rectified: options.rectified === true, trace: decisions?.neurons ?? null, addend: addend ?? null,
  });
  const y = variant === 'reference' ? dynamicReference(state, x, counts) : fast(state, x, counts);
  recordStats(state, counts);
  if (decisions) decisions.sfmaApproximated.set(state.dropped);
  return [y];
}
