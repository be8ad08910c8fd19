/**
 * JPEG and PNG decoding in pure JavaScript (jpeg-js, fast-png): the same pixels in Node, Deno and
 * the browser, so a page predicts exactly what the CLI does on the same file.
 */
import jpeg from 'jpeg-js';
import { decode as decodePngData, type DecodedPng } from 'fast-png';
import { DataError, DyveError } from '../errors.js';
import { environmentVariable } from '../ir/memory-limit.js';

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

/**
 * The most pixels an image may declare, by default: 40 megapixels. It holds every ImageNet photo,
 * an 8K UHD frame (33 MP) and the output of most camera sensors, and bounds what decoding costs:
 * a 40 MP JPEG peaks at 1.45 GB of RSS in jpeg-js (a 64-value Int32Array object per 8x8 block of
 * each component, then lines, samples and RGB), a PNG less (fast-png holds the inflated rows, then
 * the samples). The networks read 227x227 or less, so a larger image brings nothing but its cost.
 * A header that claims more (a 100 KB JPEG can claim 65535x65535) is refused before decoding.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 40e6;

/** The environment variable (Node, Deno) that replaces DEFAULT_MAX_IMAGE_PIXELS, in megapixels. */
export const MAX_IMAGE_MEGAPIXELS_VARIABLE = 'DYVE_MAX_IMAGE_MEGAPIXELS';

/**
 * jpeg-js's own accounting, a second guard should a frame escape the header scan (jpeg-js resyncs
 * on bytes the scan stops at) or many frames add up: a 4-component (CMYK) image at the cap costs
 * 4 x (4 + 1 + 1) + 3 = 27 bytes a pixel by its count (coefficient blocks, component lines,
 * interleaved samples, RGB); 28, plus 64 MB for tables and the blocks that pad edges to whole MCUs.
 */
const JPEG_ACCOUNTED_BYTES_PER_PIXEL = 28;
const JPEG_ACCOUNTING_SLACK_MB = 64;

/**
 * A Huffman-coded JPEG spends at least one bit on the DC term of every 8x8 block of its
 * full-resolution component (codes are 1-16 bits long), so N bytes encode at most 512 N pixels.
 * A file claiming more is truncated or forged; jpeg-js would still allocate the whole frame (up to
 * 1.45 GB within the pixel cap) and fill it from a short scan. Arithmetic coding, which could do
 * better, jpeg-js does not decode at all.
 */
const JPEG_MAX_PIXELS_PER_BYTE = 64 * 8;

/** Options of {@link decodeImage}. */
export interface DecodeImageOptions {
  /**
   * The most pixels (width x height) the image may declare; default DYVE_MAX_IMAGE_MEGAPIXELS
   * (Node, Deno) in megapixels, else {@link DEFAULT_MAX_IMAGE_PIXELS}.
   */
  readonly maxPixels?: number;
}

/**
 * The pixel cap: the option, else DYVE_MAX_IMAGE_MEGAPIXELS, else 40 megapixels.
 *
 * @throws DyveError when the variable or the option is not a positive number.
 */
export function maxImagePixels(options: DecodeImageOptions = {}): number {
  if (options.maxPixels !== undefined) {
    if (!(options.maxPixels > 0)) throw new DyveError(`maxPixels must be a positive number, found ${options.maxPixels}`);
    return options.maxPixels;
  }
  const env = environmentVariable(MAX_IMAGE_MEGAPIXELS_VARIABLE);
  if (env === undefined || env.trim() === '') return DEFAULT_MAX_IMAGE_PIXELS;
  const mp = Number(env);
  if (!(mp > 0)) throw new DyveError(`${MAX_IMAGE_MEGAPIXELS_VARIABLE} takes a number of megapixels such as 100, found '${env}'`);
  return mp * 1e6;
}

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

/** A width and height an image's header declares. */
interface DeclaredSize {
  readonly width: number;
  readonly height: number;
}

