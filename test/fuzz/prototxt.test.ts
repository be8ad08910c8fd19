/**
 * Fuzz: mutated prototxt text through the whole text path (lexer, parser, schema check, IR build
 * with shape inference) ends in a network or a DyveError, never another exception.
 *
 * The seeds are the real prototxts, read at run time (the data directory's, the zoo's), so no text
 * derived from the shared data is committed here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/formats/parse-network.js';
import type { Network } from '../../src/ir/network.js';
import { packageFile } from '../../src/package-root.js';
import { DATA } from '../helpers/files.js';
import { applyTextEdits, fuzzParameters, fuzzRuns, OutcomeTally, report, runCase, textEdits } from './fuzz-kit.js';

const SEEDS = [
  join(DATA, 'caffe/cifar10_quick.prototxt'),
  join(DATA, 'caffe/cifar10_quick_train_test.prototxt'),
  join(DATA, 'squeezenet/SqueezeNet_deploy.prototxt'),
  ...['alexnet', 'alexnet-dc', 'overfeat', 'vgg16'].map((m) => packageFile(`models/${m}/deploy.prototxt`)),
].map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** Punctuation and fragments of the protobuf text format and of Caffe's schema. */
const TOKENS = [
  '{', '}', '<', '>', '[', ']', ':', ',', ';', '-', '"', "'", '#', '\n', '\\', '"\\x"', '"\\777"', '"\\q"', '"é\\xff"',
  'layer {', 'layers {', '} } } }', 'name: "x"', 'type: "Convolution"', 'type: "Pooling"', 'type: "InnerProduct"',
  'type: "Concat"', 'type: "Input"', 'bottom: "data"', 'top: "data"', 'top: "loss"', 'num_output:', 'kernel_size:',
  'stride:', 'pad:', 'group:', 'input_dim:', 'dim:', 'pool: MAX', 'include { phase: TRAIN }', 'exclude { phase: TEST }',
  'convolution_param {', 'pooling_param { global_pooling: true }', 'lrn_param {', 'local_size:', 'axis:',
  'input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }', 'blobs_lr: 1', 'weight_filler { type: "xavier" }', 'kernel_size: [3, 3]',
  'dropout_ratio:', 'bias_term: false', 'dilation:',
];

const WORDS = [
  'MAX', 'AVE', 'STOCHASTIC', 'TRAIN', 'TEST', 'CONVOLUTION', 'POOLING', 'true', 'false', 'inf', 'nan', 'constructor',
  '__proto__', 'toString', 'hasOwnProperty', 'layer', 'layers', 'name', 'type', 'num_output', 'kernel_size', 'stride',
  'pad', 'bottom', 'top', 'input', 'input_dim', 'input_shape', 'dim', 'group', 'bias_term', 'dilation', 'kernel_h',
  'kernel_w', 'stride_h', 'pad_w', 'pool', 'global_pooling', 'axis', 'engine', 'CUDNN', 'ACROSS_CHANNELS', 'WITHIN_CHANNEL',
];

/** A network that loads has a usable shape for every blob: whole, positive sizes (a kernel can allocate them). */
function checkShapes(net: Network): void {
  for (const [blob, shape] of net.blobShapes) {
    if (![shape.c, shape.h, shape.w].every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new Error(`loaded, but blob '${blob}' has shape ${JSON.stringify(shape)}`);
    }
  }
}

describe('fuzz: prototxt text', () => {
  it('10,000 mutated prototxts end in a network or a DyveError', () => {
    const tally = new OutcomeTally();
    const input = fc.record({ seed: fc.nat({ max: SEEDS.length - 1 }), edits: textEdits(TOKENS, WORDS) });
    fc.assert(
      fc.property(input, ({ seed, edits }) => {
        const text = applyTextEdits(SEEDS[seed].text, edits);
        runCase(tally, () => checkShapes(parseNetwork(text, SEEDS[seed].path, { kind: 'none' })),
          () => `${SEEDS[seed].path} ${JSON.stringify(edits)} (${text.length} chars)`);
      }),
      fuzzParameters(10_000, 1),
    );
    report('prototxt', tally);
    // The mutations must reach past the parser: some texts still build a network.
    expect(tally.total).toBe(fuzzRuns(10_000));
    expect(tally.result).toBeGreaterThan(tally.total * 0.02);
    expect(tally.rejected).toBeGreaterThan(tally.total * 0.2);
  });
});
