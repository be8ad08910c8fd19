import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DataError, describeFsError } from '../errors.js';
import { shapeSize, type Shape } from '../ir/network.js';
import type { Dataset, DatasetBatch } from './dataset-types.js';
import { cifar10Image } from './cifar10.js';
import { readCifar10Batch, readSynsets } from './data-files.js';
import { decodeImage } from './image-decode.js';
import { checkInputShape, toNetworkInput, validatePreprocess, type Preprocess } from './preprocess.js';
import { synsetIdOf } from './synsets.js';

export type { Dataset, DatasetBatch } from './dataset-types.js';

/** The number of items a `batch(start, count)` call covers; throws RangeError on bad arguments. */
function batchCount(name: string, size: number, start: number, count: number): number {
  if (!(Number.isInteger(start) && start >= 0 && start <= size)) {
    throw new RangeError(`batch start ${start} is outside dataset ${name} of ${size} items`);
  }
  if (!(Number.isInteger(count) && count >= 0)) throw new RangeError(`batch count must be a non-negative integer, got ${count}`);
  return Math.min(count, size - start);
}

/**
 * The images of a CIFAR-10 binary batch file, preprocessed as declared (records are 32x32 RGB, so
 * a resize is rarely needed; channel order, crop, mean and scale apply as for any image).
 *
 * @throws DataError when the file is not a CIFAR-10 batch or 32x32 images do not become `inputShape`.
 */
export async function cifar10Dataset(file: string, preprocess: Preprocess, inputShape: Shape): Promise<Dataset> {
  validatePreprocess(preprocess);
  const data = await readCifar10Batch(file);
  const name = basename(file);
  checkInputShape(`${name}#0`, 32, 32, preprocess, inputShape);
  const blockSize = shapeSize(inputShape);
  return {
    name,
    size: data.count,
    inputShape,
    classNames: data.classNames,
    labelled: true,
    async batch(start: number, count: number): Promise<DatasetBatch> {
      const n = batchCount(name, data.count, start, count);
      const input = new Float32Array(n * blockSize);
      const labels = new Int32Array(n);
      const ids: string[] = [];
      for (let k = 0; k < n; k++) {
        const i = start + k;
        const id = `${name}#${i}`;
        toNetworkInput(cifar10Image(data.planes(i)), preprocess, inputShape, { name: id, out: input, offset: k * blockSize });
        labels[k] = data.labels[i];
        ids.push(id);
      }
      return { input, labels, ids };
    },
  };
}

const IMAGE_FILE = /\.(jpe?g|png)$/i;

/** The image files of a folder, sorted by name (code-unit order, so the same on every machine). */
async function listImages(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw describeFsError(dir, 'image folder', err);
  }
  const files = entries.filter((e) => !e.isDirectory() && IMAGE_FILE.test(e.name)).map((e) => e.name);
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The JPEG/PNG images (`.jpg`, `.jpeg`, `.png`, any case) of a folder, sorted by file name and
 * decoded lazily, one batch at a time. When the folder holds `synset_words.txt` the images are
 * labelled by the synset id their name starts with (`n01440764_tench.JPEG`), class index = line
 * of that id in the file, class names = the words after it; otherwise they are unlabelled.
 *
 * @throws DataError when the folder has no images, or an image's synset id is missing from the list.
 */
export async function imageFolderDataset(dir: string, preprocess: Preprocess, inputShape: Shape): Promise<Dataset> {
  validatePreprocess(preprocess);
  const files = await listImages(dir);
  const name = basename(dir);
  if (files.length === 0) throw new DataError(`image folder ${dir} holds no .jpg, .jpeg or .png files`);
  if (preprocess.resize) {
    // The final size no longer depends on the image: a wrong declaration fails before decoding.
    checkInputShape(files[0], preprocess.resize.width, preprocess.resize.height, preprocess, inputShape);
  }

  const synsetFile = join(dir, 'synset_words.txt');
  const synsets = existsSync(synsetFile) ? await readSynsets(synsetFile) : undefined;
  const labels = new Int32Array(files.length).fill(-1);
  if (synsets) {
    for (let i = 0; i < files.length; i++) {
      const id = synsetIdOf(files[i]);
      const index = id === undefined ? undefined : synsets.indexOf.get(id);
      if (index === undefined) {
        throw new DataError(
          id === undefined
            ? `image ${join(dir, files[i])} does not start with a synset id (nXXXXXXXX_...), so it cannot be labelled from ${synsetFile}`
            : `image ${join(dir, files[i])} has synset id ${id}, which ${synsetFile} does not list`,
        );
      }
      labels[i] = index;
    }
  }

  const blockSize = shapeSize(inputShape);
  return {
    name,
    size: files.length,
    inputShape,
    classNames: synsets?.names,
    labelled: synsets !== undefined,
    async batch(start: number, count: number): Promise<DatasetBatch> {
      const n = batchCount(name, files.length, start, count);
      const ids = files.slice(start, start + n);
      const contents = await Promise.all(
        ids.map((f) => {
          const path = join(dir, f);
          return readFile(path).catch((err: unknown) => {
            throw describeFsError(path, 'image file', err);
          });
        }),
      );
      const input = new Float32Array(n * blockSize);
      for (let k = 0; k < n; k++) {
        const image = decodeImage(contents[k], join(dir, ids[k]));
        toNetworkInput(image, preprocess, inputShape, { name: ids[k], out: input, offset: k * blockSize });
      }
      return { input, labels: labels.slice(start, start + n), ids };
    },
  };
}

/**
 * The items at even (0, 2, 4, ...) or odd (1, 3, ...) positions of a dataset: the calibration /
 * evaluation split of the ImageNet sample (even positions calibrate, odd evaluate).
 */
export function subset(dataset: Dataset, positions: 'even' | 'odd'): Dataset {
  const first = positions === 'even' ? 0 : 1;
  const size = positions === 'even' ? Math.ceil(dataset.size / 2) : Math.floor(dataset.size / 2);
  const name = `${dataset.name}[${positions}]`;
  const blockSize = shapeSize(dataset.inputShape);
  return {
    name,
    size,
    inputShape: dataset.inputShape,
    classNames: dataset.classNames,
    labelled: dataset.labelled,
    async batch(start: number, count: number): Promise<DatasetBatch> {
      const n = batchCount(name, size, start, count);
      // One item at a time: fetching the covering range would decode the skipped half too.
      const parts = await Promise.all(Array.from({ length: n }, (_, k) => dataset.batch(first + 2 * (start + k), 1)));
      const input = new Float32Array(n * blockSize);
      const labels = new Int32Array(n);
      const ids: string[] = [];
      parts.forEach((part, k) => {
        input.set(part.input, k * blockSize);
        labels[k] = part.labels[0];
        ids.push(part.ids[0]);
      });
      return { input, labels, ids };
    },
  };
}

/** The first `n` items of a dataset (all of it when it has fewer). */
export function limit(dataset: Dataset, n: number): Dataset {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`limit must be a non-negative integer, got ${n}`);
  const size = Math.min(n, dataset.size);
  const name = n < dataset.size ? `${dataset.name}[:${n}]` : dataset.name;
  return {
    name,
    size,
    inputShape: dataset.inputShape,
    classNames: dataset.classNames,
    labelled: dataset.labelled,
    batch(start: number, count: number): Promise<DatasetBatch> {
      return dataset.batch(start, batchCount(name, size, start, count));
    },
  };
}
