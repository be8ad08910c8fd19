import { DyveError } from '../errors.js';
import type { Network } from '../ir/network.js';
import { feedsRelu, residualSum } from '../ir/relu-reach.js';
import { SDSS_PATTERNS, type LayerEffort, type SdssKnobs, type SfmaKnobs, type SpetKnobs, type TileKnobs } from './effort.js';
import { checkLayerEffort, TILE_POSITIONS_RULE, validTilePositions } from './knob-rules.js';

/**
 * An effort profile: per layer, the knobs of the DyVEDeep mechanisms. Stored as JSON:
 *
 * ```json
 * { "format": "dyvedeep-effort/1", "model": "cifar10-quick", "description": "...",
 *   "layers": {
 *     "conv2": { "spet": { "mode": "threshold", "fraction": 0.5, "threshold": -0.5 },
 *                "sdss": { "stride": 2, "delta": 0, "pattern": "square" },
 *                "sfma": { "epsilon": 0.001 },
 *                "tile": { "positions": 8 } } } }
 * ```
 * Layers not listed run dense. A layer with `tile` runs its mechanisms in tile mode (effort.ts). `calibration` (free-form, written by `dyve calibrate`) records how
 * the profile was found. See docs in models/README.md.
 */
export interface EffortProfile {
  readonly format: typeof PROFILE_FORMAT;
  readonly model?: string;
  readonly description?: string;
  readonly calibration?: unknown;
  readonly layers: Readonly<Record<string, LayerEffort>>;
}

export const PROFILE_FORMAT = 'dyvedeep-effort/1';

/** The mechanisms, by the names used in profiles and on the command line. */
export const MECHANISMS = ['spet', 'sdss', 'sfma'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

/** The all-off profile: runs the dense kernels, bit for bit. */
export const DENSE_PROFILE: EffortProfile = { format: PROFILE_FORMAT, description: 'dense: every mechanism off', layers: {} };

class ProfileError extends DyveError {
  override readonly name = 'ProfileError';
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Json, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ProfileError(`${where}: unknown field '${key}' (allowed: ${allowed.join(', ')})`);
  }
}

/**
 * A JSON value as found, for messages. JSON has no Infinity, but JSON.parse reads a number beyond
 * the float64 range (1e400) as one, which JSON.stringify would print as `null`: named as what it is.
 */
