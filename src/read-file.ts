/** The file-system edge (Node, Deno): every reader of the library goes through these two. */
import { readFile } from 'node:fs/promises';
import { describeFsError } from './errors.js';

/**
 * The bytes of a file.
 *
 * @param what what the file is, for the error (`weights file`, `image file`, ...).
 * @throws DyveError naming the file and the reason (not found, a directory, permission denied).
 */
export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw describeFsError(path, what, err);
  }
}

/** The text of a UTF-8 file; throws as {@link readBytes}. */
export async function readText(path: string, what: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(path, what));
}
