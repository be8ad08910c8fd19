/** The shape of a zoo entry, models/<name>/model.json (see models/README.md). */

/** Preprocessing as declared in a zoo entry (see models/README.md). */
export interface ZooPreprocess {
  readonly resize?: readonly [number, number];
  readonly crop?: number;
  readonly channels: 'rgb' | 'bgr';
  readonly mean?: readonly number[] | { readonly data: string };
  readonly scale?: number;
}

/** A file reference: shipped with the package (`path`, relative to the model folder) or in the data directory (`data`). */
export type ZooFile = { readonly path: string } | { readonly data: string };

/** One model of the zoo: models/<name>/model.json. */
export interface ZooEntry {
  readonly name: string;
  readonly title: string;
  readonly paper?: string;
  readonly notes?: string;
  readonly prototxt: ZooFile;
  readonly weights: {
    readonly format: 'caffemodel' | 'deep-compression';
    /** In the data directory; null when the weights are not available here. */
    readonly data: string | null;
    readonly url: string | null;
    readonly sha256: string | null;
  };
  readonly dataset: 'cifar10' | 'imagenet-sample';
  readonly preprocess: ZooPreprocess;
  /** The folder of the entry. */
  readonly folder: string;
}
