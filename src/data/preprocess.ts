import { DataError } from '../errors.js';
import { formatShape, shapeSize, type Shape } from '../ir/network.js';
import type { RgbImage } from './image-decode.js';
import { resizeRgb } from './resize.js';

/** Mean subtracted from the input: one value per channel, or a per-pixel mean image. */
export type MeanSpec =
  | {
      /** One value per channel in the network's channel order (Caffe `mean_value`), or one for all. */
      readonly values: readonly number[];
    }
  | {
      /** CHW float32, channels in the network's input order (Caffe `mean_file`). */
      readonly image: Float32Array;
      readonly shape: Shape;
    };

/**
 * Caffe-style input preprocessing, declared per model. Applied in this order: resize the decoded
 * image, centre-crop, reorder channels into CHW float32, subtract the mean, multiply by `scale`
 * (Caffe's `(x - mean) * scale`).
 */
export interface Preprocess {
  /** Resize the decoded image to exactly this size first (antialiased bilinear, as Pillow). */
  readonly resize?: { readonly width: number; readonly height: number };
  /** Side of the centred square crop taken after the resize. */
  readonly crop?: number;
  /** Channel order the network expects: images decode as RGB; Caffe ImageNet models want BGR. */
  readonly channels: 'rgb' | 'bgr';
  readonly mean?: MeanSpec;
  readonly scale?: number;
}

/** Options of {@link toNetworkInput}. */
export interface NetworkInputOptions {
  /** Image name for error messages (a file name). */
  readonly name?: string;
  /** Write into this buffer (a batch) instead of allocating one. */
  readonly out?: Float32Array;
  /** Float offset in `out` where this image's CHW block starts. */
  readonly offset?: number;
}

