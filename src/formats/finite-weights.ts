import { ModelFormatError } from '../errors.js';
import type { Layer, Network } from '../ir/network.js';

/**
 * Checks that a layer's loaded weights and bias are finite: one NaN or infinity (a flipped bit in
 * a weights file) makes every output of the network NaN, which would otherwise be scored as if
 * it were a prediction.
 *
 * @throws ModelFormatError naming the file, the layer, the blob and the first bad index.
 */
export function assertFiniteWeights(fileName: string, layer: Layer): void {
  const w = layer.weights;
  if (!w) return;
  for (const [blob, values] of [['weights', w.weight], ['bias', w.bias]] as const) {
    if (!values) continue;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        throw new ModelFormatError(`${fileName}: layer '${layer.name}' ${blob}[${i}] is ${values[i]}: the file is corrupt (a weight must be a finite number)`);
      }
    }
  }
}

/**
 * The largest magnitude a weight or bias is expected to have. Trained CNN weights are small: the
 * zoo's largest is 1.7 (bias 4.7, SqueezeNet), as He/Xavier initialisation and weight decay keep
 * them; 1e6 leaves six orders of magnitude for folded scales (a batch norm of tiny variance). Above
 * it a value is most often a flipped high exponent bit (x 2^32 and more) or a file read with the
 * wrong layout, and a few such weights overflow float32 activations within a few layers.
 */
export const PLAUSIBLE_WEIGHT_MAGNITUDE = 1e6;

/**
 * Finds weights and biases above {@link PLAUSIBLE_WEIGHT_MAGNITUDE} in magnitude: one warning line
 * per layer blob that has any, naming the file, the layer, the blob, the first such index and the
 * largest magnitude. Not an error: such a network still computes, but its results are suspect.
 */
export function implausibleWeights(fileName: string, net: Network): string[] {
  const warnings: string[] = [];
  for (const layer of net.layers) {
    const w = layer.weights;
    if (!w) continue;
    for (const [blob, values] of [['weights', w.weight], ['bias', w.bias]] as const) {
      if (!values) continue;
      let first = -1;
      let above = 0;
      let largest = 0;
      for (let i = 0; i < values.length; i++) {
        const m = Math.abs(values[i]);
        if (m > PLAUSIBLE_WEIGHT_MAGNITUDE) {
          if (first < 0) first = i;
          above++;
          if (m > largest) largest = m;
        }
      }
      if (first >= 0) {
        warnings.push(`${fileName}: layer '${layer.name}' ${blob}[${first}] is ${values[first]} (${above} value(s) above ${PLAUSIBLE_WEIGHT_MAGNITUDE.toExponential()} in magnitude, ` +
          `the largest ${largest.toExponential(2)}): trained weights are rarely above 10; the file may be corrupt`);
      }
    }
  }
  return warnings;
}
