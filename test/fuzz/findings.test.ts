/**
 * What the fuzz suites found, kept as plain unit tests: each input class that escaped as a
 * non-DyveError (or loaded when it should not), reduced to one small case. The prototxt findings
 * (nesting depth, Object.prototype names, integer ranges) are in test/prototxt.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseProfile, validateProfile } from '../../src/effort/profile.js';
import { DyveError, ModelFormatError } from '../../src/errors.js';
import { decodeMeanBinaryproto } from '../../src/formats/caffe/binaryproto.js';
import { attachCaffemodelWeights, decodeCaffemodel } from '../../src/formats/caffe/caffemodel.js';
import { caffeType } from '../../src/formats/caffe/schema.js';
import { parseNetwork } from '../../src/formats/parse-network.js';
import { TINY_PROTOTXT } from './tiny-net.js';

const net = () => parseNetwork(TINY_PROTOTXT, 'tiny.prototxt', { kind: 'none' });

describe('fuzz findings: effort profiles', () => {
  // JSON.stringify, used to quote the offending value, recursed past the stack: a RangeError.
  it.each([
    ['format', (v: unknown) => ({ format: v, layers: {} })],
    ['spet.fraction', (v: unknown) => ({ layers: { conv1: { spet: { mode: 'exact', fraction: v } } } })],
    ['spet.mode', (v: unknown) => ({ layers: { conv1: { spet: { mode: v, fraction: 0.5 } } } })],
  ])('a value nested 100,000 deep in %s is a DyveError, not a stack overflow', (_, profile) => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => validateProfile(profile(deep), net())).toThrow(DyveError);
    expect(() => validateProfile(profile(deep), net())).toThrow(/nested too deep to print/);
  });

  it('a long value is quoted in part, not in full', () => {
    const text = JSON.stringify({ layers: { conv1: { sdss: { stride: Array.from({ length: 10_000 }, (_, i) => i), delta: 0 } } } });
    expect(() => parseProfile(text, net())).toThrow(/found \[0,1,2,.*\.\.\. \(\d+ characters\)$/);
  });
});

describe('fuzz findings: blobs', () => {
  const blob = caffeType('BlobProto');
  const encode = (o: Record<string, unknown>) => blob.encode(blob.fromObject(o)).finish();

  // Negative dims passed the count check in pairs (-2 x -3 = 6 values) and came out as a shape.
  it('a mean image with negative or zero dims is a ModelFormatError', () => {
    expect(() => decodeMeanBinaryproto(encode({ num: 1, channels: -1, height: -2, width: 2, data: [1, 2, 3, 4] }), 'mean.binaryproto'))
      .toThrow(new ModelFormatError('mean.binaryproto: dim 1 of its shape 1x-1x-2x2 is -1, not a count (truncated or corrupt file)'));
    expect(() => decodeMeanBinaryproto(encode({ shape: { dim: [1, 3, 0, 5] } }), 'mean.binaryproto'))
      .toThrow('a mean image must have shape 1xCxHxW (each at least 1), found 1x3x0x5');
  });

  it('a caffemodel blob with negative dims is a ModelFormatError naming the layer and blob', () => {
    const model = caffeType('NetParameter');
    const bytes = model.encode(model.fromObject({ layer: [{ name: 'conv1', blobs: [{ shape: { dim: [-3, -2, 3, 3] }, data: new Array(54).fill(0) }] }] })).finish();
    expect(() => attachCaffemodelWeights(net(), decodeCaffemodel(bytes, 'tiny.caffemodel')))
      .toThrow("tiny.caffemodel: layer 'conv1' blob 0: dim 0 of its shape -3x-2x3x3 is -3, not a count");
  });
});
