/** Where the page's images come from: CIFAR-10 test records, the ImageNet sample, the user's file. */
import { cifar10Image, decodeImage, parseCifar10Batch, parseSynsets, synsetIdOf, type Cifar10Batch, type RgbImage } from '../../src/browser.js';
import { fetchData, fetchDataText, listData } from './data-source.js';

/** An image with its ground truth, when known. */
export interface DemoImage {
  readonly id: string;
  readonly image: RgbImage;
  /** Class index, -1 when unknown (the user's own file). */
  readonly label: number;
}

let cifar: Promise<Cifar10Batch> | undefined;

/** The CIFAR-10 test batch (fetched once). */
function cifarTestBatch(): Promise<Cifar10Batch> {
  cifar ??= fetchData('cifar10/test_batch.bin').then((bytes) => parseCifar10Batch(bytes, 'test_batch.bin'));
  return cifar;
}

/** Record `index` of the CIFAR-10 test batch. */
export async function cifarImage(index: number): Promise<DemoImage> {
  const batch = await cifarTestBatch();
  if (!(Number.isInteger(index) && index >= 0 && index < batch.count)) throw new RangeError(`CIFAR-10 test image must be 0..${batch.count - 1}, got ${index}`);
  return { id: `test_batch.bin#${index}`, image: cifar10Image(batch.planes(index)), label: batch.labels[index] };
}

let imagenet: Promise<{ files: string[]; indexOf: ReadonlyMap<string, number> }> | undefined;

/** The ImageNet sample's image files (sorted) and synset index. */
export function imagenetSample(): Promise<{ files: string[]; indexOf: ReadonlyMap<string, number> }> {
  imagenet ??= Promise.all([listData('imagenet-sample'), fetchDataText('imagenet-sample/synset_words.txt')]).then(([names, text]) => ({
    files: names.filter((f) => /\.(jpe?g|png)$/i.test(f)),
    indexOf: parseSynsets(text, 'synset_words.txt').indexOf,
  }));
  return imagenet;
}

/** An image of the ImageNet sample, by file name. */
export async function imagenetImage(file: string): Promise<DemoImage> {
  const [{ indexOf }, bytes] = await Promise.all([imagenetSample(), fetchData(`imagenet-sample/${file}`)]);
  const id = synsetIdOf(file);
  return { id: file, image: decodeImage(bytes, file), label: id === undefined ? -1 : indexOf.get(id) ?? -1 };
}

/** The user's own JPEG or PNG (decoded by the same code as the CLI, so the same pixels). */
export async function fileImage(file: File): Promise<DemoImage> {
  return { id: file.name, image: decodeImage(new Uint8Array(await file.arrayBuffer()), file.name), label: -1 };
}
