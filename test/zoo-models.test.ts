/**
 * The zoo entries (models/<name>/model.json) are well formed, point at files that exist, and
 * the data-directory weights they name have the declared sha256.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DATA } from './helpers/files.js';

const MODELS = fileURLToPath(new URL('../models/', import.meta.url));

const NAMES = readdirSync(MODELS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const entry = (name: string): any => JSON.parse(readFileSync(join(MODELS, name, 'model.json'), 'utf8'));

const KEYS = ['name', 'title', 'paper', 'notes', 'prototxt', 'weights', 'dataset', 'preprocess'];

describe('model zoo entries', () => {
  it('has the six models', () => {
    expect(NAMES).toEqual(['alexnet', 'alexnet-dc', 'cifar10-quick', 'overfeat', 'squeezenet-dc', 'vgg16']);
  });

  it.each(NAMES)('%s/model.json follows the schema of models/README.md', (name) => {
    const e = entry(name);
    for (const key of Object.keys(e)) expect(KEYS, `unknown key ${key}`).toContain(key);
    expect(e.name).toBe(name);
    expect(typeof e.title).toBe('string');
    expect(typeof e.paper).toBe('string');

    const p = e.prototxt;
    expect(Object.keys(p)).toHaveLength(1);
    const prototxt = 'path' in p ? join(MODELS, name, p.path) : join(DATA, p.data);
    expect(existsSync(prototxt), prototxt).toBe(true);

    const w = e.weights;
    expect(Object.keys(w).sort()).toEqual(['data', 'format', 'sha256', 'url']);
    expect(['caffemodel', 'deep-compression']).toContain(w.format);
    if (w.url !== null) expect(w.url).toMatch(/^https?:\/\/\S+$/);
    if (w.sha256 !== null) expect(w.sha256).toMatch(/^[0-9a-f]{64}$/);
    if (w.data !== null) expect(w.sha256, 'weights in the data directory carry their sha256').not.toBeNull();

    expect(['cifar10', 'imagenet-sample']).toContain(e.dataset);

    const pre = e.preprocess;
    for (const key of Object.keys(pre)) expect(['resize', 'crop', 'channels', 'mean', 'scale']).toContain(key);
    expect(['rgb', 'bgr']).toContain(pre.channels);
    if (pre.resize !== undefined) {
      expect(pre.resize).toHaveLength(2);
      for (const v of pre.resize) expect(Number.isInteger(v) && v > 0).toBe(true);
    }
    if (pre.crop !== undefined) expect(Number.isInteger(pre.crop) && pre.crop > 0).toBe(true);
    if (pre.crop !== undefined && pre.resize !== undefined) expect(pre.crop).toBeLessThanOrEqual(Math.min(...pre.resize));
    if (Array.isArray(pre.mean)) {
      expect(pre.mean).toHaveLength(3);
      for (const v of pre.mean) expect(Number.isFinite(v)).toBe(true);
    } else if (pre.mean !== undefined) {
      expect(existsSync(join(DATA, pre.mean.data))).toBe(true);
    }
    if (pre.scale !== undefined) expect(Number.isFinite(pre.scale) && pre.scale > 0).toBe(true);
  });

  it.each(NAMES)('%s: the crop (or the record size) is the prototxt input size', (name) => {
    const e = entry(name);
    const file = 'path' in e.prototxt ? join(MODELS, name, e.prototxt.path) : join(DATA, e.prototxt.data);
    const header = readFileSync(file, 'utf8').replace(/#.*$/gm, '').split(/^\s*layers?\s*\{/m)[0];
    const dims = [...header.matchAll(/\b(?:input_dim|dim)\s*:\s*(\d+)/g)].map((m) => Number(m[1]));
    const side = e.preprocess.crop ?? (e.dataset === 'cifar10' ? 32 : undefined);
    expect(dims).toEqual([1, 3, side, side]);
  });

  it.each(NAMES.filter((n) => entry(n).weights.data !== null))('%s: the data-directory weights match their sha256', (name) => {
    const w = entry(name).weights;
    const hash = createHash('sha256').update(readFileSync(join(DATA, w.data))).digest('hex');
    expect(hash).toBe(w.sha256);
  });
});
