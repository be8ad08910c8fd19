import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDataDir } from '../../src/data/data-dir.js';

/** The real data directory (../shared/data or $DYVE_DATA): tests fail, not skip, without it. */
export const DATA = resolveDataDir();

export const CIFAR_PROTOTXT = join(DATA, 'caffe/cifar10_quick.prototxt');
export const CIFAR_CAFFEMODEL = join(DATA, 'caffe/cifar10_quick_iter_5000.caffemodel');
export const SQUEEZENET_PROTOTXT = join(DATA, 'squeezenet/SqueezeNet_deploy.prototxt');
export const SQUEEZENET_NET = join(DATA, 'squeezenet/compressed_SqueezeNet.net');

/** Writes `content` to a new temporary file and returns its path. */
export function tempFile(name: string, content: string | Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'dyve-test-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The text of a real file with a substitution applied (for malformed variants). */
export function editedText(path: string, from: string | RegExp, to: string): string {
  const text = readFileSync(path, 'utf8');
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`test setup: '${String(from)}' not found in ${path}`);
  return edited;
}
