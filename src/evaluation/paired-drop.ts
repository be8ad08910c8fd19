/**
 * How far a top-1 drop measured on N images can be trusted. Dense and DyVEDeep run on the SAME
 * images, so the drop is a mean of per-image differences d = (dense right) - (DyVEDeep right), each
 * -1, 0 or 1: most images agree (d = 0), and the standard error of that mean, not of two separate
 * accuracies, is what the drop's uncertainty is. Measured: cifar10-quick's tile profile on the 10,000
 * CIFAR-10 test images (3.7 % of predictions changed) 0.48 +- 0.17 pp; squeezenet-dc's neuron
 * profile on the 500 odd ImageNet samples (6.2 % changed) 1.60 +- 0.69 pp.
 */

/** Per image: 1 top-1 right, 0 wrong, -1 not scored (no label). */
export type TopOneCorrect = Int8Array;

/** A top-1 drop over paired images, in percentage points. */
export interface PairedDrop {
  /** Images scored in both runs. */
  readonly images: number;
  /** Right in the baseline, wrong in the candidate. */
  readonly lost: number;
  /** Wrong in the baseline, right in the candidate. */
  readonly gained: number;
  /** 100 x (lost - gained) / images. */
  readonly dropPP: number;
  /** The standard error of dropPP (sample variance of the per-image differences over images). */
  readonly standardErrorPP: number;
}

/** The paired top-1 drop of `candidate` against `baseline` (the same images, in order), or null when no image is scored in both. */
export function pairedDrop(baseline: TopOneCorrect, candidate: TopOneCorrect): PairedDrop | null {
  let images = 0;
  let lost = 0;
  let gained = 0;
  for (let i = 0; i < baseline.length; i++) {
    if (baseline[i] < 0 || candidate[i] < 0) continue;
    images++;
    if (baseline[i] > candidate[i]) lost++;
    else if (baseline[i] < candidate[i]) gained++;
  }
  if (images === 0) return null;
  const net = lost - gained;
  const variance = images > 1 ? (lost + gained - (net * net) / images) / (images - 1) : 0;
  return { images, lost, gained, dropPP: (100 * net) / images, standardErrorPP: 100 * Math.sqrt(variance / images) };
}
