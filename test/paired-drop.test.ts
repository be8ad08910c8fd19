import { describe, expect, it } from 'vitest';
import { pairedDrop } from '../src/evaluation/paired-drop.js';

/** The standard error of a mean, computed the long way: the sample variance of the values over n. */
function standardError(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}

describe('the paired top-1 drop', () => {
  it('counts the images each run alone gets right, skips unscored ones, and gives the standard error of the per-image differences', () => {
    const dense = Int8Array.from([1, 1, 0, 0, 1, -1, 1, 1]);
    const dynamic = Int8Array.from([0, 1, 1, 0, 0, 1, 1, -1]);
    const d = pairedDrop(dense, dynamic)!;
    // Scored in both: images 0-4 and 6; differences 1, 0, -1, 0, 1, 0.
    expect(d).toMatchObject({ images: 6, lost: 2, gained: 1 });
    expect(d.dropPP).toBeCloseTo((100 * 1) / 6, 12);
    expect(d.standardErrorPP).toBeCloseTo(100 * standardError([1, 0, -1, 0, 1, 0]), 12);
  });

  it('is 0 +- 0 for identical runs and null when nothing is scored', () => {
    const same = Int8Array.from([1, 0, 1, 1]);
    expect(pairedDrop(same, same)).toEqual({ images: 4, lost: 0, gained: 0, dropPP: 0, standardErrorPP: 0 });
    expect(pairedDrop(Int8Array.from([-1, -1]), Int8Array.from([1, 0]))).toBeNull();
  });

  it('matches the long way on a large random pairing', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const dense = Int8Array.from({ length: 5000 }, () => (random() < 0.8 ? 1 : 0));
    const dynamic = dense.map((v) => (random() < 0.03 ? 1 - v : v));
    const d = pairedDrop(dense, dynamic)!;
    expect(d.standardErrorPP).toBeCloseTo(100 * standardError(Array.from(dense, (v, i) => v - dynamic[i])), 10);
    expect(d.lost + d.gained).toBeGreaterThan(100);
  });
});
