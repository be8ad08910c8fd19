import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataFile, resolveDataDir } from '../src/data/data-dir.js';
import { DataError } from '../src/errors.js';

describe('resolveDataDir', () => {
  const savedEnv = process.env['DYVE_DATA'];
  const savedCwd = process.cwd();
  afterEach(() => {
    if (savedEnv === undefined) delete process.env['DYVE_DATA'];
    else process.env['DYVE_DATA'] = savedEnv;
    process.chdir(savedCwd);
  });

  it('finds the shared data by default, holding the reference folders', () => {
    delete process.env['DYVE_DATA'];
    const dir = resolveDataDir();
    for (const sub of ['cifar10', 'caffe', 'imagenet-sample', 'squeezenet']) expect(existsSync(join(dir, sub))).toBe(true);
  });

  it('falls back to the folder beside the package root when the working directory is elsewhere', () => {
    delete process.env['DYVE_DATA'];
    const expected = resolveDataDir();
    process.chdir(mkdtempSync(join(tmpdir(), 'dyve-cwd-')));
    expect(resolveDataDir()).toBe(expected);
  });

  it('prefers an explicit path, then DYVE_DATA', () => {
    const other = mkdtempSync(join(tmpdir(), 'dyve-data-'));
    process.env['DYVE_DATA'] = other;
    expect(resolveDataDir()).toBe(resolve(other));
    const explicit = mkdtempSync(join(tmpdir(), 'dyve-data-'));
    expect(resolveDataDir(explicit)).toBe(resolve(explicit));
  });

  it('names the missing explicit or environment path', () => {
    const missing = join(tmpdir(), 'dyve-no-such-dir-1234');
    expect(() => resolveDataDir(missing)).toThrow(DataError);
    expect(() => resolveDataDir(missing)).toThrow(missing);
    process.env['DYVE_DATA'] = missing;
    expect(() => resolveDataDir()).toThrow(/DYVE_DATA/);
  });

  it('dataFile names a missing file', () => {
    expect(() => dataFile('cifar10/no_such.bin')).toThrow(/data file not found: .*no_such\.bin/);
    expect(dataFile('cifar10/test_batch.bin')).toMatch(/test_batch\.bin$/);
  });
});
