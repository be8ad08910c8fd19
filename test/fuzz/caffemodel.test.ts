/**
 * Fuzz: mutated caffemodel bytes (truncated, bit-flipped, with rewritten tags and length
 * prefixes) through protobuf decoding, blob checks and attachment to the network end in a loaded
 * network or a DyveError, never another exception.
 *
 * 10,000 cases mutate tiny caffemodels made here with the project's schema (current and V1
 * layouts); fewer mutate the real cifar10_quick caffemodel (583 KB, read at run time), whose
 * decoding costs a thousand times more per case.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWeighted, type Network } from '../../src/ir/network.js';
import { decodeMeanBinaryproto } from '../../src/formats/caffe/binaryproto.js';
import { attachCaffemodelWeights, decodeCaffemodel } from '../../src/formats/caffe/caffemodel.js';
import { caffeType } from '../../src/formats/caffe/schema.js';
import { parseNetwork } from '../../src/formats/parse-network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from '../helpers/files.js';
import {
  applyByteEdits, byteEdits, fuzzParameters, fuzzRuns, OutcomeTally, report, rewriteVarint, runCase, varintChange, wireVarints, type ByteEdit,
  type VarintChange, type WireVarint,
} from './fuzz-kit.js';
import { TINY_PROTOTXT, tinyCaffemodel } from './tiny-net.js';

interface Seed {
  readonly name: string;
  /** The network, parsed once: each case attaches weights to it afresh. */
  readonly net: Network;
  readonly bytes: Uint8Array;
  /** Tags and length prefixes of the valid file. */
  readonly sites: readonly WireVarint[];
}

function seed(name: string, prototxt: string, bytes: Uint8Array): Seed {
  const sites = wireVarints(bytes);
  if (!sites) throw new Error(`test setup: ${name} is not a well-formed protobuf message`);
  return { name, net: parseNetwork(prototxt, `${name}.prototxt`, { kind: 'none' }), bytes, sites };
}

/** A case: rewritten tags or lengths of the valid file, then byte edits; at least one of either. */
const mutation = fc.record({
  varints: fc.array(fc.record({ which: fc.nat(), change: varintChange }), { maxLength: 2 }),
  edits: byteEdits(3, 0),
}).filter(({ varints, edits }) => varints.length + edits.length > 0);

function mutate(s: Seed, varints: readonly { which: number; change: VarintChange }[], edits: readonly ByteEdit[]): Uint8Array {
  // Rewrite from the last site to the first, so earlier offsets stay valid as lengths change.
  const sites = [...new Set(varints.map((v) => v.which % s.sites.length))].sort((a, b) => b - a);
  let bytes = s.bytes;
  for (const i of sites) bytes = rewriteVarint(bytes, s.sites[i], varints.find((v) => v.which % s.sites.length === i)!.change);
  return applyByteEdits(bytes, edits, bytes.length);
}

/**
 * Decodes the mutated weights and attaches them to the seed's network, as parseNetwork does for a
 * caffemodel (the prototxt is parsed once, not per case: that would double the suite's time).
 * When it returns, every weighted layer must hold finite weights.
 */
function load(s: Seed, bytes: Uint8Array): void {
  const weighted = s.net.layers.filter(isWeighted);
  for (const layer of weighted) layer.weights = undefined;
  attachCaffemodelWeights(s.net, decodeCaffemodel(bytes, `${s.name}.caffemodel`));
  for (const layer of weighted) {
    const w = layer.weights;
    if (!w || ![w.weight, w.bias ?? []].every((a) => Array.prototype.every.call(a, Number.isFinite))) {
      throw new Error(`loaded, but layer '${layer.name}' has missing or non-finite weights`);
    }
  }
}

describe('fuzz: caffemodel bytes', () => {
  it('10,000 mutated tiny caffemodels (current and V1 layouts) end in a network or a DyveError', () => {
    const seeds = [seed('tiny-current', TINY_PROTOTXT, tinyCaffemodel('current')), seed('tiny-v1', TINY_PROTOTXT, tinyCaffemodel('v1'))];
    // The unmutated files load: the mutations start from valid input.
    for (const s of seeds) load(s, s.bytes);
    const tally = new OutcomeTally();
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), mutation, (i, { varints, edits }) => {
        const bytes = mutate(seeds[i], varints, edits);
        runCase(tally, () => load(seeds[i], bytes));
      }),
      fuzzParameters(10_000, 2),
    );
    report('caffemodel (tiny)', tally);
    expect(tally.total).toBe(fuzzRuns(10_000));
    expect(tally.result).toBeGreaterThan(tally.total * 0.02);
    expect(tally.rejected).toBeGreaterThan(tally.total * 0.2);
  });

  it('200 mutated copies of the real cifar10_quick caffemodel end in a network or a DyveError', () => {
    const s = seed('cifar10_quick', readFileSync(CIFAR_PROTOTXT, 'utf8'), new Uint8Array(readFileSync(CIFAR_CAFFEMODEL)));
    const tally = new OutcomeTally();
    fc.assert(
      fc.property(mutation, ({ varints, edits }) => {
        runCase(tally, () => load(s, mutate(s, varints, edits)));
      }),
      fuzzParameters(200, 3),
    );
    report('caffemodel (cifar10_quick)', tally);
    expect(tally.total).toBe(fuzzRuns(200));
  });

  it('3,000 mutated mean.binaryproto files (a tiny one, the real CIFAR-10 mean) end in a mean image or a DyveError', () => {
    const type = caffeType('BlobProto');
    const tiny = type.encode(type.fromObject({ num: 1, channels: 3, height: 2, width: 2, data: Array.from({ length: 12 }, (_, i) => i * 10.5) })).finish();
    const shaped = type.encode(type.fromObject({ shape: { dim: [1, 1, 3, 2] }, double_data: [1, 2, 3, 4, 5, 6] })).finish();
    const means = [tiny, shaped, new Uint8Array(readFileSync(join(DATA, 'cifar10/mean.binaryproto')))].map((bytes) => {
      const sites = wireVarints(bytes);
      if (!sites) throw new Error('test setup: a mean file is not a well-formed protobuf message');
      decodeMeanBinaryproto(bytes, 'mean.binaryproto');
      return { bytes, sites };
    });
    const tally = new OutcomeTally();
    fc.assert(
      fc.property(fc.nat({ max: means.length - 1 }), mutation, (i, { varints, edits }) => {
        const m = means[i];
        const sites = [...new Set(varints.map((v) => v.which % m.sites.length))].sort((a, b) => b - a);
        let bytes = m.bytes;
        for (const k of sites) bytes = rewriteVarint(bytes, m.sites[k], varints.find((v) => v.which % m.sites.length === k)!.change);
        bytes = applyByteEdits(bytes, edits, bytes.length);
        runCase(tally, () => {
          const { image, shape } = decodeMeanBinaryproto(bytes, 'mean.binaryproto');
          if (![shape.c, shape.h, shape.w].every((d) => Number.isInteger(d) && d > 0) || image.length !== shape.c * shape.h * shape.w) {
            throw new Error(`decoded to an inconsistent mean: ${JSON.stringify(shape)} with ${image.length} values`);
          }
        });
      }),
      fuzzParameters(3_000, 10),
    );
    report('mean.binaryproto', tally);
    expect(tally.total).toBe(fuzzRuns(3_000));
    expect(tally.result).toBeGreaterThan(tally.total * 0.02);
  });
});
