import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { imageFolderDataset, limit, subset } from '../src/data/dataset.js';
import { readImage } from '../src/data/data-files.js';
import { toNetworkInput, type Preprocess } from '../src/data/preprocess.js';
import { DataError } from '../src/errors.js';
import { DATA } from './helpers/files.js';

const IMAGENET = join(DATA, 'imagenet-sample');
const NET = { c: 3, h: 227, w: 227 };
const BLOCK = 3 * 227 * 227;
const SQUEEZENET: Preprocess = { resize: { width: 256, height: 256 }, crop: 227, channels: 'bgr', mean: { values: [104, 117, 123] } };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dyve-folder-'));
}

function pngBytes(width: number, height: number, value: number): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(value);
  return PNG.sync.write(png);
}

describe('imageFolderDataset on the ImageNet sample', () => {
  it('lists 1,000 images sorted by name, labelled by synset_words.txt order', async () => {
    const ds = await imageFolderDataset(IMAGENET, SQUEEZENET, NET);
    expect(ds.name).toBe('imagenet-sample');
    expect(ds.size).toBe(1000);
    expect(ds.labelled).toBe(true);
    expect(ds.classNames?.length).toBe(1000);
    expect(ds.classNames?.[0]).toBe('tench, Tinca tinca');
    expect(ds.classNames?.[999]).toBe('toilet tissue, toilet paper, bathroom tissue');

    const first = await ds.batch(0, 3);
    expect(first.ids).toEqual(['n01440764_tench.JPEG', 'n01443537_goldfish.JPEG', 'n01484850_great_white_shark.JPEG']);
    expect(Array.from(first.labels)).toEqual([0, 1, 2]);
    expect(first.input.length).toBe(3 * BLOCK);
    const expected = toNetworkInput(await readImage(join(IMAGENET, first.ids[1])), SQUEEZENET, NET);
    expect(first.input.subarray(BLOCK, 2 * BLOCK)).toEqual(expected);

    const last = await ds.batch(998, 5);
    expect(last.ids).toEqual(['n13133613_ear.JPEG', 'n15075141_toilet_tissue.JPEG']);
    expect(Array.from(last.labels)).toEqual([998, 999]);
  });

  it('splits by position: even calibrates, odd evaluates', async () => {
    const ds = await imageFolderDataset(IMAGENET, SQUEEZENET, NET);
    const even = subset(ds, 'even');
    const odd = subset(ds, 'odd');
    expect([even.size, odd.size]).toEqual([500, 500]);
    expect(odd.name).toBe('imagenet-sample[odd]');
    const o = await odd.batch(1, 2);
    expect(o.ids).toEqual(['n01491361_tiger_shark.JPEG', 'n01496331_electric_ray.JPEG']);
    expect(Array.from(o.labels)).toEqual([3, 5]);
    const direct = await ds.batch(3, 1);
    expect(o.input.subarray(0, BLOCK)).toEqual(direct.input);
    expect(Array.from((await limit(even, 2).batch(0, 10)).labels)).toEqual([0, 2]);
  });

  it('refuses a declared resize/crop that cannot give the input shape, before decoding', async () => {
    await expect(imageFolderDataset(IMAGENET, { ...SQUEEZENET, crop: 224 }, NET)).rejects.toThrow(
      "image 'n01440764_tench.JPEG' is 256x256 (width x height), 3x224x224 after preprocessing, but the network expects 3x227x227: declare --resize/--crop",
    );
  });

  it('without a resize, names the first image whose size does not fit', async () => {
    const ds = await imageFolderDataset(IMAGENET, { channels: 'bgr', crop: 227 }, NET);
    await expect(ds.batch(0, 1)).resolves.toBeDefined();
    // n02093647_Bedlington_terrier.JPEG (position 181) is 213x165, smaller than the crop.
    await expect(ds.batch(180, 3)).rejects.toThrow(
      "image 'n02093647_Bedlington_terrier.JPEG' is 213x165: smaller than the crop 227x227; declare a larger --resize",
    );
  });
});

