/** What the code that ran counted: per layer, per mechanism. */

/** The two mutable counts a kernel adds to; a LayerCounters is one. */
export interface OpCounts {
  macsExecuted: number;
  otherOps: number;
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

/**
 * What one layer did in one run, counted by the code that ran.
 * `macs*` cover Convolution and InnerProduct only (the paper's headline metric); `otherOps`
 * counts every other scalar operation (bias adds, comparisons, pooling, normalisation, ...).
 */
export interface LayerCounters {
  readonly name: string;
  readonly type: string;
  /** MACs the dense layer would execute for this batch (from the layer's shapes). */
  macsDense: number;
  /** MACs the kernels really executed. Equal to macsDense on the dense path. */
  macsExecuted: number;
  /** Other scalar operations executed. */
  otherOps: number;
  /** What the dynamic-effort mechanisms did, when the layer ran with any. */
  mechanisms?: MechanismStats;
}

/** The counters of one layer summed over two runs (batches or chunks); a new object. */
export function sumCounters(a: LayerCounters, b: LayerCounters): LayerCounters {
  const mechanisms = addMechanismStats(a.mechanisms, b.mechanisms);
  return {
    ...a, macsDense: a.macsDense + b.macsDense, macsExecuted: a.macsExecuted + b.macsExecuted, otherOps: a.otherOps + b.otherOps,
    ...(mechanisms && { mechanisms }),
  };
}
