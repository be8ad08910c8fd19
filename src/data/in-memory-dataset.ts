import { DataError } from '../errors.js';
import { shapeSize, type Shape } from '../ir/network.js';
import type { Dataset, DatasetBatch } from './dataset-types.js';

/** What {@link inMemoryDataset} wraps: preprocessed images back to back, with optional labels. */
export interface InMemoryImages {
  readonly name: string;
  readonly inputShape: Shape;
  /** count x CHW float32 blocks (see toNetworkInput). */
  readonly inputs: Float32Array;
  /** One class index per image; absent = unlabelled. */
  readonly labels?: ArrayLike<number>;
  readonly ids?: readonly string[];
  readonly classNames?: string[];
}

/**
 * A dataset over images already preprocessed in memory (a page's chosen images, a test's
 * fixtures), so `evaluate` and the calibration run without file access.
 *
 * @throws DataError when the inputs are not whole images or the labels do not match their count.
 */
export function inMemoryDataset(images: InMemoryImages): Dataset {
  const block = shapeSize(images.inputShape);
  const size = images.inputs.length / block;
  if (!Number.isInteger(size)) throw new DataError(`${images.name}: ${images.inputs.length} values are not whole images of ${block}`);
  if (images.labels && images.labels.length !== size) throw new DataError(`${images.name}: ${images.labels.length} labels for ${size} images`);
  const ids = images.ids ?? Array.from({ length: size }, (_, i) => `${images.name}#${i}`);
  return {
    name: images.name,
    size,
    inputShape: images.inputShape,
    classNames: images.classNames,
    labelled: images.labels !== undefined,
    async batch(start: number, count: number): Promise<DatasetBatch> {
      if (!(Number.isInteger(start) && start >= 0 && start <= size)) throw new RangeError(`batch start ${start} is outside dataset ${images.name} of ${size} items`);
      const n = Math.min(Math.max(0, count), size - start);
      return {
        input: images.inputs.subarray(start * block, (start + n) * block),
        labels: Int32Array.from({ length: n }, (_, k) => (images.labels ? images.labels[start + k] : -1)),
        ids: ids.slice(start, start + n),
      };
    },
  };
}