describe('imageFolderDataset on other folders', () => {
  it('is unlabelled without synset_words.txt and takes .jpg/.jpeg/.png in any case', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'b.PNG'), pngBytes(4, 4, 10));
    writeFileSync(join(dir, 'a.png'), pngBytes(4, 4, 20));
    writeFileSync(join(dir, 'C.Jpeg'), readFileSync(join(IMAGENET, 'n01440764_tench.JPEG')));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    mkdirSync(join(dir, 'sub.png'));
    const ds = await imageFolderDataset(dir, { resize: { width: 4, height: 4 }, channels: 'rgb' }, { c: 3, h: 4, w: 4 });
    expect(ds.size).toBe(3);
    expect(ds.labelled).toBe(false);
    expect(ds.classNames).toBeUndefined();
    const b = await ds.batch(0, 3);
    expect(b.ids).toEqual(['C.Jpeg', 'a.png', 'b.PNG']);
    expect(Array.from(b.labels)).toEqual([-1, -1, -1]);
    expect(b.input[48]).toBe(20);
    expect(b.input[96 + 47]).toBe(10);
  });

  it('names an image whose synset id is not listed, or that has none', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'synset_words.txt'), 'n00000001 thing\nn00000002 other thing\n');
    writeFileSync(join(dir, 'n00000002_x.png'), pngBytes(2, 2, 0));
    writeFileSync(join(dir, 'n00000003_y.png'), pngBytes(2, 2, 0));
    await expect(imageFolderDataset(dir, { channels: 'rgb' }, { c: 3, h: 2, w: 2 })).rejects.toThrow(
      /image .*n00000003_y\.png has synset id n00000003, which .*synset_words\.txt does not list/,
    );
    const dir2 = tempDir();
    writeFileSync(join(dir2, 'synset_words.txt'), 'n00000001 thing\n');
    writeFileSync(join(dir2, 'cat.png'), pngBytes(2, 2, 0));
    await expect(imageFolderDataset(dir2, { channels: 'rgb' }, { c: 3, h: 2, w: 2 })).rejects.toThrow(/does not start with a synset id/);
  });

  it('labels by synset index and rejects a malformed synset list', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'synset_words.txt'), 'n00000001 thing\nn00000002 other thing\n');
    writeFileSync(join(dir, 'n00000002_x.png'), pngBytes(2, 2, 0));
    const ds = await imageFolderDataset(dir, { channels: 'rgb' }, { c: 3, h: 2, w: 2 });
    expect(ds.classNames).toEqual(['thing', 'other thing']);
    expect(Array.from((await ds.batch(0, 1)).labels)).toEqual([1]);
    writeFileSync(join(dir, 'synset_words.txt'), 'n00000001 thing\nbroken line\n');
    await expect(imageFolderDataset(dir, { channels: 'rgb' }, { c: 3, h: 2, w: 2 })).rejects.toThrow(/synset_words\.txt:2: expected 'nXXXXXXXX words', got 'broken line'/);
  });

  it('rejects an empty folder and a missing one, and names a corrupt image at batch time', async () => {
    const empty = tempDir();
    await expect(imageFolderDataset(empty, { channels: 'rgb' }, NET)).rejects.toThrow(DataError);
    await expect(imageFolderDataset(empty, { channels: 'rgb' }, NET)).rejects.toThrow(/holds no \.jpg, \.jpeg or \.png files/);
    await expect(imageFolderDataset(join(empty, 'missing'), { channels: 'rgb' }, NET)).rejects.toThrow(/image folder not found/);
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.jpg'), 'garbage');
    const ds = await imageFolderDataset(dir, { channels: 'rgb' }, NET);
    await expect(ds.batch(0, 1)).rejects.toThrow(/image .*bad\.jpg is not a decodable JPEG\/PNG/);
  });
});
