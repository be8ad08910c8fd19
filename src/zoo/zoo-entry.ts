/** The shape of a zoo entry, models/<name>/model.json (see models/README.md), and its preprocessing. */
import type { Preprocess } from '../data/preprocess.js';
import type { MeanImage } from '../formats/caffe/binaryproto.js';

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
  /** The network: a deploy .prototxt, or an ONNX model (`.onnx`, its weights inside: then `weights.format` is `onnx` and names the same file). */
  readonly prototxt: ZooFile;
  readonly weights: {
    readonly format: 'caffemodel' | 'deep-compression' | 'onnx';
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

/**
 * The preprocessing a zoo entry declares, as the engine takes it. A mean stored in the data
 * directory (`{ data: FILE }`) is read with `readMean` (a file read in Node, a fetch in a page).
 */
export async function zooPreprocess(p: ZooPreprocess, readMean: (dataFile: string) => Promise<MeanImage>): Promise<Preprocess> {
  const mean = p.mean === undefined ? undefined : isMeanValues(p.mean) ? { values: p.mean } : await readMean(p.mean.data);
  return {
    resize: p.resize ? { width: p.resize[0], height: p.resize[1] } : undefined,
    crop: p.crop,
    channels: p.channels,
    mean,
    scale: p.scale ?? 1,
  };
}

function isMeanValues(mean: NonNullable<ZooPreprocess['mean']>): mean is readonly number[] {
  return Array.isArray(mean);
}
