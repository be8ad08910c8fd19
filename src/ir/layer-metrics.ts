import { findLayerDefinition } from './layers/registry.js';
import type { Layer } from './network.js';

/**
 * Dense MACs of one layer for one image, from the layer registry's formula (conv and fc; 0 for
 * every other type). Padding taps count: they are multiplications by zero on the dense path.
 */
export function layerMacs(layer: Layer): number {
  const def = findLayerDefinition(layer.params.type) as NonNullable<ReturnType<typeof findLayerDefinition>>;
  return def.macs(layer.params as never, layer.inputShapes, layer.outputShapes);
}

/** Learned blob shapes of a layer in Caffe order (weights, bias). */
export function layerBlobShapes(layer: Layer): number[][] {
  const def = findLayerDefinition(layer.params.type) as NonNullable<ReturnType<typeof findLayerDefinition>>;
  return def.blobShapes(layer.params as never, layer.inputShapes);
}

/** Number of learned parameters of a layer. */
export function layerParameterCount(layer: Layer): number {
  return layerBlobShapes(layer).reduce((sum, s) => sum + s.reduce((a, b) => a * b, 1), 0);
}

/** Dense MACs of one layer for `batch` images (see {@link layerMacs}). */
export function denseMacs(layer: Layer, batch: number): number {
  return batch * layerMacs(layer);
}
