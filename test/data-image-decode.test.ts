import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, sniffImageFormat } from '../src/data/image-decode.js';
import { readImage } from '../src/data/data-files.js';
import { DataError } from '../src/errors.js';
import { DATA, tempFile } from './helpers/files.js';

const IMAGENET = join(DATA, 'imagenet-sample');
const TENCH = join(IMAGENET, 'n01440764_tench.JPEG');

// Tiny generated fixtures (not sample data): Adobe CMYK JPEGs, 16x8.
// ImageMagick, Adobe transform 2 (YCCK): left half red, right half blue.
const YCCK_RED_BLUE =
  '/9j/7gAOQWRvYmUAZAAAAAAC/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/9sAQwECAgICAgIFAwMFCgcGBwoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK/8AAFAgACAAQBAERAAIRAQMRAQQRAP/EABYAAQEBAAAAAAAAAAAAAAAAAAgACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/xAAVAQEBAAAAAAAAAAAAAAAAAAAKCP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAOBAEAAhEDEQQAAD8AZirB/wBv4XgqZKif/9k=';
// Pillow, Adobe transform 0 (plain inverted CMYK): every pixel RGB (200, 100, 50).
const CMYK_ORANGE =
  '/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/8AAFAgACAAQBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBNAFkASwAAPwD9IK8Pr8x6/fyiiiiv/9k=';

/** SOF component count of a JPEG (1 = grayscale, 3 = YCbCr, 4 = CMYK/YCCK). */
function jpegComponents(bytes: Uint8Array): number {
  for (let p = 2; p + 9 < bytes.length; ) {
    const marker = bytes[p + 1];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[p + 9];
    p += 2 + ((bytes[p + 2] << 8) | bytes[p + 3]);
  }
  throw new Error('no SOF marker');
}

describe('decodeImage on the ImageNet sample', () => {
  it('decodes all 1,000 images to 3-channel RGB, grayscale JPEGs included', async () => {
    const files = readdirSync(IMAGENET).filter((f) => /\.jpe?g$/i.test(f));
    expect(files.length).toBe(1000);
    const formats = { jpeg: 0, png: 0 };
    let grayscale = 0;
    for (const f of files) {
      const bytes = readFileSync(join(IMAGENET, f));
      const image = decodeImage(bytes, f);
      formats[image.format]++;
      expect(image.rgb.length).toBe(image.width * image.height * 3);
      if (image.format === 'jpeg' && jpegComponents(bytes) === 1) {
        grayscale++;
        for (let i = 0; i < image.rgb.length; i += 3 * 97) {
          expect(image.rgb[i + 1]).toBe(image.rgb[i]);
          expect(image.rgb[i + 2]).toBe(image.rgb[i]);
        }
      }
    }
    // This sample has no PNG disguised as .JPEG and no CMYK JPEG; 23 files are grayscale.
    expect(formats).toEqual({ jpeg: 1000, png: 0 });
    expect(grayscale).toBe(23);
  });

  it('reads a file with its size and plausible colours', async () => {
    const image = await readImage(TENCH);
    expect([image.width, image.height, image.format]).toEqual([500, 375, 'jpeg']);
    let sum = 0;
    for (const v of image.rgb) sum += v;
    const mean = sum / image.rgb.length;
    expect(mean).toBeGreaterThan(20);
    expect(mean).toBeLessThan(235);
  });
});

