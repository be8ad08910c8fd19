/** Reads data files from disk (Node, Deno): CIFAR-10 batches, synset lists, images. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readBytes, readText } from '../read-file.js';
import { parseCifar10Batch, parseCifar10ClassNames, type Cifar10Batch } from './cifar10.js';
import { decodeImage, type DecodedImage } from './image-decode.js';
import { parseSynsets, type Synsets } from './synsets.js';

/**
 * Reads the class names of `batches.meta.txt` (one per line, in label order).
 *
 * @returns `undefined` when the file does not exist.
 * @throws DataError when it does not hold exactly 10 names.
 */
export async function readCifar10ClassNames(metaFile: string): Promise<string[] | undefined> {
  if (!existsSync(metaFile)) return undefined;
  return parseCifar10ClassNames(await readText(metaFile, 'CIFAR-10 class names file'), metaFile);
}

/**
 * Reads a CIFAR-10 binary batch file, with the class names of `batches.meta.txt` beside it when
 * present.
 *
 * @throws DyveError when the file cannot be read; DataError when it is not a CIFAR-10 batch.
 */
export async function readCifar10Batch(file: string): Promise<Cifar10Batch> {
  const bytes = await readBytes(file, 'CIFAR-10 batch file');
  const classNames = await readCifar10ClassNames(join(dirname(file), 'batches.meta.txt'));
  return parseCifar10Batch(bytes, file, classNames);
}

/**
 * Reads a `synset_words.txt` file.
 *
 * @throws DyveError when it cannot be read; DataError when it is malformed.
 */
export async function readSynsets(file: string): Promise<Synsets> {
  return parseSynsets(await readText(file, 'synset list'), file);
}

/**
 * Reads and decodes a JPEG or PNG file.
 *
 * @throws DyveError when the file cannot be read; DataError when it is not a decodable image.
 */
export async function readImage(path: string): Promise<DecodedImage> {
  return decodeImage(await readBytes(path, 'image file'), path);
}
