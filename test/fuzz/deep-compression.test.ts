/**
 * Fuzz: mutated Deep Compression `.net` bytes (entry counts, codebooks, codes, gaps; truncated,
 * extended, bit-flipped) through decoding and attachment end in a loaded network or a DyveError.
 *
 * 10,000 cases mutate a tiny `.net` made here for the tiny test network; fewer mutate the real
 * SqueezeNet file (676 KB, read at run time).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attachDeepCompressionWeights } from '../../src/formats/deep-compression.js';
import { parseNetwork } from '../../src/formats/parse-network.js';
import { isWeighted, type Network } from '../../src/ir/network.js';
import { SQUEEZENET_NET, SQUEEZENET_PROTOTXT } from '../helpers/files.js';
import { applyByteEdits, byteEdits, fuzzParameters, fuzzRuns, NASTY_U32, OutcomeTally, report, runCase, type ByteEdit } from './fuzz-kit.js';
import { TINY_PROTOTXT, tinyDeepCompression } from './tiny-net.js';

interface Seed {
  readonly name: string;
  /** The network, parsed once: each case attaches weights to it afresh. */
  readonly net: Network;
  readonly bytes: Uint8Array;
  /** Bytes of the per-layer entry counts at the start of the file. */
  readonly headerBytes: number;
}

function seed(name: string, prototxt: string, bytes: Uint8Array): Seed {
  const net = parseNetwork(prototxt, `${name}.prototxt`, { kind: 'none' });
  const weighted = net.layers.filter((l) => (l.params.type === 'Convolution' || l.params.type === 'InnerProduct') && /conv|fc|ip/.test(l.name));
  return { name, net, bytes, headerBytes: 4 * weighted.length };
}

/** A case: rewritten entry counts (the header), then byte edits anywhere; at least one of either. */
const mutation = fc.record({
  counts: fc.array(fc.record({ layer: fc.nat(), value: fc.oneof(fc.constantFrom(...NASTY_U32), fc.integer({ min: -3, max: 3 }).map((d) => ({ delta: d }))) }), { maxLength: 2 }),
  edits: byteEdits(3, 0),
}).filter(({ counts, edits }) => counts.length + edits.length > 0);

function mutate(s: Seed, counts: readonly { layer: number; value: number | { delta: number } }[], edits: readonly ByteEdit[]): Uint8Array {
  const bytes = Uint8Array.from(s.bytes);
  const view = new DataView(bytes.buffer);
  for (const c of counts) {
    const at = 4 * (c.layer % (s.headerBytes / 4));
    const value = typeof c.value === 'number' ? c.value : view.getUint32(at, true) + c.value.delta;
    view.setUint32(at, value >>> 0, true);
  }
  return applyByteEdits(bytes, edits, s.headerBytes);
}

/** Attaches the mutated weights, as parseNetwork does; when it returns, every weighted layer must hold finite weights. */
function load(s: Seed, bytes: Uint8Array): void {
  const weighted = s.net.layers.filter(isWeighted);
  for (const layer of weighted) layer.weights = undefined;
  attachDeepCompressionWeights(s.net, bytes, `${s.name}.net`);
  for (const layer of weighted) {
    const w = layer.weights;
    if (!w || ![w.weight, w.bias ?? []].every((a) => Array.prototype.every.call(a, Number.isFinite))) {
      throw new Error(`loaded, but layer '${layer.name}' has missing or non-finite weights`);
    }
  }
}

describe('fuzz: Deep Compression .net bytes', () => {
  it('10,000 mutated tiny .net files end in a network or a DyveError', () => {
    const seeds = [1, 2, 5].map((stride) => seed(`tiny-stride${stride}`, TINY_PROTOTXT, tinyDeepCompression(stride)));
    for (const s of seeds) load(s, s.bytes);
    const tally = new OutcomeTally();
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), mutation, (i, { counts, edits }) => {
        const bytes = mutate(seeds[i], counts, edits);
        runCase(tally, () => load(seeds[i], bytes));
      }),
      fuzzParameters(10_000, 4),
    );
    report('deep compression (tiny)', tally);
    expect(tally.total).toBe(fuzzRuns(10_000));
    expect(tally.result).toBeGreaterThan(tally.total * 0.02);
    expect(tally.rejected).toBeGreaterThan(tally.total * 0.2);
  });

  it('100 mutated copies of the real SqueezeNet .net end in a network or a DyveError', () => {
    const s = seed('squeezenet', readFileSync(SQUEEZENET_PROTOTXT, 'utf8'), new Uint8Array(readFileSync(SQUEEZENET_NET)));
    const tally = new OutcomeTally();
    fc.assert(
      fc.property(mutation, ({ counts, edits }) => {
        runCase(tally, () => load(s, mutate(s, counts, edits)));
      }),
      fuzzParameters(100, 5),
    );
    report('deep compression (squeezenet)', tally);
    expect(tally.total).toBe(fuzzRuns(100));
  });
});
