/** Where the mechanisms acted in one run, neuron by neuron (RunOptions.traceDecisions). */

/** A neuron that was computed (possibly over SFMA's kept maps only). */
export const NEURON_EVALUATED = 0;
/** A neuron that SPET predicted to saturate: set to 0 after its significant channels. */
export const NEURON_SPET_TERMINATED = 1;
/** A neuron that SDSS set to the mean of its grid neighbours without computing it. */
export const NEURON_SDSS_INTERPOLATED = 2;

/** One of {@link NEURON_EVALUATED}, {@link NEURON_SPET_TERMINATED}, {@link NEURON_SDSS_INTERPOLATED}. */
export type NeuronDecision = typeof NEURON_EVALUATED | typeof NEURON_SPET_TERMINATED | typeof NEURON_SDSS_INTERPOLATED;

/** Per-neuron decisions of one dynamic layer in one run. */
export interface LayerDecisions {
  /** The layer's name. */
  readonly layer: string;
  /** Images of the run. */
  readonly batch: number;
  /** Output channels per image (InnerProduct: its outputs). */
  readonly channels: number;
  /** Output height (InnerProduct: 1). */
  readonly height: number;
  /** Output width (InnerProduct: 1). */
  readonly width: number;
  /**
   * batch x channels x height x width, laid out like the layer's output blob: NEURON_EVALUATED (0),
   * NEURON_SPET_TERMINATED (1), NEURON_SDSS_INTERPOLATED (2). A non-grid neuron that failed SDSS's
   * test and was then terminated by SPET reads 1.
   */
  readonly neurons: Uint8Array;
  /** Input channels per image (InnerProduct: the channels of its input blob). */
  readonly inputChannels: number;
  /** batch x inputChannels: 1 where SFMA replaced the input map by its mean (all 0 without SFMA). */
  readonly sfmaApproximated: Uint8Array;
}

/**
 * An all-evaluated, nothing-approximated record for a layer, which the kernels then fill in
 * place (the arrays are writable; the interface is read-only for consumers).
 */
export function emptyDecisions(
  layer: string, batch: number, channels: number, height: number, width: number, inputChannels: number,
): LayerDecisions {
  return {
    layer, batch, channels, height, width, inputChannels,
    neurons: new Uint8Array(batch * channels * height * width), sfmaApproximated: new Uint8Array(batch * inputChannels),
  };
}

/** The decisions of one layer over two runs of consecutive images (batches, chunks); a new object. */
export function concatDecisions(a: LayerDecisions, b: LayerDecisions): LayerDecisions {
  const neurons = new Uint8Array(a.neurons.length + b.neurons.length);
  neurons.set(a.neurons);
  neurons.set(b.neurons, a.neurons.length);
  const sfma = new Uint8Array(a.sfmaApproximated.length + b.sfmaApproximated.length);
  sfma.set(a.sfmaApproximated);
  sfma.set(b.sfmaApproximated, a.sfmaApproximated.length);
  return { ...a, batch: a.batch + b.batch, neurons, sfmaApproximated: sfma };
}