describe('decodeImage formats', () => {
  it('sniffs the format from the bytes, not the extension (a PNG named .JPEG)', async () => {
    const png = new PNG({ width: 3, height: 2 });
    for (let i = 0; i < 6; i++) png.data.set([i * 10, i * 20, i * 30, i === 0 ? 0 : 255], i * 4);
    const path = tempFile('n00000000_disguised.JPEG', PNG.sync.write(png));
    const image = await readImage(path);
    expect(image.format).toBe('png');
    expect([image.width, image.height]).toEqual([3, 2]);
    // Alpha is dropped, not composited (pixel 0 is fully transparent).
    expect(Array.from(image.rgb)).toEqual([0, 0, 0, 10, 20, 30, 20, 40, 60, 30, 60, 90, 40, 80, 120, 50, 100, 150]);
  });

  it('decodes a grayscale PNG to RGB', () => {
    const gray = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 1 }), { data: Buffer.from([7, 7, 7, 255, 200, 200, 200, 255]) }), {
      colorType: 0,
    });
    expect(Array.from(decodeImage(gray, 'g.png').rgb)).toEqual([7, 7, 7, 200, 200, 200]);
  });

  it('decodes 16-bit, gray+alpha, RGBA, 1-bit, 4-bit and palette PNGs to 8-bit RGB (alpha dropped)', () => {
    // pngjs encodes the alpha variants (an encoder independent of our decoder); fast-png the rest.
    const rgb16 = encodePng({ width: 2, height: 1, depth: 16, channels: 3, data: new Uint16Array([0, 32896, 65535, 1799, 1799, 1799]) });
    expect(Array.from(decodeImage(rgb16, '16.png').rgb)).toEqual([0, 128, 255, 7, 7, 7]);
    const grayAlpha = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 1 }), { data: Buffer.from([9, 9, 9, 0, 250, 250, 250, 128]) }), { colorType: 4 });
    expect(Array.from(decodeImage(grayAlpha, 'ga.png').rgb)).toEqual([9, 9, 9, 250, 250, 250]);
    const rgba = PNG.sync.write(Object.assign(new PNG({ width: 1, height: 1 }), { data: Buffer.from([1, 2, 3, 0]) }), { colorType: 6 });
    expect(Array.from(decodeImage(rgba, 'rgba.png').rgb)).toEqual([1, 2, 3]);
    // Packed depths and palettes (3 pixels per row, 2 rows: rows are byte-aligned).
    const oneBit = encodePng({ width: 3, height: 2, depth: 1, channels: 1, data: new Uint8Array([0b10100000, 0b01000000]) });
    expect(Array.from(decodeImage(oneBit, '1.png').rgb)).toEqual([255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0]);
    const fourBit = encodePng({ width: 3, height: 1, depth: 4, channels: 1, data: new Uint8Array([0x0f, 0x70]) });
    expect(Array.from(decodeImage(fourBit, '4.png').rgb)).toEqual([0, 0, 0, 255, 255, 255, 119, 119, 119]);
    const palette = encodePng({
      width: 3, height: 1, depth: 2, channels: 1, data: new Uint8Array([0b00011000]),
      palette: [[10, 20, 30], [40, 50, 60], [70, 80, 90]],
    });
    expect(Array.from(decodeImage(palette, 'p.png').rgb)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('converts Adobe CMYK and YCCK JPEGs to RGB', () => {
    const orange = decodeImage(Buffer.from(CMYK_ORANGE, 'base64'), 'cmyk.jpg');
    expect([orange.width, orange.height]).toEqual([16, 8]);
    for (let i = 0; i < orange.rgb.length; i += 3) expect(Array.from(orange.rgb.subarray(i, i + 3))).toEqual([200, 100, 50]);
    const redBlue = decodeImage(Buffer.from(YCCK_RED_BLUE, 'base64'), 'ycck.jpg');
    expect(Array.from(redBlue.rgb.subarray(0, 3))).toEqual([255, 0, 0]);
    expect(Array.from(redBlue.rgb.subarray(redBlue.rgb.length - 3))).toEqual([0, 0, 255]);
  });

  it('sniffs JPEG, PNG and neither', () => {
    expect(sniffImageFormat(readFileSync(TENCH))).toBe('jpeg');
    expect(sniffImageFormat(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))).toBe('png');
    expect(sniffImageFormat(Buffer.from('GIF89a'))).toBeUndefined();
  });
});

describe('decodeImage errors', () => {
  const full = readFileSync(TENCH);

  it('rejects a truncated JPEG wherever it is cut (jpeg-js needs the EOI marker)', () => {
    const cuts = [1, 2, 3, 100, 1000, Math.floor(full.length / 2), full.length - 700, full.length - 620];
    for (const cut of cuts) {
      const truncated = full.subarray(0, full.length - cut);
      expect(() => decodeImage(truncated, 'cut.JPEG'), `cut ${cut}`).toThrow(/^image cut\.JPEG is not a decodable JPEG\/PNG: corrupt or truncated JPEG data/);
    }
  });

  it('names the truncated file read from disk', async () => {
    const path = tempFile('n01440764_tench.JPEG', full.subarray(0, Math.floor(full.length * 0.8)));
    const error = await readImage(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toContain(`image ${path} is not a decodable JPEG/PNG`);
  });

  it('rejects garbage, an empty file and a truncated PNG', async () => {
    const garbage = tempFile('garbage.jpg', 'this is not an image at all');
    await expect(readImage(garbage)).rejects.toThrow(
      `image ${garbage} is not a decodable JPEG/PNG: it starts with bytes 74 68 69 73, neither a JPEG (ff d8 ff) nor a PNG signature`,
    );
    expect(() => decodeImage(new Uint8Array(0), 'empty.png')).toThrow('image empty.png is not a decodable JPEG/PNG: the file is empty');
    const png = PNG.sync.write(new PNG({ width: 64, height: 64 }));
    expect(() => decodeImage(png.subarray(0, png.length - 20), 't.png')).toThrow(/^image t\.png is not a decodable JPEG\/PNG: corrupt or truncated PNG data/);
    const corrupt = Buffer.from(full);
    corrupt.fill(0xff, 2, 200); // destroy the JFIF and quantisation headers
    expect(() => decodeImage(corrupt, 'c.jpg')).toThrow(DataError);
  });

  it('names a missing file', async () => {
    await expect(readImage(join(IMAGENET, 'nope.JPEG'))).rejects.toThrow(/image file not found: .*nope\.JPEG/);
  });
});