function isPositiveInteger(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

/**
 * Checks a preprocessing declaration on its own (sizes positive integers, mean well formed, scale
 * finite), so a bad option fails before any image is read.
 *
 * @throws DataError saying which field is wrong.
 */
export function validatePreprocess(p: Preprocess): void {
  if (p.channels !== 'rgb' && p.channels !== 'bgr') {
    throw new DataError(`preprocessing channels must be 'rgb' or 'bgr', got '${String(p.channels)}'`);
  }
  if (p.resize && !(isPositiveInteger(p.resize.width) && isPositiveInteger(p.resize.height))) {
    throw new DataError(`resize must be positive integers, got ${p.resize.width}x${p.resize.height}`);
  }
  if (p.crop !== undefined && !isPositiveInteger(p.crop)) {
    throw new DataError(`crop must be a positive integer, got ${p.crop}`);
  }
  if (p.scale !== undefined && !Number.isFinite(p.scale)) {
    throw new DataError(`scale must be a finite number, got ${p.scale}`);
  }
  const mean = p.mean;
  if (!mean) return;
  if ('values' in mean) {
    if (mean.values.length !== 1 && mean.values.length !== 3) {
      throw new DataError(`mean needs 1 or 3 values (one per channel), got ${mean.values.length}: ${mean.values.join(', ')}`);
    }
    if (!mean.values.every(Number.isFinite)) throw new DataError(`mean values must be finite numbers: ${mean.values.join(', ')}`);
  } else {
    if (mean.shape.c !== 3) throw new DataError(`mean image has ${mean.shape.c} channels (${formatShape(mean.shape)}); images have 3`);
    if (mean.image.length !== shapeSize(mean.shape)) {
      throw new DataError(`mean image holds ${mean.image.length} values but its shape ${formatShape(mean.shape)} needs ${shapeSize(mean.shape)}`);
    }
  }
}

/** The CHW shape an image of `width` x `height` has after `p` (the resize, then the crop). */
export function preprocessedShape(width: number, height: number, p: Preprocess): Shape {
  const w = p.resize ? p.resize.width : width;
  const h = p.resize ? p.resize.height : height;
  return p.crop === undefined ? { c: 3, h, w } : { c: 3, h: p.crop, w: p.crop };
}

/**
 * Checks that an image of `width` x `height` becomes exactly `inputShape` under `p`.
 *
 * @throws DataError naming the image, the shape it would have and the one the network expects.
 */
export function checkInputShape(name: string, width: number, height: number, p: Preprocess, inputShape: Shape): void {
  const w = p.resize ? p.resize.width : width;
  const h = p.resize ? p.resize.height : height;
  if (p.crop !== undefined && (p.crop > w || p.crop > h)) {
    const resized = p.resize ? ` (after resize to ${w}x${h})` : '';
    throw new DataError(`image '${name}' is ${width}x${height}${resized}: smaller than the crop ${p.crop}x${p.crop}; declare a larger --resize`);
  }
  const got = preprocessedShape(width, height, p);
  if (got.c !== inputShape.c) {
    throw new DataError(
      `image '${name}' has 3 channels after preprocessing (${formatShape(got)}) but the network expects ` +
        `${formatShape(inputShape)}: only 3-channel (RGB/BGR) networks can take images`,
    );
  }
  if (got.h !== inputShape.h || got.w !== inputShape.w) {
    throw new DataError(
      `image '${name}' is ${width}x${height} (width x height), ${formatShape(got)} after preprocessing, ` +
        `but the network expects ${formatShape(inputShape)}: declare --resize/--crop`,
    );
  }
}

/**
 * Turns a decoded RGB image into one network input block: resize, centre crop (offset
 * floor((size - crop) / 2) per axis), CHW float32 in the declared channel order, minus the mean,
 * times the scale.
 *
 * A mean image may have the pre-crop size (it is cropped at the same offset) or the final size
 * (used as is).
 *
 * @returns the CHW block (`options.out` when given).
 * @throws DataError when the result would not match `inputShape`, the crop exceeds the image, or
 *   the mean image fits neither size.
 */
export function toNetworkInput(image: RgbImage, p: Preprocess, inputShape: Shape, options: NetworkInputOptions = {}): Float32Array {
  const name = options.name ?? 'image';
  validatePreprocess(p);
  checkInputShape(name, image.width, image.height, p, inputShape);

  const src = p.resize ? resizeRgb(image, p.resize.width, p.resize.height) : image;
  const H = inputShape.h;
  const W = inputShape.w;
  const oy = Math.floor((src.height - H) / 2);
  const ox = Math.floor((src.width - W) / 2);
  const plane = H * W;

  const offset = options.offset ?? 0;
  const out = options.out ?? new Float32Array(3 * plane);
  if (offset < 0 || offset + 3 * plane > out.length) {
    throw new RangeError(`output buffer of ${out.length} floats cannot hold ${3 * plane} at offset ${offset}`);
  }

  // Mean image addressing: row stride and origin within it (pre-crop size: same crop window).
  let meanImage: Float32Array | undefined;
  let meanW = 0;
  let meanPlane = 0;
  let meanOy = 0;
  let meanOx = 0;
  const meanValues = [0, 0, 0];
  const mean = p.mean;
  if (mean && 'values' in mean) {
    for (let c = 0; c < 3; c++) meanValues[c] = mean.values.length === 1 ? mean.values[0] : mean.values[c];
  } else if (mean) {
    const { h: mh, w: mw } = mean.shape;
    if (mh === src.height && mw === src.width) {
      meanOy = oy;
      meanOx = ox;
    } else if (mh !== H || mw !== W) {
      throw new DataError(
        `mean image is ${mw}x${mh} (width x height) but the image is ${src.width}x${src.height} before the crop ` +
          `and ${W}x${H} after it: the mean must have one of these sizes`,
      );
    }
    meanImage = mean.image;
    meanW = mw;
    meanPlane = mh * mw;
  }

  const scale = p.scale ?? 1;
  const rgb = src.rgb;
  const srcW = src.width;
  for (let c = 0; c < 3; c++) {
    const from = p.channels === 'bgr' ? 2 - c : c;
    const base = offset + c * plane;
    const mv = meanValues[c];
    for (let y = 0; y < H; y++) {
      let s = ((oy + y) * srcW + ox) * 3 + from;
      const d = base + y * W;
      if (meanImage) {
        const m = c * meanPlane + (meanOy + y) * meanW + meanOx;
        for (let x = 0; x < W; x++, s += 3) out[d + x] = (rgb[s] - meanImage[m + x]) * scale;
      } else {
        for (let x = 0; x < W; x++, s += 3) out[d + x] = (rgb[s] - mv) * scale;
      }
    }
  }
  return out;
}
