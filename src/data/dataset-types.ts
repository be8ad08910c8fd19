import type { Shape } from '../ir/network.js';

/** A batch of preprocessed images, ready for the network. */
export interface DatasetBatch {
  /** count x CHW float32 blocks, back to back. */
  readonly input: Float32Array;
  /** Class index per image; -1 when the dataset is unlabelled. */
  readonly labels: Int32Array;
  /** Per image: a file name, or `file#record` for records of a batch file. */
  readonly ids: string[];
}

/** A fixed, ordered set of network inputs, read in batches. */
export interface Dataset {
  readonly name: string;
  readonly size: number;
  /** Shape of one preprocessed image (the network's input shape). */
  readonly inputShape: Shape;
  /** Class names by label index, when known. */
  readonly classNames?: string[];
  readonly labelled: boolean;
  /**
   * Images `start` .. `start + count - 1`, preprocessed. `count` is clipped at the end of the
   * dataset, so `labels.length` tells how many came back.
   */
  batch(start: number, count: number): Promise<DatasetBatch>;
}
