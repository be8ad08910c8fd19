/**
 * Fuzz: JPEG and PNG bytes with mutated headers (frame and IHDR sizes, segment and chunk lengths,
 * marker bytes, bit depths, colour types) and bodies end in a decoded image or a DyveError, never
 * another exception.
 *
 * The seeds are small valid images made here with jpeg-js and fast-png (several colour types, bit
 * depths and interlacing). Decoding runs with a 16,384-pixel cap: the cap itself (what a header may
 * declare by default) is tested with the decoder's own tests; here it bounds what one case may
 * cost, so that a case taking long or allocating much is a bug in the decoder, not a large image.
 */
import jpeg from 'jpeg-js';
import { encode as encodePng, type ImageData } from 'fast-png';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/data/image-decode.js';
import { applyByteEdits, byteEdits, fuzzParameters, fuzzRuns, OutcomeTally, report, runCase, type ByteEdit } from './fuzz-kit.js';

const MAX_PIXELS = 2 ** 14;

interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Bytes before the compressed pixel data: markers/segments of a JPEG up to its first scan, chunks of a PNG up to its first IDAT's data. */
  readonly headerBytes: number;
  /** Where the declared width and height are written, and in how many bytes each (big-endian). */
  readonly size: { readonly widthAt: number; readonly heightAt: number; readonly bytes: 2 | 4 };
}

/** A deterministic pattern of `n` bytes. */
const pattern = (n: number, salt: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + salt * 101 + ((i * i) >> 3)) & 0xff);

function jpegSeed(width: number, height: number, quality: number): Seed {
  const bytes = new Uint8Array(jpeg.encode({ width, height, data: pattern(width * height * 4, width) }, quality).data);
  let sof = -1;
  let at = 2;
  // Walk the segments to the first scan: SOF0 holds the size, SOS ends the header.
  for (;;) {
    const marker = bytes[at + 1];
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (marker === 0xc0) sof = at;
    at += 2 + length;
    if (marker === 0xda) break;
  }
  if (sof < 0) throw new Error('test setup: jpeg-js wrote no SOF0');
  return { name: `${width}x${height}-q${quality}.jpg`, bytes, headerBytes: at, size: { heightAt: sof + 5, widthAt: sof + 7, bytes: 2 } };
}

function pngSeed(name: string, image: ImageData, interlace = false): Seed {
  const bytes = encodePng(image, interlace ? { interlace: 'Adam7' } : {});
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (String.fromCharCode(...bytes.subarray(at + 4, at + 8)) !== 'IDAT') at += 12 + view.getUint32(at);
  return { name: `${name}.png`, bytes, headerBytes: at + 8, size: { widthAt: 16, heightAt: 20, bytes: 4 } };
}

const SEEDS: Seed[] = [
  jpegSeed(16, 16, 50), jpegSeed(17, 9, 90), jpegSeed(8, 8, 10), jpegSeed(1, 1, 75),
  pngSeed('rgb8', { width: 7, height: 5, data: pattern(7 * 5 * 3, 1), channels: 3, depth: 8 }),
  pngSeed('rgba8-adam7', { width: 4, height: 4, data: pattern(4 * 4 * 4, 2), channels: 4, depth: 8 }, true),
  pngSeed('grey16', { width: 5, height: 3, data: Uint16Array.from(pattern(15, 3), (v) => v * 257), channels: 1, depth: 16 }),
  pngSeed('grey1', { width: 9, height: 4, data: pattern(2 * 4, 4), channels: 1, depth: 1 }),
  pngSeed('palette4', { width: 6, height: 3, data: pattern(3 * 3, 5).map((v) => (v & 0x77) % 0x99), depth: 4, channels: 1,
    palette: Array.from({ length: 10 }, (_, i) => [i * 20, 255 - i * 20, i * 7]) }),
  pngSeed('grey-alpha8', { width: 3, height: 3, data: pattern(3 * 3 * 2, 6), channels: 2, depth: 8 }),
];

/** Declared sizes to write: zero, one, off by one, and past every cap (16 and 32 bits). */
const sizeValue = fc.oneof(
  fc.constantFrom(0, 1, 2, 8, 255, 256, 1023, 1024, 1025, 4096, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff).map((absolute) => ({ absolute })),
  fc.integer({ min: -2, max: 2 }).map((delta) => ({ delta })),
  fc.nat({ max: 2048 }).map((absolute) => ({ absolute })),
);

/** A case: a new declared width and/or height, then byte edits (half of them in the header); at least one of either. */
const mutation = fc.record({
  width: fc.option(sizeValue, { freq: 3 }),
  height: fc.option(sizeValue, { freq: 3 }),
  edits: byteEdits(3, 0),
}).filter(({ width, height, edits }) => width !== null || height !== null || edits.length > 0);

type SizeChange = { readonly absolute: number } | { readonly delta: number };

function mutate(s: Seed, width: SizeChange | null, height: SizeChange | null, edits: readonly ByteEdit[]): Uint8Array {
  const bytes = Uint8Array.from(s.bytes);
  const view = new DataView(bytes.buffer);
  for (const [at, change] of [[s.size.widthAt, width], [s.size.heightAt, height]] as const) {
    if (change === null) continue;
    const max = s.size.bytes === 2 ? 0xffff : 0xffffffff;
    const old = s.size.bytes === 2 ? view.getUint16(at) : view.getUint32(at);
    const v = Math.min(max, Math.max(0, 'delta' in change ? old + change.delta : change.absolute));
    if (s.size.bytes === 2) view.setUint16(at, v);
    else view.setUint32(at, v);
  }
  return applyByteEdits(bytes, edits, s.headerBytes);
}

function decode(s: Seed, bytes: Uint8Array): void {
  const image = decodeImage(bytes, s.name, { maxPixels: MAX_PIXELS });
  if (!(image.width > 0 && image.height > 0 && image.width * image.height <= MAX_PIXELS && image.rgb.length === image.width * image.height * 3)) {
    throw new Error(`decoded to an inconsistent image: ${image.width}x${image.height}, ${image.rgb.length} bytes`);
  }
}

describe('fuzz: image headers (JPEG, PNG)', () => {
  for (const format of ['JPEG', 'PNG'] as const) {
    it(`10,000 mutated ${format} files end in an image or a DyveError`, () => {
      const seeds = SEEDS.filter((s) => s.name.endsWith(format === 'JPEG' ? '.jpg' : '.png'));
      for (const s of seeds) decode(s, s.bytes);
      const tally = new OutcomeTally();
      fc.assert(
        fc.property(fc.nat({ max: seeds.length - 1 }), mutation, (i, { width, height, edits }) => {
          const bytes = mutate(seeds[i], width, height, edits);
          runCase(tally, () => decode(seeds[i], bytes), () => `${seeds[i].name} ${JSON.stringify({ width, height, edits })}`);
        }),
        fuzzParameters(10_000, format === 'JPEG' ? 8 : 9),
      );
      report(`image (${format})`, tally);
      expect(tally.total).toBe(fuzzRuns(10_000));
      expect(tally.result).toBeGreaterThan(tally.total * 0.02);
      expect(tally.rejected).toBeGreaterThan(tally.total * 0.2);
    });
  }
});
