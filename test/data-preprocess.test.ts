import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RgbImage } from '../src/data/image-decode.js';
import { readImage } from '../src/data/data-files.js';
import { checkInputShape, toNetworkInput, validatePreprocess, type Preprocess } from '../src/data/preprocess.js';
import { resizeRgb } from '../src/data/resize.js';
import { DataError } from '../src/errors.js';
import { DATA } from './helpers/files.js';

const TENCH_NAME = 'n01440764_tench.JPEG';
const TENCH = join(DATA, 'imagenet-sample', TENCH_NAME); // 500 x 375
const NET = { c: 3, h: 227, w: 227 };
const IMAGENET_MEAN = { values: [104, 117, 123] };

function gray(values: number[]): RgbImage {
  return { width: values.length, height: 1, rgb: Uint8Array.from(values.flatMap((v) => [v, v, v])) };
}

/** A deterministic test pattern (the same formula generated the Pillow reference hashes below). */
function pattern(width: number, height: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = (x * 37 + y * 59 + c * 101 + ((x * y) % 17) * 9) % 256;
  return { width, height, rgb };
}

describe('resizeRgb', () => {
  it('downscales with a triangle widened by the scale factor (hand-computed)', () => {
    // 4 -> 2: scale 2, taps of output 0 are pixels 0,1,2 weighted 3/7, 3/7, 1/7 -> (0*3 + 70*3 + 140) / 7 = 50;
    // output 1: pixels 1,2,3 weighted 1/7, 3/7, 3/7 -> (70 + 140*3 + 210*3) / 7 = 160.
    expect(Array.from(resizeRgb(gray([0, 70, 140, 210]), 2, 1).rgb)).toEqual([50, 50, 50, 160, 160, 160]);
  });

  it('upscales by linear interpolation between pixel centres (hand-computed)', () => {
    // 4 -> 7: output 1 has centre 1.5 * 4/7 = 0.857 in input pixels -> 0.643 * 0 + 0.357 * 70 = 25.
    const out = resizeRgb(gray([0, 70, 140, 210]), 7, 1).rgb.filter((_, i) => i % 3 === 0);
    expect(Array.from(out)).toEqual([0, 25, 65, 105, 145, 185, 210]);
  });

  it('is bit-identical to Pillow 9.4 Image.resize(BILINEAR)', () => {
    const expected: Array<[number, number, string]> = [
      [16, 9, 'e655f43d562c2663beb4f788e3709b0c073636f94efba8642acf9e8ad97450bd'],
      [50, 40, '2cb5295a44666785eb0ea0ff9bf2160a220e0780b3245fb0a9d034c91884b711'],
      [37, 11, '83a9f6c32378d9ac683a79b62a62181f076cae82a465e3d1cf6243f3274cfa3a'],
      [10, 23, '1dcd32e965fa854e0af01000a01e01d424fbf6ef136363306a2186ab34ae43c5'],
      [5, 3, 'c92355bb8bc7153c7c96790d9eb2117d2d95bed816e920d6419bb1b2052238f7'],
    ];
    const source = pattern(37, 23);
    for (const [w, h, sha] of expected) {
      const out = resizeRgb(source, w, h);
      expect(createHash('sha256').update(out.rgb).digest('hex'), `${w}x${h}`).toBe(sha);
    }
  });

  it('keeps a constant image constant, down and up', () => {
    const constant: RgbImage = { width: 500, height: 375, rgb: new Uint8Array(500 * 375 * 3).fill(173) };
    for (const [w, h] of [[256, 256], [227, 227], [33, 700], [1, 1]]) {
      const out = resizeRgb(constant, w, h);
      expect(out.rgb.length).toBe(w * h * 3);
      expect(out.rgb.every((v) => v === 173), `${w}x${h}`).toBe(true);
    }
  });

  it('returns an equal copy when the size already matches', async () => {
    const image = await readImage(TENCH);
    const same = resizeRgb(image, 500, 375);
    expect(same.rgb === image.rgb).toBe(false);
    expect(Buffer.from(same.rgb).equals(Buffer.from(image.rgb))).toBe(true);
  });

  it('resamples only the axis that changes', () => {
    const source = pattern(37, 23);
    const tall = resizeRgb(source, 37, 11);
    const row = (img: RgbImage, y: number) => Array.from(img.rgb.subarray(y * img.width * 3, (y + 1) * img.width * 3));
    // Every column is resampled alone: column 0 of the result equals resizing column 0 only.
    const column0: RgbImage = { width: 1, height: 23, rgb: Uint8Array.from({ length: 69 }, (_, i) => source.rgb[Math.floor(i / 3) * 111 + (i % 3)]) };
    const col = resizeRgb(column0, 1, 11);
    for (let y = 0; y < 11; y++) expect(row(tall, y).slice(0, 3)).toEqual(Array.from(col.rgb.subarray(y * 3, y * 3 + 3)));
  });
});

