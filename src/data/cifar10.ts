import { DataError } from '../errors.js';
import type { RgbImage } from './image-decode.js';

/** Side of a CIFAR-10 image. */
export const CIFAR10_SIDE = 32;
/** Bytes of one image: R, G, B planes of 32 x 32. */
export const CIFAR10_IMAGE_BYTES = 3 * CIFAR10_SIDE * CIFAR10_SIDE;
/** Bytes of one record: the label byte, then the image. */
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_IMAGE_BYTES;
/** Number of classes; labels are 0..9. */
export const CIFAR10_CLASSES = 10;

/** A CIFAR-10 binary batch file held in memory. */
export interface Cifar10Batch {
  readonly file: string;
  readonly count: number;
  /** One label (0..9) per record. */
  readonly labels: Uint8Array;
  /** Class names from `batches.meta.txt` beside the file, in label order, when present. */
  readonly classNames?: string[];
  /** Record `i`'s image: 3072 bytes, R, G, B planes, rows top to bottom (a view, not a copy). */
  planes(i: number): Uint8Array;
}

/**
 * Parses the bytes of a CIFAR-10 binary batch (records of 1 label byte + 3072 image bytes).
 *
 * @throws DataError when the size is not a whole number of records or a label is not 0..9.
 */
export function parseCifar10Batch(bytes: Uint8Array, file: string, classNames?: string[]): Cifar10Batch {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new DataError(
      `${file} is not a CIFAR-10 binary batch: size ${bytes.length} is not a multiple of ${CIFAR10_RECORD_BYTES} ` +
        `(1 label byte + ${CIFAR10_IMAGE_BYTES} image bytes per record)`,
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = bytes[i * CIFAR10_RECORD_BYTES];
    if (label >= CIFAR10_CLASSES) {
      throw new DataError(
        `${file} is not a CIFAR-10 binary batch: record ${i} (byte offset ${i * CIFAR10_RECORD_BYTES}) has label ${label}, expected 0..9`,
      );
    }
    labels[i] = label;
  }
  return {
    file,
    count,
    labels,
    classNames,
    planes(i: number): Uint8Array {
      if (!(Number.isInteger(i) && i >= 0 && i < count)) throw new RangeError(`record ${i} out of range 0..${count - 1} in ${file}`);
      const start = i * CIFAR10_RECORD_BYTES + 1;
      return bytes.subarray(start, start + CIFAR10_IMAGE_BYTES);
    },
  };
}

/**
 * Parses the class names of `batches.meta.txt` (one per line, in label order).
 *
 * @throws DataError when the text does not hold exactly 10 names.
 */
export function parseCifar10ClassNames(text: string, file: string): string[] {
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (names.length !== CIFAR10_CLASSES) {
    throw new DataError(`${file} should list ${CIFAR10_CLASSES} class names, one per line; it has ${names.length}`);
  }
  return names;
}

/** A CIFAR-10 record's planar image as an interleaved {@link RgbImage} (for the common preprocessing). */
export function cifar10Image(planes: Uint8Array): RgbImage {
  const n = CIFAR10_SIDE * CIFAR10_SIDE;
  const rgb = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    rgb[3 * i] = planes[i];
    rgb[3 * i + 1] = planes[n + i];
    rgb[3 * i + 2] = planes[2 * n + i];
  }
  return { width: CIFAR10_SIDE, height: CIFAR10_SIDE, rgb };
}
