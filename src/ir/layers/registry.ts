import type { LayerType } from '../network.js';
import { batchNorm } from './batch-norm.js';
import { convolution } from './convolution.js';
import { eltwise } from './eltwise.js';
import { clip, dropout, relu, sigmoid, softmax } from './elementwise.js';
import { innerProduct } from './inner-product.js';
import type { LayerDefinition } from './layer-definition.js';
import { lrn } from './lrn.js';
import { pooling } from './pooling.js';
import { prelu } from './prelu.js';
import { concat, flatten, split } from './routing.js';
import { scale } from './scale.js';

/** Every layer type the engine runs, by canonical Caffe type name. */
export const LAYER_DEFINITIONS: ReadonlyMap<LayerType, LayerDefinition> = new Map(
  ([
    convolution, pooling, lrn, innerProduct, relu, dropout, softmax, concat, split, flatten,
    scale, eltwise, prelu, clip, sigmoid,
  ] as LayerDefinition[]).map((d) => [d.type, d]),
);

/**
 * Caffe layer types the IR holds as another type: BatchNorm (inference) is a per-channel affine
 * map, a Scale once its blobs are converted (formats/caffe/batch-norm-blobs.ts).
 */
const CAFFE_CONVERTED: ReadonlyMap<string, LayerDefinition> = new Map([['BatchNorm', batchNorm as LayerDefinition]]);

const BY_V1_NAME = new Map<string, LayerDefinition>();
for (const def of LAYER_DEFINITIONS.values()) for (const v1 of def.v1Names) BY_V1_NAME.set(v1, def);

/** Looks a layer type up by its current name (`Convolution`) or its V1 enum name (`CONVOLUTION`). */
export function findLayerDefinition(type: string): LayerDefinition | undefined {
  return LAYER_DEFINITIONS.get(type as LayerType) ?? CAFFE_CONVERTED.get(type) ?? BY_V1_NAME.get(type);
}

/** The supported type names, for error messages. */
export function supportedLayerTypes(): string[] {
  return [...LAYER_DEFINITIONS.keys(), ...CAFFE_CONVERTED.keys()];
}
