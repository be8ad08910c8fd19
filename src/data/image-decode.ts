/**
 * JPEG and PNG decoding in pure JavaScript (jpeg-js, fast-png): the same pixels in Node, Deno and
 * the browser, so a page predicts exactly what the CLI does on the same file.
 */
import jpeg from 'jpeg-js';
import { decode as decodePngData, type DecodedPng } from 'fast-png';
import { DataError } from '../errors.js';

/** An 8-bit image, pixels row-major, channels interleaved R,G,B. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width x height x 3 bytes. */
  readonly rgb: Uint8Array;
}

/** The container formats the engine reads. */
export type ImageFormat = 'jpeg' | 'png';

/** A decoded image with the format its bytes turned out to be. */
export interface DecodedImage extends RgbImage {
  readonly format: ImageFormat;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// jpeg-js caps memory at 512 MB by default and counts ~4 bytes per pixel per component for its
// coefficient blocks alone, so large camera photos would be refused; these caps still stop a
// hostile header from asking for gigabytes.
const JPEG_MAX_MEGAPIXELS = 250;
const JPEG_MAX_MEMORY_MB = 4096;

/**
 * The format of an image from its first bytes (the extension is not trusted: some ImageNet
 * `.JPEG` files are PNGs).
 *
 * @returns `undefined` when the bytes start with neither the JPEG SOI nor the PNG signature.
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= PNG_SIGNATURE.length && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  return undefined;
}

function notDecodable(name: string, reason: string): DataError {
  return new DataError(`image ${name} is not a decodable JPEG/PNG: ${reason}`);
}

function decodeJpeg(bytes: Uint8Array, name: string): RgbImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    // jpeg-js only returns once it has read the EOI marker: a truncated file throws (running past
    // the end reads as marker 0 or "marker was not found"), which the tests check at many cut points.
    // Grayscale comes out replicated to R=G=B; Adobe CMYK/YCCK is converted to RGB.
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: JPEG_MAX_MEGAPIXELS,
      maxMemoryUsageInMB: JPEG_MAX_MEMORY_MB,
    });
  } catch (err) {
    throw notDecodable(name, `corrupt or truncated JPEG data (${(err as Error).message})`);
  }
  const { width, height, data } = decoded;
  if (!(width > 0 && height > 0) || data.length !== width * height * 3) {
    throw notDecodable(name, `JPEG decoded to ${data.length} bytes for ${width}x${height} pixels`);
  }
  return { width, height, rgb: data };
}

/** Sample `i` (x * channels + c) of row `row`, whatever the bit depth (1, 2 and 4 are packed MSB first, rows byte-aligned). */
function pngSampler(png: DecodedPng): (row: number, i: number) => number {
  const { data, depth, width, channels } = png;
  if (depth >= 8) {
    const perRow = width * channels;
    return (row, i) => data[row * perRow + i];
  }
  const bytesPerRow = Math.ceil((depth * channels * width) / 8);
  const mask = (1 << depth) - 1;
  return (row, i) => {
    const bit = i * depth;
    return (data[row * bytesPerRow + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
  };
}

function decodePng(bytes: Uint8Array, name: string): RgbImage {
  let png: DecodedPng;
  try {
    png = decodePngData(bytes);
  } catch (err) {
    throw notDecodable(name, `corrupt or truncated PNG data (${(err as Error).message})`);
  }
  const { width, height, depth, channels, palette } = png;
  if (!(width > 0 && height > 0)) throw notDecodable(name, `PNG declares ${width}x${height} pixels`);
  const sample = pngSampler(png);
  const max = 2 ** depth - 1;
  // Samples are scaled to 8 bits with rounding (as libpng's and pngjs's normalisers do); alpha is
  // dropped, not composited, as OpenCV's imread(IMREAD_COLOR) and Pillow's convert('RGB') do.
  const to8 = depth === 8 ? (v: number) => v : (v: number) => Math.floor((v * 255) / max + 0.5);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 3) {
      if (palette) {
        const colour = palette[sample(y, x)];
        if (!colour) throw notDecodable(name, `pixel (${x}, ${y}) indexes past the palette`);
        rgb[o] = colour[0];
        rgb[o + 1] = colour[1];
        rgb[o + 2] = colour[2];
      } else if (channels >= 3) {
        for (let c = 0; c < 3; c++) rgb[o + c] = to8(sample(y, x * channels + c));
      } else {
        rgb[o] = rgb[o + 1] = rgb[o + 2] = to8(sample(y, x * channels));
      }
    }
  }
  return { width, height, rgb };
}

/**
 * Decodes a JPEG or PNG image held in memory to interleaved RGB, choosing the decoder by the magic
 * bytes.
 *
 * @param name the file name used in error messages.
 * @throws DataError naming the file when the bytes are not a decodable JPEG/PNG (unknown format,
 *   corrupt or truncated data).
 */
export function decodeImage(bytes: Uint8Array, name: string): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format === 'jpeg') return { ...decodeJpeg(bytes, name), format };
  if (format === 'png') return { ...decodePng(bytes, name), format };
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw notDecodable(
    name,
    bytes.length === 0 ? 'the file is empty' : `it starts with bytes ${head}, neither a JPEG (ff d8 ff) nor a PNG signature`,
  );
}
