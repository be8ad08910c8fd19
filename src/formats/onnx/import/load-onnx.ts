/**
 * Loads an ONNX model from a file (Node, Deno): the model's bytes, and its external-data files,
 * which must lie in the model's folder or below it.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { describeFsError, ModelFormatError } from '../../../errors.js';
import type { Network } from '../../../ir/network.js';
import { readBytes } from '../../../read-file.js';
import { parseOnnxNetwork } from './import-onnx.js';
import type { ExternalDataReader } from './onnx-tensor.js';

/** Options of {@link loadOnnxNetwork}. */
export interface LoadOnnxOptions {
  /** Receives informational lines (nodes skipped); default: console.warn. */
  readonly notice?: (line: string) => void;
  /** Fold Scales into the layer before them (see parseOnnxNetwork); default true. */
  readonly foldScales?: boolean;
}

/** Whether `path` is `folder` or inside it. */
function inside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * A reader of external-data files relative to `folder`. A location that leaves the folder (an
 * absolute path, `..`, or a symbolic link pointing out) is refused: a model file must not make the
 * loader read arbitrary files.
 */
export function externalDataReader(modelPath: string): ExternalDataReader {
  const folder = dirname(resolve(modelPath));
  const files = new Map<string, Uint8Array>();
  return (location: string) => {
    const refuse = (): ModelFormatError => new ModelFormatError(
      `${modelPath}: external data location '${location}' is outside the model's folder ${folder}: external-data files must lie beside the model or below it`);
    if (isAbsolute(location) || location.includes('\0')) throw refuse();
    const path = resolve(folder, location);
    if (!inside(folder, path)) throw refuse();
    let bytes = files.get(path);
    if (!bytes) {
      try {
        // Symbolic links are followed: their target must stay in the folder too.
        if (!inside(realpathSync(folder), realpathSync(path))) throw refuse();
        bytes = readFileSync(path);
      } catch (err) {
        if (err instanceof ModelFormatError) throw err;
        throw describeFsError(path, `external data file of ${modelPath}`, err);
      }
      files.set(path, bytes);
    }
    return bytes;
  };
}

/**
 * Loads an ONNX model file with its weights (initializers, external data files beside it) as an
 * IR network; see parseOnnxNetwork for what is supported and the errors.
 */
export async function loadOnnxNetwork(path: string, options: LoadOnnxOptions = {}): Promise<Network> {
  const bytes = await readBytes(path, 'ONNX model');
  return parseOnnxNetwork(bytes, path, { readExternal: externalDataReader(path), notice: options.notice, foldScales: options.foldScales });
}
