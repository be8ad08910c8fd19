/**
 * Effort knobs of the DyVEDeep mechanisms (../shared/docs/DYVEDEEP.md), per layer. A layer with
 * no knobs (or all off) runs the dense kernel, bit for bit.
 */

/** SPET: predict ReLU saturation from a partial sum over the significant input channels. */
export type SpetKnobs =
  /** Heuristic: terminate (output 0) when bias + partial sum < threshold. */
  | { readonly mode: 'threshold'; readonly fraction: number; readonly threshold: number }
  /** Exact: terminate only when the partial sum plus a bound on the rest proves the neuron < 0. */
  | { readonly mode: 'exact'; readonly fraction: number };

/** SDSS: compute every `stride`-th row and column, interpolate others whose neighbours agree within `delta`. */
export interface SdssKnobs {
  readonly stride: number;
  readonly delta: number;
}

/** SFMA: drop input map c when variance(c) <= epsilon * (mean(c)^2 + tiny); add mean x kernel sum. */
export interface SfmaKnobs {
  readonly epsilon: number;
}

/** The knobs of one layer; an absent mechanism is off. */
export interface LayerEffort {
  readonly spet?: SpetKnobs;
  readonly sdss?: SdssKnobs;
  readonly sfma?: SfmaKnobs;
}

/** What each mechanism did in one layer run (summed over the batch). */
export interface MechanismStats {
  /** SPET: neurons evaluated with a prediction, and how many were terminated early. */
  spet?: { neurons: number; terminated: number };
  /** SDSS: output values of the layer, and how many were interpolated instead of computed. */
  sdss?: { outputs: number; interpolated: number };
  /** SFMA: input maps seen (maps x images), and how many were approximated by their mean. */
  sfma?: { maps: number; approximated: number };
}

/** Whether a layer's knobs turn any mechanism on. */
export function hasEffort(effort: LayerEffort | undefined): effort is LayerEffort {
  return effort !== undefined && (effort.spet !== undefined || effort.sdss !== undefined || effort.sfma !== undefined);
}

/** The sum of two mechanism statistics (either may be absent); a new object. */
export function addMechanismStats(a: MechanismStats | undefined, b: MechanismStats | undefined): MechanismStats | undefined {
  if (!a && !b) return undefined;
  const out: MechanismStats = {};
  const spet = [a?.spet, b?.spet].filter((x) => x !== undefined);
  const sdss = [a?.sdss, b?.sdss].filter((x) => x !== undefined);
  const sfma = [a?.sfma, b?.sfma].filter((x) => x !== undefined);
  if (spet.length) out.spet = { neurons: spet.reduce((s, x) => s + x.neurons, 0), terminated: spet.reduce((s, x) => s + x.terminated, 0) };
  if (sdss.length) out.sdss = { outputs: sdss.reduce((s, x) => s + x.outputs, 0), interpolated: sdss.reduce((s, x) => s + x.interpolated, 0) };
  if (sfma.length) out.sfma = { maps: sfma.reduce((s, x) => s + x.maps, 0), approximated: sfma.reduce((s, x) => s + x.approximated, 0) };
  return out;
}
