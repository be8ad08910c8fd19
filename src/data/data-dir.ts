import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { packageRoot } from '../package-root.js';

/** Relative location of the shared reference data, seen from the project root. */
const DEFAULT_RELATIVE = '../shared/data';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The folder holding the reference data (models, CIFAR-10, the ImageNet sample).
 *
 * In order: `explicit` (a `--data DIR` flag), else `$DYVE_DATA`, else `../shared/data` resolved
 * against the current directory and then against the package root (so tests and the CLI find it
 * from any working directory inside the checkout). An explicit or environment path that is not a
 * directory is an error rather than a silent fallback.
 *
 * @returns the absolute path of the data directory.
 * @throws DataError naming every path tried when none is a directory.
 */
export function resolveDataDir(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') {
    const dir = resolve(explicit);
    if (!isDirectory(dir)) throw new DataError(`data directory not found: ${dir} (given as --data ${explicit})`);
    return dir;
  }
  const env = process.env['DYVE_DATA'];
  if (env !== undefined && env !== '') {
    const dir = resolve(env);
    if (!isDirectory(dir)) throw new DataError(`data directory not found: ${dir} (from the environment variable DYVE_DATA)`);
    return dir;
  }
  const tried: string[] = [resolve(process.cwd(), DEFAULT_RELATIVE)];
  try {
    const besideRoot = resolve(packageRoot(), DEFAULT_RELATIVE);
    if (besideRoot !== tried[0]) tried.push(besideRoot);
  } catch {
    // No package root (e.g. a bundled copy): the working-directory candidate is all there is.
  }
  for (const dir of tried) if (isDirectory(dir)) return dir;
  throw new DataError(
    `data directory not found; tried ${tried.join(' and ')}. ` +
      `Pass --data DIR or set DYVE_DATA to the folder holding cifar10/, caffe/, imagenet-sample/`,
  );
}

/** Absolute path of a file inside the data directory (`dataFile('cifar10/test_batch.bin')`). */
export function dataFile(relative: string, dataDir: string = resolveDataDir()): string {
  const path = join(dataDir, relative);
  if (!existsSync(path)) throw new DataError(`data file not found: ${path}`);
  return path;
}
