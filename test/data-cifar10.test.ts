import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cifar10Image, parseCifar10Batch } from '../src/data/cifar10.js';
import { readCifar10Batch } from '../src/data/data-files.js';
import { cifar10Dataset, limit, subset } from '../src/data/dataset.js';
import { DataError } from '../src/errors.js';
import { DATA, tempFile } from './helpers/files.js';

const TEST_BATCH = join(DATA, 'cifar10/test_batch.bin');
const SHAPE = { c: 3, h: 32, w: 32 };
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

describe('CIFAR-10 binary batches', () => {
  it('reads the 10,000 test records with their labels and class names', async () => {
    const batch = await readCifar10Batch(TEST_BATCH);
    expect(batch.count).toBe(10000);
    expect(Array.from(batch.labels.subarray(0, 10))).toEqual([8, 8, 2, 2, 4, 4, 6, 3, 2, 1]);
    const perClass = new Array(10).fill(0);
    for (const l of batch.labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(1000));
    expect(batch.classNames).toEqual(CLASSES);

    const raw = readFileSync(TEST_BATCH);
    const planes = batch.planes(9999);
    expect(planes.length).toBe(3072);
    expect(Buffer.from(planes).equals(raw.subarray(9999 * 3073 + 1, 10000 * 3073))).toBe(true);
  });

  it('rejects a file whose size is not a whole number of records', async () => {
    const raw = readFileSync(TEST_BATCH);
    const bad = tempFile('short.bin', raw.subarray(0, 3073 * 2 + 100));
    await expect(readCifar10Batch(bad)).rejects.toThrow(DataError);
    await expect(readCifar10Batch(bad)).rejects.toThrow(
      `${bad} is not a CIFAR-10 binary batch: size 6246 is not a multiple of 3073`,
    );
    expect(() => parseCifar10Batch(new Uint8Array(0), 'empty.bin')).toThrow(/size 0 is not a multiple of 3073/);
  });

  it('rejects a label outside 0..9, naming the record', () => {
    const bytes = new Uint8Array(3073 * 3);
    bytes[3073 * 2] = 10;
    expect(() => parseCifar10Batch(bytes, 'x.bin')).toThrow('x.bin is not a CIFAR-10 binary batch: record 2 (byte offset 6146) has label 10, expected 0..9');
  });

  it('has no class names when batches.meta.txt is not beside the file', async () => {
    const lone = tempFile('one.bin', readFileSync(TEST_BATCH).subarray(0, 3073));
    const batch = await readCifar10Batch(lone);
    expect(batch.count).toBe(1);
    expect(batch.classNames).toBeUndefined();
  });

  it('names a missing file', async () => {
    await expect(readCifar10Batch(join(DATA, 'cifar10/nope.bin'))).rejects.toThrow(/CIFAR-10 batch file not found: .*nope\.bin/);
  });

  it('interleaves the planes of a record', () => {
    const planes = new Uint8Array(3072);
    planes[5] = 1;
    planes[1024 + 5] = 2;
    planes[2048 + 5] = 3;
    const image = cifar10Image(planes);
    expect(image.width).toBe(32);
    expect(Array.from(image.rgb.subarray(15, 18))).toEqual([1, 2, 3]);
  });
});

