import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DyveError } from '../errors.js';
import { packageFile } from '../package-root.js';
import type { ZooEntry, ZooFile } from './zoo-entry.js';

export type { ZooEntry, ZooFile, ZooPreprocess } from './zoo-entry.js';

/** The zoo's folder (models/ in the package). */
export function zooFolder(): string {
  return packageFile('models');
}

/** Names of every model in the zoo. */
export function zooModelNames(): string[] {
  const dir = zooFolder();
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'model.json')))
    .map((d) => d.name)
    .sort();
}

/** Reads a zoo entry by name; throws a DyveError listing the zoo when there is no such model. */
export function zooEntry(name: string): ZooEntry {
  const folder = join(zooFolder(), name);
  const file = join(folder, 'model.json');
  if (!existsSync(file)) {
    throw new DyveError(`no model '${name}' in the zoo (models: ${zooModelNames().join(', ')}); or give a .prototxt or .onnx path`);
  }
  const entry = JSON.parse(readFileSync(file, 'utf8')) as Omit<ZooEntry, 'folder'>;
  return { ...entry, folder };
}

/** Absolute path of a zoo file reference. */
export function resolveZooFile(entry: ZooEntry, ref: ZooFile, dataDir: string): string {
  return 'path' in ref ? join(entry.folder, ref.path) : join(dataDir, ref.data);
}