function found(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} (out of range: not a finite number; a JSON number beyond ±1.8e308, such as 1e400, reads as infinite)`;
  // JSON.stringify recurses: a value nested thousands deep overflows the stack (a RangeError, not
  // a message), and a huge one would flood the message; both are cut to a sketch.
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  if (text === undefined) return Array.isArray(v) ? 'an array nested too deep to print' : typeof v === 'object' && v !== null ? 'an object nested too deep to print' : String(v);
  return text.length > 200 ? `${text.slice(0, 200)}... (${text.length} characters)` : text;
}

function numberField(obj: Json, key: string, where: string, check: (n: number) => boolean, rule: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new ProfileError(`${where}.${key} must be ${rule}, found ${found(v)}`);
  }
  return v;
}

function numberList(obj: Json, key: string, where: string, check: (n: number) => boolean, rule: string): number[] | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ProfileError(`${where}.${key} must be an array of ${rule}, found ${found(v)}`);
  const bad = v.findIndex((n) => typeof n !== 'number' || !Number.isFinite(n) || !check(n));
  if (bad >= 0) throw new ProfileError(`${where}.${key} must be an array of ${rule}, found ${found(v[bad])} at [${bad}]`);
  return v as number[];
}

function parseSpet(v: unknown, where: string): SpetKnobs {
  if (!isObject(v)) throw new ProfileError(`${where} must be an object { mode, fraction, threshold }`);
  const mode = v.mode ?? 'threshold';
  const fraction = numberField(v, 'fraction', where, (n) => n > 0 && n <= 1, 'a number in (0, 1]');
  if (mode === 'exact') {
    checkKeys(v, ['mode', 'fraction'], where);
    return { mode: 'exact', fraction };
  }
  if (mode !== 'threshold') throw new ProfileError(`${where}.mode must be "threshold" or "exact", found ${found(mode)}`);
  checkKeys(v, ['mode', 'fraction', 'threshold', 'thresholds', 'inputScale'], where);
  const threshold = numberField(v, 'threshold', where, () => true, 'a finite number');
  const thresholds = numberList(v, 'thresholds', where, () => true, 'finite numbers');
  const inputScale = numberList(v, 'inputScale', where, (n) => n >= 0, 'finite numbers >= 0');
  return { mode: 'threshold', fraction, threshold, ...(thresholds && { thresholds }), ...(inputScale && { inputScale }) };
}

function parseSdss(v: unknown, where: string): SdssKnobs {
  if (!isObject(v)) throw new ProfileError(`${where} must be an object { stride, delta, pattern? }`);
  checkKeys(v, ['stride', 'delta', 'pattern'], where);
  const knobs = {
    stride: numberField(v, 'stride', where, (n) => Number.isInteger(n) && n >= 2, 'an integer >= 2'),
    delta: numberField(v, 'delta', where, (n) => n >= 0, 'a number >= 0'),
  };
  if (v.pattern === undefined) return knobs;
  const pattern = SDSS_PATTERNS.find((p) => p === v.pattern);
  if (pattern === undefined) throw new ProfileError(`${where}.pattern must be ${SDSS_PATTERNS.map((p) => `"${p}"`).join(' or ')}, found ${found(v.pattern)}`);
  return { ...knobs, pattern };
}

function parseTile(v: unknown, where: string): TileKnobs {
  if (!isObject(v)) throw new ProfileError(`${where} must be an object { positions }`);
  checkKeys(v, ['positions'], where);
  return {
    positions: numberField(v, 'positions', where, validTilePositions, TILE_POSITIONS_RULE),
  };
}

function parseSfma(v: unknown, where: string): SfmaKnobs {
  if (!isObject(v)) throw new ProfileError(`${where} must be an object { epsilon }`);
  checkKeys(v, ['epsilon'], where);
  return { epsilon: numberField(v, 'epsilon', where, (n) => n >= 0, 'a number >= 0') };
}

/**
 * Checks a parsed JSON profile against a network: every layer exists, every knob is in range,
 * every mechanism applies to its layer. Errors name the file, the layer and the field.
 */
export function validateProfile(json: unknown, net: Network, source = 'effort profile'): EffortProfile {
  if (!isObject(json)) throw new ProfileError(`${source}: must be a JSON object with a "layers" field`);
  checkKeys(json, ['format', 'model', 'description', 'calibration', 'layers', '$schema'], source);
  if (json.format !== undefined && json.format !== PROFILE_FORMAT) {
    throw new ProfileError(`${source}: format ${found(json.format)} is not supported (expected "${PROFILE_FORMAT}")`);
  }
  if (!isObject(json.layers)) throw new ProfileError(`${source}: "layers" must be an object mapping layer names to knobs`);
  const layers: Record<string, LayerEffort> = {};
  for (const [name, knobs] of Object.entries(json.layers)) {
    const where = `${source}: layer '${name}'`;
    const layer = net.layers.find((l) => l.name === name);
    if (!layer) {
      const candidates = net.layers.filter((l) => l.params.type === 'Convolution' || l.params.type === 'InnerProduct').map((l) => l.name);
      throw new ProfileError(`${where} is not in the network (its conv/fc layers: ${candidates.join(', ')})`);
    }
    if (!isObject(knobs)) throw new ProfileError(`${where} must map to an object { spet?, sdss?, sfma?, tile? }`);
    checkKeys(knobs, [...MECHANISMS, 'tile'], where);
    const type = layer.params.type;
    const effort: { spet?: SpetKnobs; sdss?: SdssKnobs; sfma?: SfmaKnobs; tile?: TileKnobs } = {};
    if (knobs.spet !== undefined) {
      if (type !== 'Convolution' && type !== 'InnerProduct') throw new ProfileError(`${where}: SPET applies to Convolution and InnerProduct layers, not ${type}`);
      if (!feedsRelu(net, layer) && !residualSum(net, layer)) {
        throw new ProfileError(
          `${where}: SPET needs a ReLU after the layer (directly, through MAX pooling, or after an Eltwise sum of it and one earlier blob with coefficients 1); its output feeds something else`,
        );
      }
      effort.spet = parseSpet(knobs.spet, `${where}.spet`);
    }
    if (knobs.sdss !== undefined) {
      if (type !== 'Convolution') throw new ProfileError(`${where}: SDSS applies to Convolution layers, not ${type}`);
      effort.sdss = parseSdss(knobs.sdss, `${where}.sdss`);
    }
    if (knobs.sfma !== undefined) {
      if (type !== 'Convolution') throw new ProfileError(`${where}: SFMA applies to Convolution layers, not ${type}`);
      effort.sfma = parseSfma(knobs.sfma, `${where}.sfma`);
    }
    if (knobs.tile !== undefined) {
      if (type !== 'Convolution') throw new ProfileError(`${where}: tile mode applies to Convolution layers, not ${type}`);
      effort.tile = parseTile(knobs.tile, `${where}.tile`);
    }
    try {
      checkLayerEffort(layer, effort);
    } catch (err) {
      throw new ProfileError(`${source}: ${(err as Error).message}`);
    }
    layers[name] = effort;
  }
  return {
    format: PROFILE_FORMAT,
    model: typeof json.model === 'string' ? json.model : undefined,
    description: typeof json.description === 'string' ? json.description : undefined,
    calibration: json.calibration,
    layers,
  };
}

/**
 * Parses and validates a profile's JSON text.
 *
 * @throws ProfileError naming `source` when the text is not JSON or not a valid profile for `net`.
 */
export function parseProfile(text: string, net: Network, source = 'effort profile'): EffortProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  return validateProfile(json, net, source);
}

/** Keeps only the given mechanisms of a profile (for ablations). */
export function restrictMechanisms(profile: EffortProfile, keep: readonly Mechanism[]): EffortProfile {
  const layers: Record<string, LayerEffort> = {};
  for (const [name, effort] of Object.entries(profile.layers)) {
    const kept = Object.fromEntries(MECHANISMS.filter((m) => keep.includes(m) && effort[m]).map((m) => [m, effort[m]])) as LayerEffort;
    layers[name] = effort.tile && Object.keys(kept).length > 0 ? { ...kept, tile: effort.tile } : kept;
  }
  return { ...profile, layers };
}
