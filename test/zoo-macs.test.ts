/**
 * Independent MAC count of the zoo networks (test/independent-macs.ts): checks the hand
 * tables against Caffe's size rules, the expected totals, and the layer parameters of the
 * prototxts (read with a few regular expressions, not with the project's parser or shape
 * inference, so that a bug there cannot hide here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DATA } from './helpers/files.js';
import {
  ALEXNET_DC_MACS,
  ALEXNET_MACS,
  CIFAR10_QUICK_MACS,
  INDEPENDENT_MACS,
  INDEPENDENT_NETS,
  OVERFEAT_MACS,
  SQUEEZENET_DC_MACS,
  VGG16_MACS,
  perLayerMacs,
  type ConvRow,
  type IndependentNet,
  type Row,
} from './independent-macs.js';

const MODELS = fileURLToPath(new URL('../models/', import.meta.url));

/** Where each network's deploy prototxt lives. */
const PROTOTXT: Record<string, string> = {
  alexnet: join(MODELS, 'alexnet/deploy.prototxt'),
  'alexnet-dc': join(MODELS, 'alexnet-dc/deploy.prototxt'),
  vgg16: join(MODELS, 'vgg16/deploy.prototxt'),
  overfeat: join(MODELS, 'overfeat/deploy.prototxt'),
  'squeezenet-dc': join(DATA, 'squeezenet/SqueezeNet_deploy.prototxt'),
  'cifar10-quick': join(DATA, 'caffe/cifar10_quick.prototxt'),
};

interface PlainLayer {
  name: string;
  kind: 'conv' | 'fc' | 'pool' | 'other';
  numOutput?: number;
  kernel?: number;
  stride: number;
  pad: number;
  group: number;
}

/**
 * A deliberately plain prototxt reading: strip comments, cut the text at each top-level
 * `layer {` / `layers {`, and pick the first value of a few fields in each piece.
 */
