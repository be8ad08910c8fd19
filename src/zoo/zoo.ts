import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DyveError } from '../errors.js';
import { packageFile } from '../package-root.js';

/** Preprocessing as declared in a zoo entry (see models/README.md). */
export interface ZooPreprocess {
  readonly resize?: readonly [number, number];
  readonly crop?: number;
  readonly channels: 'rgb' | 'bgr';
  readonly mean?: readonly number[] | { readonly data: string };
  readonly scale?: number;
}

/** A file reference: shipped with the package (`path`, relative to the model folder) or in the data directory (`data`). */
export type ZooFile = { readonly path: string } | { readonly data: string };

/** One model of the zoo: models/<name>/model.json. */
export interface ZooEntry {
  readonly name: string;
  readonly title: string;
  readonly paper?: string;
  readonly notes?: string;
  readonly prototxt: ZooFile;
  readonly weights: {
    readonly format: 'caffemodel' | 'deep-compression';
    /** In the data directory; null when the weights are not available here. */
    readonly data: string | null;
    readonly url: string | null;
    readonly sha256: string | null;
  };
  readonly dataset: 'cifar10' | 'imagenet-sample';
  readonly preprocess: ZooPreprocess;
  /** The folder of the entry. */
  readonly folder: string;
}

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
    throw new DyveError(`no model '${name}' in the zoo (models: ${zooModelNames().join(', ')}); or give a .prototxt path`);
  }
  const entry = JSON.parse(readFileSync(file, 'utf8')) as Omit<ZooEntry, 'folder'>;
  return { ...entry, folder };
}

/** Absolute path of a zoo file reference. */
export function resolveZooFile(entry: ZooEntry, ref: ZooFile, dataDir: string): string {
  return 'path' in ref ? join(entry.folder, ref.path) : join(dataDir, ref.data);
}
