/**
 * Every failure a user can cause (a bad file, a wrong option) is a DyveError: its message says what
 * is wrong, where (file, line, layer, blob) and, where it can, how to fix it.
 */
export class DyveError extends Error {
  override readonly name: string = 'DyveError';
}

/** A model file (prototxt, caffemodel, binaryproto, .net) that cannot be read as declared. */
export class ModelFormatError extends DyveError {
  override readonly name = 'ModelFormatError';
}

/** A network the engine cannot build: unknown layer type, inconsistent shapes, missing blobs. */
export class NetworkError extends DyveError {
  override readonly name = 'NetworkError';
}

/** Input data (image, dataset file, preprocessing option) that does not fit the model. */
export class DataError extends DyveError {
  override readonly name = 'DataError';
}

/** A run whose outputs went non-finite (NaN or infinite): never scored as if they were predictions. */
export class NumericError extends DyveError {
  override readonly name = 'NumericError';
}

/** Wraps file-system errors so a missing file reads as a sentence, not a stack. */
export function describeFsError(path: string, what: string, err: unknown): DyveError {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return new DyveError(`${what} not found: ${path}`);
  if (code === 'EISDIR') return new DyveError(`${what} is a directory, expected a file: ${path}`);
  if (code === 'EACCES') return new DyveError(`${what} is not readable (permission denied): ${path}`);
  return new DyveError(`cannot read ${what} ${path}: ${(err as Error).message}`);
}
