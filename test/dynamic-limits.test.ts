import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerCounters } from '../src/records/counters.js';
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.js';
import { cifar10Dataset } from '../src/data/dataset.js';
import { convolutionDynamic } from '../src/backends/cpu/dynamic/dynamic-convolution.js';
import { innerProductDynamic } from '../src/backends/cpu/dynamic/dynamic-inner-product.js';
import { significantCount } from '../src/mechanisms/spet.js';
import { sfmaStatsOps } from '../src/mechanisms/sfma.js';
import type { LayerEffort } from '../src/effort/effort.js';
import { DataError, NetworkError } from '../src/errors.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import { mulberry32 } from '../src/formats/synthetic-weights.js';
import { convOutputSize } from '../src/ir/layers/convolution.js';
import type { ConvolutionParams, Layer } from '../src/ir/network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from './helpers/files.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

/**
 * The limits in which a mechanism must give the dense result, SPET's exact mode (never changes a
 * ReLU output), SFMA's exactness on constant maps, and the counters of both variants.
 */

const VARIANTS = ['fast', 'reference'] as const;

function counters(layer: Layer): LayerCounters {
  return { name: layer.name, type: layer.params.type, macsDense: 0, macsExecuted: 0, otherOps: 0 };
}

function dynamic(layer: Layer, input: Float32Array, batch: number, effort: LayerEffort, variant: 'fast' | 'reference'): { y: Float32Array; counts: LayerCounters } {
  const counts = counters(layer);
  const kernel = layer.params.type === 'Convolution' ? convolutionDynamic : innerProductDynamic;
  const [y] = kernel(layer, [input], batch, counts, { effort, variant });
  return { y, counts };
}

function relu(a: Float32Array): Float32Array {
  return a.map((v) => (v > 0 ? v : 0));
}

interface Captured {
  readonly layer: Layer;
  readonly input: Float32Array;
  /** The dense reference output. */
  readonly dense: Float32Array;
}

const BATCH = 6;
let cifar: Map<string, Captured>;

beforeAll(async () => {
  const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
  const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
  const data = await cifar10Dataset(`${DATA}/cifar10/data_batch_1.bin`, { channels: 'rgb', mean }, net.inputShape);
  const { input } = await data.batch(100, BATCH);
  cifar = new Map();
  new CpuBackend({ kernels: 'reference' }).runSync(net, input, BATCH, {
    onLayer: (layer, inputs, outputs) => {
      if (layer.params.type === 'Convolution' || layer.params.type === 'InnerProduct') {
        cifar.set(layer.name, { layer, input: inputs[0].slice(), dense: outputs[0].slice() });
      }
    },
  });
});

const WEIGHTED = ['conv1', 'conv2', 'conv3', 'ip1', 'ip2'];

