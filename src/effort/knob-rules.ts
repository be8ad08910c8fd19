/**
 * The rules every set of knobs must pass before a kernel runs it, in one place: checked once when
 * an execution plan is compiled (src/plan/), and by the per-layer entry points that run without a
 * plan. A profile file (profile.ts) is read with these rules plus what JSON needs (finite numbers)
 * and one stricter bound: an SPET fraction of 0 (testing the bias alone) is a kernel limit case,
 * not a setting a profile may ask for.
 */
import { NetworkError } from '../errors.js';
import type { Layer } from '../ir/network.js';
import { SDSS_PATTERNS, type LayerEffort, type SdssKnobs, type SfmaKnobs, type SpetKnobs, type TileKnobs } from './effort.js';

/** Checks SPET knobs; throws a NetworkError naming the layer. */
function checkSpet(knobs: SpetKnobs, layer: Layer, tileMode: boolean): void {
  const layerName = layer.name;
  if (!(knobs.fraction >= 0 && knobs.fraction <= 1)) {
    throw new NetworkError(`layer '${layerName}': SPET fraction must be in [0, 1], got ${knobs.fraction}`);
  }
  if (knobs.mode === 'threshold') {
    if (Number.isNaN(knobs.threshold)) throw new NetworkError(`layer '${layerName}': SPET threshold is NaN`);
    const perChannel: [string, readonly number[] | undefined, number, (v: number) => boolean][] = [
      ['thresholds', knobs.thresholds, layer.outputShapes[0].c, (v) => !Number.isNaN(v)],
      ['inputScale', knobs.inputScale, layer.inputShapes[0]?.c ?? 0, (v) => Number.isFinite(v) && v >= 0],
    ];
    for (const [field, values, length, ok] of perChannel) {
      if (values === undefined) continue;
      if (!tileMode) throw new NetworkError(`layer '${layerName}': SPET ${field} apply in tile mode only (add "tile")`);
      if (values.length !== length || !values.every(ok)) {
        throw new NetworkError(`layer '${layerName}': SPET ${field} must hold ${length} ${field === 'inputScale' ? 'finite numbers >= 0' : 'numbers'} (one per ${field === 'inputScale' ? 'input' : 'output'} channel)`);
      }
    }
  } else if (knobs.mode !== 'exact') {
    throw new NetworkError(`layer '${layerName}': unknown SPET mode '${String((knobs as { mode: unknown }).mode)}'`);
  }
}

/** Checks SDSS knobs; throws a NetworkError naming the layer. */
function checkSdss(knobs: SdssKnobs, layerName: string, tileMode: boolean): void {
  if (!(Number.isInteger(knobs.stride) && knobs.stride >= 2)) {
    throw new NetworkError(`layer '${layerName}': SDSS stride must be an integer >= 2, got ${knobs.stride}`);
  }
  if (!(knobs.delta >= 0)) throw new NetworkError(`layer '${layerName}': SDSS delta must be >= 0, got ${knobs.delta}`);
  const pattern = knobs.pattern ?? 'square';
  if (!SDSS_PATTERNS.includes(pattern)) throw new NetworkError(`layer '${layerName}': unknown SDSS pattern '${String(pattern)}'`);
  if (pattern === 'checkerboard') {
    // Neuron mode is the paper's semantics: its grid is the square one.
    if (!tileMode) throw new NetworkError(`layer '${layerName}': the SDSS checkerboard pattern applies in tile mode only (add "tile")`);
    if (knobs.stride !== 2) throw new NetworkError(`layer '${layerName}': the SDSS checkerboard pattern samples every other position: stride must be 2, got ${knobs.stride}`);
  }
}

/** Checks SFMA knobs; throws a NetworkError naming the layer. */
function checkSfma(knobs: SfmaKnobs, layerName: string): void {
  if (!(knobs.epsilon >= 0 && Number.isFinite(knobs.epsilon))) {
    throw new NetworkError(`layer '${layerName}': SFMA epsilon must be a finite number >= 0, got ${knobs.epsilon}`);
  }
}

/** Largest tile: 32 panels of 8 positions (a larger tile keeps next to nothing of the skips). */
export const MAX_TILE_POSITIONS = 256;

/**
 * Tile positions the kernels run: 1 (every neuron decides alone; survivors finished per position,
 * vectorised over the patch), 2 or 4 (SDSS's failing tiles finished by dot products over
 * channels-last planes, a tile's positions together) or a multiple of 8 (the dense micro-kernels'
 * column panel).
 */
export function validTilePositions(n: number): boolean {
  return n === 1 || n === 2 || n === 4 || (Number.isInteger(n) && n >= 8 && n <= MAX_TILE_POSITIONS && n % 8 === 0);
}

/** The tile sizes validTilePositions accepts, in words (for error messages and help). */
export const TILE_POSITIONS_RULE = `1, 2, 4 or a multiple of 8 in [8, ${MAX_TILE_POSITIONS}]`;

/** Checks tile-mode knobs; throws a NetworkError naming the layer. */
function checkTile(knobs: TileKnobs, layer: Layer): void {
  const n = knobs.positions;
  if (!validTilePositions(n)) {
    throw new NetworkError(`layer '${layer.name}': tile positions must be ${TILE_POSITIONS_RULE}, got ${n}`);
  }
  if (layer.params.type !== 'Convolution') {
    throw new NetworkError(`layer '${layer.name}' (${layer.params.type}): tile mode applies to convolutions; an InnerProduct runs SPET per neuron`);
  }
}

/**
 * Checks that `layer` takes the mechanisms of `effort` and that every knob is in range.
 *
 * @throws NetworkError naming the layer and the knob.
 */
export function checkLayerEffort(layer: Layer, effort: LayerEffort): void {
  const type = layer.params.type;
  if (type !== 'Convolution' && type !== 'InnerProduct') {
    throw new NetworkError(`layer '${layer.name}' (${type}) has effort knobs, but only Convolution and InnerProduct layers take them`);
  }
  if (type === 'InnerProduct' && (effort.sdss || effort.sfma)) {
    throw new NetworkError(`layer '${layer.name}': SDSS and SFMA apply to convolutions only; an InnerProduct takes SPET knobs alone`);
  }
  if (effort.spet) checkSpet(effort.spet, layer, effort.tile !== undefined);
  if (effort.sdss) checkSdss(effort.sdss, layer.name, effort.tile !== undefined);
  if (effort.sfma) checkSfma(effort.sfma, layer.name);
  if (effort.tile) checkTile(effort.tile, layer);
}