describe('cifar10Dataset', () => {
  it('gives record bytes minus the mean, in R,G,B planes, with labels and ids', async () => {
    const ds = await cifar10Dataset(TEST_BATCH, { channels: 'rgb', mean: { values: [10, 20, 30] }, scale: 0.5 }, SHAPE);
    expect(ds.size).toBe(10000);
    expect(ds.labelled).toBe(true);
    expect(ds.classNames).toEqual(CLASSES);
    const b = await ds.batch(2, 3);
    expect(b.input.length).toBe(3 * 3072);
    expect(Array.from(b.labels)).toEqual([2, 2, 4]);
    expect(b.ids).toEqual(['test_batch.bin#2', 'test_batch.bin#3', 'test_batch.bin#4']);
    const raw = readFileSync(TEST_BATCH);
    const rec = (i: number) => raw.subarray(i * 3073 + 1, (i + 1) * 3073);
    for (const [k, i] of [[0, 2], [2, 4]] as const) {
      for (const p of [0, 33, 1023]) {
        expect(b.input[k * 3072 + p]).toBe((rec(i)[p] - 10) * 0.5);
        expect(b.input[k * 3072 + 1024 + p]).toBe((rec(i)[1024 + p] - 20) * 0.5);
        expect(b.input[k * 3072 + 2048 + p]).toBe((rec(i)[2048 + p] - 30) * 0.5);
      }
    }
  });

  it('subtracts a per-pixel mean image and swaps to BGR on request', async () => {
    const mean = new Float32Array(3072).map((_, i) => i % 7);
    const ds = await cifar10Dataset(TEST_BATCH, { channels: 'bgr', mean: { image: mean, shape: SHAPE } }, SHAPE);
    const b = await ds.batch(0, 1);
    const rec = readFileSync(TEST_BATCH).subarray(1, 3073);
    for (const p of [0, 500, 1023]) {
      expect(b.input[p]).toBe(rec[2048 + p] - mean[p]); // blue plane first
      expect(b.input[2048 + p]).toBe(rec[p] - mean[2048 + p]);
    }
  });

  it('crops a pre-crop-size mean image at the same offset', async () => {
    const mean = new Float32Array(3072).map((_, i) => i);
    const shape = { c: 3, h: 28, w: 28 };
    const ds = await cifar10Dataset(TEST_BATCH, { channels: 'rgb', crop: 28, mean: { image: mean, shape: SHAPE } }, shape);
    const b = await ds.batch(0, 1);
    const rec = readFileSync(TEST_BATCH).subarray(1, 3073);
    // offset floor((32 - 28) / 2) = 2 in each axis
    const at = (c: number, y: number, x: number) => c * 1024 + (y + 2) * 32 + (x + 2);
    expect(b.input[0]).toBe(rec[at(0, 0, 0)] - at(0, 0, 0));
    expect(b.input[2 * 784 + 27 * 28 + 27]).toBe(rec[at(2, 27, 27)] - at(2, 27, 27));
  });

  it('refuses preprocessing that does not give the network input shape', async () => {
    await expect(cifar10Dataset(TEST_BATCH, { channels: 'rgb' }, { c: 3, h: 24, w: 24 })).rejects.toThrow(
      "image 'test_batch.bin#0' is 32x32 (width x height), 3x32x32 after preprocessing, but the network expects 3x24x24: declare --resize/--crop",
    );
  });

  it('clips a batch at the end and rejects a start past it', async () => {
    const ds = await cifar10Dataset(TEST_BATCH, { channels: 'rgb' }, SHAPE);
    expect((await ds.batch(9998, 10)).labels.length).toBe(2);
    await expect(ds.batch(10001, 1)).rejects.toThrow(RangeError);
  });

  it('splits into even and odd positions and limits', async () => {
    const ds = await cifar10Dataset(TEST_BATCH, { channels: 'rgb' }, SHAPE);
    const even = subset(ds, 'even');
    const odd = subset(ds, 'odd');
    expect([even.size, odd.size]).toEqual([5000, 5000]);
    const e = await even.batch(0, 4);
    const o = await odd.batch(0, 4);
    expect(e.ids).toEqual(['test_batch.bin#0', 'test_batch.bin#2', 'test_batch.bin#4', 'test_batch.bin#6']);
    expect(Array.from(e.labels)).toEqual([8, 2, 4, 6]);
    expect(Array.from(o.labels)).toEqual([8, 2, 4, 3]);
    const whole = await ds.batch(0, 8);
    expect(o.input.subarray(3072, 2 * 3072)).toEqual(whole.input.subarray(3 * 3072, 4 * 3072));

    const few = limit(odd, 3);
    expect(few.size).toBe(3);
    expect(few.name).toBe('test_batch.bin[odd][:3]');
    expect((await few.batch(0, 100)).ids).toEqual(['test_batch.bin#1', 'test_batch.bin#3', 'test_batch.bin#5']);
    expect(limit(ds, 20000).size).toBe(10000);
  });
});