/** JPEG markers that stand alone, without a length: TEM, RST0-7, SOI, EOI. */
function standaloneMarker(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

/** Start-of-frame markers SOF0-SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function frameMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Every frame size the header segments of a JPEG declare, read up to the first scan (SOS), after
 * which entropy-coded data follows; frames must come before it. Stops quietly at anything
 * malformed: the decoder reports that.
 */
function jpegDeclaredSizes(bytes: Uint8Array): DeclaredSize[] {
  const sizes: DeclaredSize[] = [];
  let at = 2;
  while (at + 1 < bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // a fill byte before the marker
      continue;
    }
    if (standaloneMarker(marker)) {
      if (marker === 0xd9) break;
      at += 2;
      continue;
    }
    if (at + 3 >= bytes.length) break;
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (frameMarker(marker) && at + 8 < bytes.length) {
      sizes.push({ height: (bytes[at + 5] << 8) | bytes[at + 6], width: (bytes[at + 7] << 8) | bytes[at + 8] });
    }
    if (marker === 0xda || length < 2) break;
    at += 2 + length;
  }
  return sizes;
}

/**
 * Every size an IHDR chunk of a PNG declares, walking the chunks by their lengths (IHDR must be
 * first, but a decoder that reads chunks in a loop would take a later one too).
 */
function pngDeclaredSizes(bytes: Uint8Array): DeclaredSize[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizes: DeclaredSize[] = [];
  for (let at = PNG_SIGNATURE.length; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (type === 'IHDR' && at + 16 <= bytes.length) sizes.push({ width: view.getUint32(at + 8), height: view.getUint32(at + 12) });
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return sizes;
}

/**
 * Refuses an image whose header declares more pixels than the cap, before its decoder allocates
 * for them.
 *
 * @throws DataError naming the file, its declared size and the cap.
 */
function checkDeclaredSize(format: ImageFormat, bytes: Uint8Array, name: string, maxPixels: number): void {
  const sizes = format === 'jpeg' ? jpegDeclaredSizes(bytes) : pngDeclaredSizes(bytes);
  for (const { width, height } of sizes) {
    if (width * height > maxPixels) {
      throw new DataError(
        `image ${name} declares ${width}x${height} pixels (${((width * height) / 1e6).toFixed(1)} megapixels), more than the ` +
        `${maxPixels / 1e6} megapixels an image may have: it is refused before decoding (set ${MAX_IMAGE_MEGAPIXELS_VARIABLE} to change the limit)`,
      );
    }
    if (format === 'jpeg' && width * height > bytes.length * JPEG_MAX_PIXELS_PER_BYTE) {
      throw notDecodable(name, `its header declares ${width}x${height} pixels, more than its ${bytes.length} bytes can encode (truncated or forged)`);
    }
  }
}

function decodeJpeg(bytes: Uint8Array, name: string, maxPixels: number): RgbImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    // jpeg-js only returns once it has read the EOI marker: a truncated file throws (running past
    // the end reads as marker 0 or "marker was not found"), which the tests check at many cut points.
    // Grayscale comes out replicated to R=G=B; Adobe CMYK/YCCK is converted to RGB.
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((maxPixels * JPEG_ACCOUNTED_BYTES_PER_PIXEL) / 2 ** 20) + JPEG_ACCOUNTING_SLACK_MB,
    });
  } catch (err) {
    const message = (err as Error).message;
    // The second guard (see JPEG_ACCOUNTED_BYTES_PER_PIXEL) tripped: a size problem, not corruption.
    if (/maxResolutionInMP|maxMemoryUsageInMB/.test(message)) {
      throw new DataError(`image ${name} needs more memory to decode than ${maxPixels / 1e6} megapixels may (jpeg-js: ${message}); set ${MAX_IMAGE_MEGAPIXELS_VARIABLE} to change the limit`);
    }
    throw notDecodable(name, `corrupt or truncated JPEG data (${message})`);
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
 * bytes. The size its header declares is checked against a cap first (see {@link maxImagePixels}):
 * a small file can declare billions of pixels.
 *
 * @param name the file name used in error messages.
 * @throws DataError naming the file when the bytes are not a decodable JPEG/PNG (unknown format,
 *   corrupt or truncated data), or when they declare more pixels than the cap.
 */
export function decodeImage(bytes: Uint8Array, name: string, options: DecodeImageOptions = {}): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format !== undefined) {
    const maxPixels = maxImagePixels(options);
    checkDeclaredSize(format, bytes, name, maxPixels);
    if (format === 'jpeg') return { ...decodeJpeg(bytes, name, maxPixels), format };
    return { ...decodePng(bytes, name), format };
  }
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw notDecodable(
    name,
    bytes.length === 0 ? 'the file is empty' : `it starts with bytes ${head}, neither a JPEG (ff d8 ff) nor a PNG signature`,
  );
}
