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

/** Whether a layer's knobs turn any mechanism on. */
export function hasEffort(effort: LayerEffort | undefined): effort is LayerEffort {
  return effort !== undefined && (effort.spet !== undefined || effort.sdss !== undefined || effort.sfma !== undefined);
}
