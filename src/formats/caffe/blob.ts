import { ModelFormatError } from '../../errors.js';
import type { MessageObject } from './text-to-message.js';

/** A decoded BlobProto: its values and its dims (BlobShape, or the legacy num/channels/height/width). */
export interface DecodedBlob {
  readonly dims: number[];
  readonly data: Float32Array;
}

/** Reads a BlobProto object (as decoded by protobufjs `toObject`), checking data against shape. */
export function decodeBlob(blob: MessageObject, where: string): DecodedBlob {
  const shape = blob.shape as MessageObject | undefined;
  let dims: number[];
  if (shape) {
    dims = ((shape.dim as number[] | undefined) ?? []).map(Number);
  } else {
    dims = [blob.num, blob.channels, blob.height, blob.width].map((v) => Number(v ?? 0));
    // Legacy blobs omit leading dims of 1 in practice (e.g. a bias stored as 1x1x1x64).
    if (dims.every((d) => d === 0)) dims = [];
  }
  // A dim is a count: a negative one (int64 in BlobShape, int32 in the legacy fields) would pass
  // the count check in pairs (-2 x -3 = 6) and reach an allocation as a negative length.
  const bad = dims.findIndex((d) => !Number.isSafeInteger(d) || d < 0);
  if (bad >= 0) {
    throw new ModelFormatError(`${where}: dim ${bad} of its shape ${dims.join('x')} is ${dims[bad]}, not a count (truncated or corrupt file)`);
  }
  const raw = (blob.data as number[] | undefined) ?? [];
  const doubles = (blob.double_data as number[] | undefined) ?? [];
  const values = raw.length > 0 ? raw : doubles;
  const expected = dims.reduce((a, b) => a * b, 1);
  if (dims.length === 0 && values.length > 0) dims = [values.length];
  else if (values.length !== expected) {
    throw new ModelFormatError(`${where}: holds ${values.length} values but its shape ${dims.join('x')} needs ${expected} (truncated or corrupt file)`);
  }
  return { dims, data: Float32Array.from(values) };
}

/** Dims without leading 1s, so a legacy 1x1x64x1024 blob compares equal to 64x1024. */
export function canonicalDims(dims: readonly number[]): number[] {
  let i = 0;
  while (i < dims.length - 1 && dims[i] === 1) i++;
  return dims.slice(i);
}