describe('toNetworkInput', () => {
  it('centre-crops 227x227 in BGR minus 104/117/123 (hand-computed from the decoded RGB)', async () => {
    const image = await readImage(TENCH);
    const out = toNetworkInput(image, { crop: 227, channels: 'bgr', mean: IMAGENET_MEAN }, NET);
    expect(out.length).toBe(3 * 227 * 227);
    const [oy, ox] = [Math.floor((375 - 227) / 2), Math.floor((500 - 227) / 2)]; // 74, 136
    const rgbAt = (y: number, x: number, c: number) => image.rgb[((oy + y) * 500 + ox + x) * 3 + c];
    for (const [y, x] of [[0, 0], [0, 226], [113, 113], [226, 0], [226, 226], [50, 170]]) {
      const p = y * 227 + x;
      expect(out[p]).toBe(rgbAt(y, x, 2) - 104); // B
      expect(out[227 * 227 + p]).toBe(rgbAt(y, x, 1) - 117); // G
      expect(out[2 * 227 * 227 + p]).toBe(rgbAt(y, x, 0) - 123); // R
    }
  });

  it('resizes to 256x256, crops 227 at offset 14, then scales', async () => {
    const image = await readImage(TENCH);
    const p: Preprocess = { resize: { width: 256, height: 256 }, crop: 227, channels: 'bgr', mean: IMAGENET_MEAN, scale: 0.5 };
    const out = toNetworkInput(image, p, NET);
    const resized = resizeRgb(image, 256, 256);
    const at = (y: number, x: number, c: number) => resized.rgb[((14 + y) * 256 + 14 + x) * 3 + c];
    for (const [y, x] of [[0, 0], [100, 200], [226, 226]]) {
      expect(out[y * 227 + x]).toBe((at(y, x, 2) - 104) * 0.5);
      expect(out[2 * 227 * 227 + y * 227 + x]).toBe((at(y, x, 0) - 123) * 0.5);
    }
  });

  it('writes into a batch buffer at an offset', () => {
    const image = gray([1, 2, 3, 4]);
    const out = new Float32Array(2 + 12);
    const shape = { c: 3, h: 1, w: 4 };
    const result = toNetworkInput(image, { channels: 'rgb', mean: { values: [1] } }, shape, { out, offset: 2 });
    expect(result).toBe(out);
    expect(Array.from(out)).toEqual([0, 0, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  });

  it('subtracts a mean image of the crop size as is, and refuses one of another size', () => {
    const image = pattern(6, 4);
    const shape = { c: 3, h: 2, w: 2 };
    const mean = { image: new Float32Array(12).map((_, i) => i), shape };
    const out = toNetworkInput(image, { crop: 2, channels: 'rgb', mean }, shape);
    // crop offset: x = floor((6 - 2) / 2) = 2, y = 1
    expect(out[3]).toBe(image.rgb[(2 * 6 + 3) * 3] - 3);
    const wrong = { image: new Float32Array(27), shape: { c: 3, h: 3, w: 3 } };
    expect(() => toNetworkInput(image, { crop: 2, channels: 'rgb', mean: wrong }, shape)).toThrow(
      'mean image is 3x3 (width x height) but the image is 6x4 before the crop and 2x2 after it: the mean must have one of these sizes',
    );
  });

  it('names the image and both shapes when the size does not fit the network', async () => {
    const image = await readImage(TENCH);
    const call = () => toNetworkInput(image, { channels: 'bgr', mean: IMAGENET_MEAN }, NET, { name: TENCH_NAME });
    expect(call).toThrow(DataError);
    expect(call).toThrow(
      `image '${TENCH_NAME}' is 500x375 (width x height), 3x375x500 after preprocessing, but the network expects 3x227x227: declare --resize/--crop`,
    );
    expect(() => checkInputShape('a.png', 200, 150, { crop: 227, channels: 'rgb' }, NET)).toThrow(
      "image 'a.png' is 200x150: smaller than the crop 227x227; declare a larger --resize",
    );
    expect(() => checkInputShape('a.png', 227, 227, { channels: 'rgb' }, { c: 1, h: 227, w: 227 })).toThrow(/only 3-channel/);
  });

  it('rejects malformed declarations', () => {
    expect(() => validatePreprocess({ channels: 'rgb', crop: 0 })).toThrow('crop must be a positive integer, got 0');
    expect(() => validatePreprocess({ channels: 'rgb', resize: { width: 256, height: 2.5 } })).toThrow(/resize must be positive integers/);
    expect(() => validatePreprocess({ channels: 'rgb', mean: { values: [1, 2] } })).toThrow(/mean needs 1 or 3 values/);
    expect(() => validatePreprocess({ channels: 'rgb', mean: { image: new Float32Array(5), shape: { c: 3, h: 1, w: 2 } } })).toThrow(
      /holds 5 values but its shape 3x1x2 needs 6/,
    );
    expect(() => validatePreprocess({ channels: 'yuv' as 'rgb' })).toThrow(/'rgb' or 'bgr'/);
  });
});
