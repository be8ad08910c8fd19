/**
 * The paths a command will write, checked before it runs: a typo in `--json` must fail in a
 * second, not after an hour-long run whose results are then lost.
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DyveError } from '../src/errors.js';
import type { FlagValues } from './flags.js';

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that `path` can be written as a file before a command runs: not empty, not a directory,
 * writable if it exists, else in an existing, writable folder.
 *
 * @param flag the flag that named it, with its dashes (`--json`), for the message.
 * @throws DyveError naming the flag and the path.
 */
export function checkOutputFile(flag: string, path: string): void {
  if (path === '') throw new DyveError(`${flag} needs a file path, found ''`);
  const target = statOrNull(path);
  if (target?.isDirectory()) throw new DyveError(`${flag} ${path} is a directory: give a file path inside it`);
  if (target) {
    if (!writable(path)) throw new DyveError(`${flag} ${path} is not writable (permission denied)`);
    return;
  }
  const parent = dirname(resolve(path));
  const folder = statOrNull(parent);
  if (!folder) throw new DyveError(`${flag} ${path}: the folder ${parent} does not exist (create it first)`);
  if (!folder.isDirectory()) throw new DyveError(`${flag} ${path}: ${parent} is not a folder`);
  if (!writable(parent)) throw new DyveError(`${flag} ${path}: the folder ${parent} is not writable (permission denied)`);
}

/**
 * Checks that `dir` is, or can be created as (`mkdir -p`), a writable folder, and that none of
 * `files` (names inside it) is a directory or a read-only file.
 *
 * @throws DyveError naming the flag and the path.
 */
export function checkOutputDir(flag: string, dir: string, files: readonly string[] = []): void {
  if (dir === '') throw new DyveError(`${flag} needs a folder path, found ''`);
  let path = resolve(dir);
  let stats = statOrNull(path);
  if (stats && !stats.isDirectory()) throw new DyveError(`${flag} ${dir} is a file, not a folder`);
  // The nearest existing ancestor is where mkdir -p starts writing.
  while (!stats) {
    const parent = dirname(path);
    if (parent === path) break;
    path = parent;
    stats = statOrNull(path);
    if (stats && !stats.isDirectory()) throw new DyveError(`${flag} ${dir}: ${path} is a file, not a folder`);
  }
  if (!writable(path)) throw new DyveError(`${flag} ${dir}: the folder ${path} is not writable (permission denied)`);
  for (const file of files) {
    const target = join(dir, file);
    const stats = statOrNull(target);
    if (stats?.isDirectory()) throw new DyveError(`${flag} ${dir}: ${target} is a directory, where a file is written`);
    if (stats && !writable(target)) throw new DyveError(`${flag} ${dir}: ${target} is not writable (permission denied)`);
  }
}

/** Checks every output file flag that is given (a string); see {@link checkOutputFile}. */
export function checkOutputFiles(values: FlagValues, keys: readonly string[]): void {
  for (const key of keys) {
    const v = values[key];
    if (typeof v === 'string') checkOutputFile(`--${key}`, v);
  }
}
