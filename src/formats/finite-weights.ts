import { ModelFormatError } from '../errors.js';
import type { Layer } from '../ir/network.js';

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