function plainRead(text: string): { inputDims: number[]; layers: PlainLayer[] } {
  const src = text.replace(/#.*$/gm, '');
  const starts = [...src.matchAll(/^\s*layers?\s*\{/gm)].map((m) => m.index!);
  const header = src.slice(0, starts[0] ?? src.length);
  const inputDims = [...header.matchAll(/\b(?:input_dim|dim)\s*:\s*(\d+)/g)].map((m) => Number(m[1]));
  const layers = starts.map((start, i) => {
    const block = src.slice(start, starts[i + 1] ?? src.length);
    const num = (key: string): number | undefined => {
      const m = block.match(new RegExp(`\\b${key}\\s*:\\s*(\\d+)`));
      return m ? Number(m[1]) : undefined;
    };
    const type = block.match(/\btype\s*:\s*"?(\w+)"?/)?.[1] ?? '';
    const kind = /^conv/i.test(type) ? 'conv' : /^inner/i.test(type) ? 'fc' : /^pool/i.test(type) ? 'pool' : 'other';
    return {
      name: block.match(/\bname\s*:\s*"([^"]+)"/)?.[1] ?? '',
      kind,
      numOutput: num('num_output'),
      kernel: num('kernel_size'),
      stride: num('stride') ?? 1,
      pad: num('pad') ?? 0,
      group: num('group') ?? 1,
    } satisfies PlainLayer;
  });
  return { inputDims, layers };
}

const convOut = (inSize: number, k: number, s: number, p: number) => Math.floor((inSize + 2 * p - k) / s) + 1;
const poolOut = (inSize: number, k: number, s: number) => Math.ceil((inSize - k) / s) + 1;

const NAMES = Object.keys(INDEPENDENT_NETS);

describe('independent MAC tables', () => {
  it('covers the six zoo networks', () => {
    expect(NAMES.sort()).toEqual(['alexnet', 'alexnet-dc', 'cifar10-quick', 'overfeat', 'squeezenet-dc', 'vgg16']);
  });

  it.each(NAMES)('%s: every map size follows Caffe rules (conv floor, pooling ceil)', (name) => {
    for (const row of INDEPENDENT_NETS[name].rows) {
      if (row.kind === 'conv') {
        expect(convOut(row.inSize, row.k, row.stride, row.pad), row.name).toBe(row.outSize);
        expect(row.inC % row.group, row.name).toBe(0);
        expect(row.outC % row.group, row.name).toBe(0);
      } else if (row.kind === 'pool') {
        expect(poolOut(row.inSize, row.k, row.stride), row.name).toBe(row.outSize);
      }
    }
  });

  it.each(NAMES.filter((n) => INDEPENDENT_NETS[n].linear))('%s: the rows chain (sizes and channels)', (name) => {
    const net: IndependentNet = INDEPENDENT_NETS[name];
    let [c, size] = net.input;
    let flat: number | undefined; // set once the first fc layer has been reached
    for (const row of net.rows) {
      if (row.kind === 'conv') {
        expect(row.inC, row.name).toBe(c);
        expect(row.inSize, row.name).toBe(size);
        c = row.outC;
        size = row.outSize;
      } else if (row.kind === 'pool') {
        expect(row.inSize, row.name).toBe(size);
        size = row.outSize;
      } else {
        expect(row.inN, row.name).toBe(flat ?? c * size * size);
        flat = row.outN;
      }
    }
  });

  it('squeezenet-dc: fire modules take the concatenated expands of the previous module', () => {
    const rows = INDEPENDENT_NETS['squeezenet-dc'].rows.filter((r): r is ConvRow => r.kind === 'conv');
    const byName = new Map(rows.map((r) => [r.name, r]));
    const expands = (n: number) => byName.get(`fire${n}/conv1x1_2`)!.outC + byName.get(`fire${n}/conv3x3_2`)!.outC;
    expect(byName.get('fire2/conv1x1_1')!.inC).toBe(byName.get('conv1')!.outC);
    for (let n = 3; n <= 9; n++) expect(byName.get(`fire${n}/conv1x1_1`)!.inC, `fire${n}`).toBe(expands(n - 1));
    for (let n = 2; n <= 9; n++) {
      const squeeze = byName.get(`fire${n}/conv1x1_1`)!.outC;
      expect(byName.get(`fire${n}/conv1x1_2`)!.inC).toBe(squeeze);
      expect(byName.get(`fire${n}/conv3x3_2`)!.inC).toBe(squeeze);
    }
    expect(byName.get('conv_final')!.inC).toBe(expands(9));
  });
});

describe('independent MAC totals', () => {
  it('AlexNet (BVLC) and Deep-Compressed AlexNet: 724,406,816', () => {
    expect(ALEXNET_MACS).toBe(724_406_816);
    expect(ALEXNET_DC_MACS).toBe(724_406_816);
  });

  it('VGG-16: 15,470,264,320', () => {
    expect(VGG16_MACS).toBe(15_470_264_320);
  });

  it('cifar10_quick: 12,354,176', () => {
    expect(CIFAR10_QUICK_MACS).toBe(12_354_176);
  });

  it('OverFeat fast and SqueezeNet v1.0 (counted by hand from the tables)', () => {
    expect(OVERFEAT_MACS).toBe(2_801_403_904);
    expect(SQUEEZENET_DC_MACS).toBe(861_339_936);
  });

  it('per-layer counts of AlexNet', () => {
    expect(perLayerMacs(INDEPENDENT_NETS.alexnet.rows)).toEqual({
      conv1: 105_415_200,
      conv2: 223_948_800,
      conv3: 149_520_384,
      conv4: 112_140_288,
      conv5: 74_760_192,
      fc6: 37_748_736,
      fc7: 16_777_216,
      fc8: 4_096_000,
    });
  });

  it('exports one total per network', () => {
    for (const name of NAMES) expect(Number.isSafeInteger(INDEPENDENT_MACS[name]) && INDEPENDENT_MACS[name] > 0, name).toBe(true);
  });
});

describe('tables agree with the deploy prototxts', () => {
  it.each(NAMES)('%s', (name) => {
    const net = INDEPENDENT_NETS[name];
    const { inputDims, layers } = plainRead(readFileSync(PROTOTXT[name], 'utf8'));
    expect(inputDims).toEqual([1, ...net.input]);

    // The same weighted layers, in the same order.
    const weighted = layers.filter((l) => l.kind === 'conv' || l.kind === 'fc');
    const tableWeighted = net.rows.filter((r) => r.kind !== 'pool');
    expect(weighted.map((l) => l.name)).toEqual(tableWeighted.map((r) => r.name));

    const byName = new Map(layers.map((l) => [l.name, l]));
    for (const row of net.rows as Row[]) {
      const layer = byName.get(row.name);
      expect(layer, `${row.name} in ${PROTOTXT[name]}`).toBeDefined();
      if (!layer) continue;
      if (row.kind === 'conv') {
        expect(layer.kind).toBe('conv');
        expect({ n: layer.numOutput, k: layer.kernel, s: layer.stride, p: layer.pad, g: layer.group }, row.name)
          .toEqual({ n: row.outC, k: row.k, s: row.stride, p: row.pad, g: row.group });
      } else if (row.kind === 'fc') {
        expect(layer.kind).toBe('fc');
        expect(layer.numOutput, row.name).toBe(row.outN);
      } else {
        expect(layer.kind).toBe('pool');
        expect({ k: layer.kernel, s: layer.stride, p: layer.pad }, row.name).toEqual({ k: row.k, s: row.stride, p: 0 });
      }
    }
  });

  it('Deep-Compressed AlexNet has the layers of AlexNet, in the same order, so a .net file joins either', () => {
    const strip = (t: string) => plainRead(t).layers;
    const dc = strip(readFileSync(PROTOTXT['alexnet-dc'], 'utf8'));
    const ref = strip(readFileSync(PROTOTXT.alexnet, 'utf8'));
    expect(dc).toEqual(ref);
    // The Deep Compression decoder takes the weighted layers whose names contain conv, fc or ip.
    expect(dc.filter((l) => l.kind !== 'other' && l.kind !== 'pool' && /conv|fc|ip/.test(l.name)).map((l) => l.name))
      .toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7', 'fc8']);
  });
});