describe('limits that must give the dense result (cifar10-quick, real images)', () => {
  for (const name of WEIGHTED) {
    it(`${name}: no mechanism, threshold -Infinity, fraction 1, SFMA at 0 on real maps`, () => {
      const c = cifar.get(name) as Captured;
      const isConv = c.layer.params.type === 'Convolution';
      const dense: LayerEffort[] = [
        {},
        { spet: { mode: 'threshold', fraction: 0, threshold: -Infinity } },
        { spet: { mode: 'threshold', fraction: 0.25, threshold: -Infinity } },
        { spet: { mode: 'threshold', fraction: 1, threshold: -Infinity } },
        ...(isConv ? [{ sfma: { epsilon: 0 } }, { spet: { mode: 'threshold', fraction: 0.5, threshold: -Infinity }, sfma: { epsilon: 0 } } as LayerEffort] : []),
      ];
      // Fraction 1: the "partial" sum is the whole sum, so the test is the ReLU itself.
      const reluLimit: LayerEffort[] = [{ spet: { mode: 'threshold', fraction: 1, threshold: 0 } }, { spet: { mode: 'exact', fraction: 1 } }];
      for (const variant of VARIANTS) {
        for (const effort of dense) {
          const { y, counts } = dynamic(c.layer, c.input, BATCH, effort, variant);
          const what = `${variant} ${JSON.stringify(effort)}`;
          expect(relativeError(y, c.dense), what).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
          expect(counts.mechanisms?.spet?.terminated ?? 0, what).toBe(0);
          const macsDense = runLayer(c.layer, [c.input], BATCH).counters.macsDense;
          // At epsilon 0 SFMA still drops the all-zero maps (exactly): fewer MACs, same result.
          if (effort.sfma) expect(counts.macsExecuted, what).toBeLessThanOrEqual(macsDense);
          else expect(counts.macsExecuted, what).toBe(macsDense);
        }
        for (const effort of reluLimit) {
          const { y } = dynamic(c.layer, c.input, BATCH, effort, variant);
          expect(relativeError(y, relu(c.dense)), `${variant} ${JSON.stringify(effort)}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
        }
      }
    });
  }

  it('the dense fast kernel agrees with the mechanism-free dynamic kernel', () => {
    const c = cifar.get('conv2') as Captured;
    const fast = runLayer(c.layer, [c.input], BATCH, { kernels: 'fast' }).outputs[0];
    expect(relativeError(dynamic(c.layer, c.input, BATCH, {}, 'fast').y, fast)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  });
});

describe('SPET exact mode never changes a ReLU output', () => {
  for (const name of WEIGHTED) {
    it(name, () => {
      const c = cifar.get(name) as Captured;
      const expected = relu(c.dense);
      let terminated = 0;
      for (const fraction of [0, 0.1, 0.25, 0.5, 0.75]) {
        for (const variant of VARIANTS) {
          const { y, counts } = dynamic(c.layer, c.input, BATCH, { spet: { mode: 'exact', fraction } }, variant);
          const err = relativeError(relu(y), expected);
          expect(err, `${variant} fraction ${fraction}: ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
          // A terminated neuron is 0 and its dense value was provably negative.
          terminated += counts.mechanisms?.spet?.terminated ?? 0;
        }
      }
      // conv1 reads mean-subtracted pixels; later layers' post-ReLU inputs reach far higher values
      // than a typical tap sees, so the whole-image bound rarely fires there.
      if (name === 'conv1') expect(terminated, 'the bound fires on this layer').toBeGreaterThan(0);
    });
  }
});

/** A convolution with random weights, for shapes no real layer has. */
function syntheticConv(name: string, input: { c: number; h: number; w: number }, conv: Partial<ConvolutionParams> & { numOutput: number; kernelH: number; kernelW: number }, seed: number): Layer {
  const p: ConvolutionParams = {
    strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, group: 1, biasTerm: true, ...conv,
  };
  const outH = convOutputSize(input.h, p.kernelH, p.strideH, p.padH, p.dilationH);
  const outW = convOutputSize(input.w, p.kernelW, p.strideW, p.padW, p.dilationW);
  const random = mulberry32(seed);
  const weight = new Float32Array(p.numOutput * (input.c / p.group) * p.kernelH * p.kernelW).map(() => random() - 0.5);
  const bias = new Float32Array(p.numOutput).map(() => random() - 0.5);
  return {
    name, params: { type: 'Convolution', conv: p }, bottoms: ['in'], tops: ['out'],
    inputShapes: [input], outputShapes: [{ c: p.numOutput, h: outH, w: outW }], weights: { weight, bias },
  };
}

describe('SFMA is exact on constant maps, borders included', () => {
  const shapes: { name: string; input: { c: number; h: number; w: number }; conv: Partial<ConvolutionParams> & { numOutput: number; kernelH: number; kernelW: number } }[] = [
    { name: 'pad 2 / stride 2 / 5x3', input: { c: 4, h: 11, w: 9 }, conv: { numOutput: 6, kernelH: 5, kernelW: 3, strideH: 2, strideW: 2, padH: 2, padW: 1 } },
    { name: 'dilation 2 / stride 3 / groups 2', input: { c: 6, h: 13, w: 12 }, conv: { numOutput: 4, kernelH: 3, kernelW: 3, strideH: 3, strideW: 1, padH: 3, padW: 2, dilationH: 2, dilationW: 2, group: 2 } },
    { name: '1x1 with pad 1 (border outputs see only padding)', input: { c: 5, h: 6, w: 6 }, conv: { numOutput: 7, kernelH: 1, kernelW: 1, padH: 1, padW: 1 } },
  ];
  for (const s of shapes) {
    it(s.name, () => {
      const layer = syntheticConv(s.name, s.input, s.conv, 7);
      const batch = 2;
      const plane = s.input.h * s.input.w;
      const random = mulberry32(3);
      const x = new Float32Array(batch * s.input.c * plane);
      // Image 0: every map constant (one of them zero). Image 1: maps 0 and 3 constant, others noise.
      for (let c = 0; c < s.input.c; c++) x.fill(c === 1 ? 0 : 0.37 * (c + 1) - 0.8, c * plane, (c + 1) * plane);
      for (let c = 0; c < s.input.c; c++) {
        const off = (s.input.c + c) * plane;
        for (let i = 0; i < plane; i++) x[off + i] = c === 0 || c === 3 ? 1.25 : random() * 2 - 1;
      }
      const dense = runLayer(layer, [x], batch, { kernels: 'reference' }).outputs[0];
      for (const variant of VARIANTS) {
        for (const effort of [{ sfma: { epsilon: 0 } }, { sfma: { epsilon: 0 }, sdss: { stride: 2, delta: 0 } }, { sfma: { epsilon: 0 }, spet: { mode: 'threshold', fraction: 0.5, threshold: -Infinity } }] as LayerEffort[]) {
          const { y, counts } = dynamic(layer, x, batch, effort, variant);
          const what = `${variant} ${JSON.stringify(effort)}`;
          expect(counts.mechanisms?.sfma, what).toEqual({ maps: 2 * s.input.c, approximated: s.input.c + 2 });
          if (!effort.sdss) expect(relativeError(y, dense), what).toBeLessThanOrEqual(1e-5);
          if (!effort.sdss && !effort.spet) {
            // Image 0 runs no MAC at all; image 1 only its noisy maps (all but 0 and 3).
            const group = s.conv.group ?? 1;
            const cpg = s.input.c / group;
            const out = layer.outputShapes[0];
            let expected = 0;
            for (let o = 0; o < out.c; o++) {
              const g = Math.floor(o / (out.c / group));
              let kept = 0;
              for (let c = g * cpg; c < (g + 1) * cpg; c++) if (c !== 0 && c !== 3) kept++;
              expected += out.h * out.w * kept * s.conv.kernelH * s.conv.kernelW;
            }
            expect(counts.macsExecuted, what).toBe(expected);
          }
        }
      }
    });
  }
});

describe('counters', () => {
  it('SPET alone: the significant taps of every neuron, the rest for the survivors', () => {
    for (const name of ['conv2', 'ip1']) {
      const c = cifar.get(name) as Captured;
      const cpg = c.layer.inputShapes[0].c;
      const taps = c.layer.params.type === 'Convolution' ? c.layer.params.conv.kernelH * c.layer.params.conv.kernelW : c.layer.inputShapes[0].h * c.layer.inputShapes[0].w;
      for (const variant of VARIANTS) {
        const fraction = 0.3;
        const { counts } = dynamic(c.layer, c.input, BATCH, { spet: { mode: 'threshold', fraction, threshold: 0 } }, variant);
        const { neurons, terminated } = counts.mechanisms?.spet ?? { neurons: 0, terminated: 0 };
        const nSig = significantCount(fraction, cpg);
        expect(neurons).toBe(c.dense.length);
        expect(terminated).toBeGreaterThan(0);
        expect(counts.macsExecuted).toBe(neurons * nSig * taps + (neurons - terminated) * (cpg - nSig) * taps);
        expect(counts.macsExecuted).toBeLessThan(runLayer(c.layer, [c.input], BATCH).counters.macsDense);
        expect(counts.otherOps).toBeGreaterThanOrEqual(neurons); // one test per neuron (and bias adds)
      }
    }
  });

  it('SDSS alone: every evaluated neuron runs all its taps', () => {
    const c = cifar.get('conv1') as Captured;
    const taps = 3 * 25;
    for (const variant of VARIANTS) {
      const { counts } = dynamic(c.layer, c.input, BATCH, { sdss: { stride: 2, delta: 10 } }, variant);
      const { outputs, interpolated } = counts.mechanisms?.sdss ?? { outputs: 0, interpolated: 0 };
      expect(outputs).toBe(c.dense.length);
      expect(interpolated).toBeGreaterThan(0);
      expect(counts.macsExecuted).toBe((outputs - interpolated) * taps);
    }
  });

  it('SFMA alone: the kept maps only, plus the statistics in otherOps', () => {
    const c = cifar.get('conv3') as Captured;
    const { c: inC, h, w } = c.layer.inputShapes[0];
    const out = c.layer.outputShapes[0];
    for (const variant of VARIANTS) {
      let macs = 0;
      let expected = 0;
      for (let img = 0; img < BATCH; img++) {
        const x = c.input.subarray(img * inC * h * w, (img + 1) * inC * h * w);
        const { counts } = dynamic(c.layer, x, 1, { sfma: { epsilon: 1 } }, variant);
        const approximated = counts.mechanisms?.sfma?.approximated ?? 0;
        macs += counts.macsExecuted;
        expected += out.c * out.h * out.w * (inC - approximated) * 25;
        expect(counts.otherOps).toBeGreaterThanOrEqual(inC * sfmaStatsOps(h * w));
      }
      expect(macs).toBe(expected);
      expect(macs).toBeLessThan(BATCH * out.c * out.h * out.w * inC * 25);
    }
  });

  it('mechanisms lists exactly the mechanisms that were on', () => {
    const c = cifar.get('conv2') as Captured;
    for (const variant of VARIANTS) {
      expect(dynamic(c.layer, c.input, BATCH, {}, variant).counts.mechanisms).toBeUndefined();
      expect(Object.keys(dynamic(c.layer, c.input, BATCH, { sdss: { stride: 2, delta: 1 } }, variant).counts.mechanisms ?? {})).toEqual(['sdss']);
      const all = dynamic(c.layer, c.input, BATCH, { spet: { mode: 'exact', fraction: 0.5 }, sdss: { stride: 2, delta: 1 }, sfma: { epsilon: 0.1 } }, variant).counts.mechanisms ?? {};
      expect(Object.keys(all).sort()).toEqual(['sdss', 'sfma', 'spet']);
      expect(all.sfma?.maps).toBe(BATCH * 32);
    }
  });
});

describe('invalid uses', () => {
  it('rejects bad knobs, SDSS/SFMA on a fully connected layer and a wrong input size', () => {
    const conv = cifar.get('conv2') as Captured;
    const ip = cifar.get('ip1') as Captured;
    const bad: LayerEffort[] = [
      { spet: { mode: 'threshold', fraction: 1.5, threshold: 0 } },
      { spet: { mode: 'threshold', fraction: 0.5, threshold: NaN } },
      { sdss: { stride: 1, delta: 0 } },
      { sdss: { stride: 2.5, delta: 0 } },
      { sdss: { stride: 2, delta: -1 } },
      { sfma: { epsilon: -0.1 } },
      { sfma: { epsilon: Infinity } },
    ];
    for (const effort of bad) {
      for (const variant of VARIANTS) expect(() => dynamic(conv.layer, conv.input, BATCH, effort, variant), JSON.stringify(effort)).toThrow(NetworkError);
    }
    expect(() => dynamic(ip.layer, ip.input, BATCH, { sdss: { stride: 2, delta: 0 } }, 'fast')).toThrow(/SDSS and SFMA apply to convolutions only/);
    expect(() => dynamic(ip.layer, ip.input, BATCH, { sfma: { epsilon: 0 } }, 'reference')).toThrow(NetworkError);
    expect(() => dynamic(conv.layer, conv.input.subarray(1), BATCH, {}, 'fast')).toThrow(DataError);
    expect(() => convolutionDynamic(ip.layer, [ip.input], BATCH, counters(ip.layer), { effort: {}, variant: 'fast' })).toThrow(NetworkError);
  });
});
