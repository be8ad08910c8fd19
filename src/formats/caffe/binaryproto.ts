import { ModelFormatError } from '../../errors.js';
import type { Shape } from '../../ir/network.js';
import { decodeBlob } from './blob.js';
import { caffeType } from './schema.js';
import type { MessageObject } from './text-to-message.js';

/** A mean image as stored in a Caffe `mean.binaryproto`: CHW values in the file's channel order. */
export interface MeanImage {
  readonly image: Float32Array;
  readonly shape: Shape;
}

/** Decodes a BlobProto file holding a mean image (num 1, channels, height, width). */
export function decodeMeanBinaryproto(bytes: Uint8Array, fileName: string): MeanImage {
  const type = caffeType('BlobProto');
  let blob: MessageObject;
  try {
    blob = type.toObject(type.decode(bytes), { enums: String, longs: Number, arrays: true }) as MessageObject;
  } catch (err) {
    throw new ModelFormatError(`${fileName}: not a readable Caffe BlobProto (${(err as Error).message})`);
  }
  const { dims, data } = decodeBlob(blob, fileName);
  const d = dims.length === 4 ? dims : dims.length === 3 ? [1, ...dims] : undefined;
  // An empty mean (a zero dim) would pass here and fail later as a shape mismatch far from the file.
  if (!d || d[0] !== 1 || d.some((x) => x < 1)) {
    throw new ModelFormatError(`${fileName}: a mean image must have shape 1xCxHxW (each at least 1), found ${dims.join('x') || 'no shape'}`);
  }
  return { image: data, shape: { c: d[1], h: d[2], w: d[3] } };
}
