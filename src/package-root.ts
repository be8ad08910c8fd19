import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The folder holding dyvedeep's package.json. Files shipped with the package (the Caffe schema,
 * the model zoo, shaders) are found from here, whether the code runs from src/ (tests) or dist/.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('dyvedeep: cannot find the package root (package.json + models/)');
    dir = parent;
  }
}

/** Absolute path of a file shipped with the package, given relative to the package root. */
export function packageFile(relative: string): string {
  return join(packageRoot(), relative);
}
