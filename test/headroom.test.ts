import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { cifar10Dataset, limit } from '../src/data/dataset.js';
import { HeadroomCounter, type TileShape } from '../src/evaluation/saturation-headroom.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import { parseNetwork } from '../src/formats/parse-network.js';
import { isConvOrInnerProduct, type Layer } from '../src/ir/network.js';
import type { SdssSampling } from '../src/effort/effort.js';
import { interpolateTiles, SdssHeadroom } from '../src/evaluation/sdss-headroom.js';
import { fitErrorBasis, lowRankTestMacs, principalMapsLayer, principalResiduals } from '../src/evaluation/sdss-low-rank.js';
import { layerMacs } from '../src/ir/layer-metrics.js';
import { runLayer } from '../src/backends/cpu/cpu-backend.js';
import { capture } from './helpers/captured-layers.js';
import { evaluate } from '../src/evaluation/evaluate.js';
import { inMemoryDataset } from '../src/data/in-memory-dataset.js';
import { validateProfile } from '../src/effort/profile.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import { dyve } from './helpers/cli.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from './helpers/files.js';

/**
 * `a` feeds a ReLU, `b` a residual sum with a's output that a ReLU decides, `c` no ReLU (not a
 * SPET layer), `fc` a ReLU. Maps of 2 x 4 = 8 positions; MACs: a 16, b 32, c 32, fc 48.
 */
const NET = `name: "headroom" input: "data" input_dim: 2 input_dim: 1 input_dim: 2 input_dim: 4
layer { name: "a" type: "Convolution" bottom: "data" top: "a" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "a_relu" type: "ReLU" bottom: "a" top: "a" }
layer { name: "b" type: "Convolution" bottom: "a" top: "b" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" top: "s" eltwise_param { operation: SUM } }
layer { name: "s_relu" type: "ReLU" bottom: "s" top: "s" }
layer { name: "c" type: "Convolution" bottom: "s" top: "c" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "fc" type: "InnerProduct" bottom: "c" top: "fc" inner_product_param { num_output: 3 } }
layer { name: "fc_relu" type: "ReLU" bottom: "fc" top: "fc" }
`;

const run = (positions: number): TileShape => ({ kind: 'run', positions });
const block = (rows: number, cols: number): TileShape => ({ kind: 'block', rows, cols });

describe('saturation headroom (HeadroomCounter)', () => {
  const net = parseNetwork(NET, 'headroom.prototxt', { kind: 'synthetic' });
  // Image 0: a's channel 0 all saturated; channel 1 saturated at 0, 1, 3, 4, 5, 7. Image 1:
  // channel 0 all positive, channel 1 saturated everywhere but position 4.
  const a = Float32Array.from([
    -1, -1, -1, -1, -1, -1, -1, -1, /**/ -1, 0, 2, -3, -1, -1, 5, 0,
    1, 2, 3, 4, 5, 6, 7, 8, /**/ 0, 0, 0, 0, 1, 0, 0, 0,
  ]);
  const aRelu = a.map((v) => Math.max(v, 0));
  // b + a's output: exactly 0 on image 0 (saturated), 1 + a's output > 0 on image 1.
  const b = Float32Array.from(aRelu, (v, i) => (i < 16 ? -v : 1));
  const blobs = new Map<string, Float32Array>([
    ['a', a], ['a@a_relu', aRelu], ['b', b], ['fc', Float32Array.from([-1, 2, 0, 1, 1, 1])],
  ]);

  it('counts saturated neurons and all-saturated tiles of each size, per SPET layer', () => {
    expect(net.layers.map((l) => l.tops[0])).toContain('a@a_relu');
    const counter = new HeadroomCounter(net, [run(1), run(2), run(3), run(4), run(8), block(2, 2), block(1, 3)]);
    counter.add(blobs, 2);
    const byName = new Map(counter.result().map((l) => [l.name, l]));
    expect([...byName.keys()]).toEqual(['a', 'b', 'fc']);
    // a: runs follow each map's positions row-major across its rows (a run of 3 takes 0-2, 3-5,
    // 6-7); blocks are aligned to the 2 x 4 map and clipped at its edge (1 x 3: columns 0-2, 3).
    expect(byName.get('a')).toMatchObject({ type: 'Convolution', macsPerImage: 16, neurons: 32, skippable: [21, 18, 16, 12, 8, 16, 15] });
    // b: saturated through the residual sum (b + a's output <= 0) on image 0 only.
    expect(byName.get('b')).toMatchObject({ neurons: 32, skippable: [16, 16, 16, 16, 16, 16, 16] });
    // fc decides per neuron at every tile shape.
    expect(byName.get('fc')).toMatchObject({ type: 'InnerProduct', macsPerImage: 48, neurons: 6, skippable: [2, 2, 2, 2, 2, 2, 2] });
  });

  it('bounds the network MAC reduction by those tiles, with and without a pass 1', () => {
    const counter = new HeadroomCounter(net, [run(1), run(8)]);
    counter.add(blobs, 2);
    const total = 16 + 32 + 32 + 48;
    const savedNeuron = (21 / 32) * 16 + (16 / 32) * 32 + (2 / 6) * 48;
    const saved8 = (8 / 32) * 16 + (16 / 32) * 32 + (2 / 6) * 48;
    expect(counter.bound(0)).toBeCloseTo(total / (total - savedNeuron), 12);
    expect(counter.bound(1)).toBeCloseTo(total / (total - saved8), 12);
    expect(counter.bound(0, 0.25)).toBeCloseTo(total / (total - 0.75 * savedNeuron), 12);
    // Counts add up over runs: the same batch twice gives the same shares, so the same bound.
    counter.add(blobs, 2);
    expect(counter.bound(0)).toBeCloseTo(total / (total - savedNeuron), 12);
  });

  it('refuses tile sizes that are not whole numbers >= 1, and a run without the blobs', () => {
    expect(() => new HeadroomCounter(net, [run(0)])).toThrow(/whole numbers >= 1/);
    expect(() => new HeadroomCounter(net, [block(2, 1.5)])).toThrow(/whole numbers >= 1/);
    expect(() => new HeadroomCounter(net, [run(1)]).add(new Map([['a', a]]), 2)).toThrow(/no blob 'b'/);
  });
});

describe('dyve headroom', () => {
  const tmp = () => mkdtempSync(join(tmpdir(), 'dyve-headroom-'));

  it('reports per-layer shares and the bound on a real model, as the dense run gives them', async () => {
    const dir = tmp();
    const json = join(dir, 'h.json');
    const bench = join(dir, 'B.md');
    const r = await dyve('headroom', '--model', 'cifar10-quick', '--limit', '16', '--tiles', '8,1,16,2x4,8', '--prefix', '0.25', '--json', json, '--benchmarks', bench, '--quiet');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/layer\s+MACs\/image\s+T=8\s+neuron\s+T=16\s+2x4\n/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      images: number; tiles: string[]; macReductionBound: number[]; macReductionBoundWithPrefix: number[];
      layers: { name: string; neurons: number; shares: number[] }[];
    };
    expect(report.images).toBe(16);
    // In the order given, each shape once.
    expect(report.tiles).toEqual(['T=8', 'neuron', 'T=16', '2x4']);
    expect(report.layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'conv3']);

    // The per-neuron share of conv2, counted here from an independent dense run (TypeScript kernels).
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
    const images = limit(await cifar10Dataset(`${DATA}/cifar10/test_batch.bin`, { channels: 'rgb', mean }, net.inputShape), 16);
    const { input } = await images.batch(0, 16);
    const conv2 = (new CpuBackend().runSync(net, input, 16, { keepBlobs: true }).blobs as Map<string, Float32Array>).get('conv2') as Float32Array;
    const share = conv2.filter((v) => v <= 0).length / conv2.length;
    const reported = report.layers[1];
    expect(reported.neurons).toBe(conv2.length);
    expect(Math.abs(reported.shares[1] - share)).toBeLessThan(1e-3);

    for (const [eightShare, neuronShare, sixteenShare, blockShare] of report.layers.map((l) => l.shares)) {
      expect(neuronShare).toBeGreaterThan(0);
      // Larger tiles can only hold fewer skippable neurons.
      expect(eightShare).toBeLessThanOrEqual(neuronShare);
      expect(sixteenShare).toBeLessThanOrEqual(eightShare);
      expect(blockShare).toBeLessThanOrEqual(neuronShare);
    }
    const [eight, neuron, sixteen] = report.macReductionBound;
    expect(neuron).toBeGreaterThan(eight);
    expect(eight).toBeGreaterThan(sixteen);
    expect(sixteen).toBeGreaterThan(1);
    report.macReductionBoundWithPrefix.forEach((b, k) => expect(b).toBeLessThan(report.macReductionBound[k]));

    const section = readFileSync(bench, 'utf8');
    expect(section).toContain('<!-- headroom-cifar10-quick:start -->');
    expect(section).toContain('`dyve headroom --model cifar10-quick --limit 16 --tiles 8,1,16,2x4,8 --prefix 0.25 --json');
    expect(section).not.toContain('--benchmarks');
    expect(section).toMatch(/\| network MAC reduction \| {2}\| \d+\.\d\dx \|/);
  });

  it('refuses bad flags with the rule', async () => {
    for (const bad of ['0,8', '8,', '2x', '2x0', 'x4', '4097']) {
      const tiles = await dyve('headroom', '--model', 'cifar10-quick', '--tiles', bad);
      expect(tiles.code).not.toBe(0);
      expect(tiles.err).toContain(`--tiles takes tile shapes, comma-separated: T (positions in a row) or RxC (a block), whole numbers in [1, 4096] (e.g. 1,8,2x4); found '${bad}'`);
    }
    const prefix = await dyve('headroom', '--model', 'cifar10-quick', '--prefix', '1.5');
    expect(prefix.err).toMatch(/--prefix takes a finite number in \[0, 1\], found '1.5'/);
  });
});

describe('SDSS headroom (SdssHeadroom: the grid and tiles with a perfect test)', () => {
  const images = 16;
  const SQUARE: SdssSampling = { stride: 2 };
  const CHECKERBOARD: SdssSampling = { stride: 2, pattern: 'checkerboard' };
  const setup = async () => {
    await initWasmKernels();
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
    const data = await cifar10Dataset(`${DATA}/cifar10/test_batch.bin`, { channels: 'rgb', mean }, net.inputShape);
    return { net, ...(await data.batch(0, images)) };
  };

  it('interpolates exactly what the engine does when every tile passes, and nothing that changes an output at tolerance 0', async () => {
    const { net, input, labels } = await setup();
    const perfect = (layers: string[], positions: number, tolerance: number) => ({ layers, test: 'perfect' as const, positions, tolerance });
    const settings = [
      perfect(['conv2'], 4, Infinity), perfect(['conv2'], 4, 0), perfect(['conv2'], 1, 0.5), perfect(['conv2'], 4, 0.5), perfect(['conv2'], 4, 1),
      perfect(['conv1', 'conv2', 'conv3'], 4, 0.5),
      { layers: ['conv2'], test: 'neighbours' as const, positions: 4, tolerance: 2 },
    ];
    const headroom = new SdssHeadroom(net, settings, SQUARE);
    headroom.add(input, labels, images);
    const [all, exact, perNeuron, half, one, together, neighbours] = headroom.result();

    // Every tile passing is the engine's SDSS with an infinite delta: the same MACs, the same top-1.
    const effort = validateProfile({ format: 'dyvedeep-effort/1', layers: { conv2: { sdss: { stride: 2, delta: 1e30 }, tile: { positions: 4 } } } }, net);
    const engine = await evaluate(net, inMemoryDataset({ name: 'test_batch', inputShape: net.inputShape, inputs: input, labels }), new CpuBackend({ kernels: 'wasm' }), { batch: images, effort, baseline: validateProfile({ format: 'dyvedeep-effort/1', layers: {} }, net) });
    expect(all.macReduction).toBeCloseTo(engine.macs.dense / engine.macs.executed, 10);
    expect(all.interpolated).toBeCloseTo(175 / 256, 10);
    expect(all.drop).toEqual(engine.baseline?.drop);

    // Tolerance 0 takes only means equal to the value: no output changes.
    expect(exact.drop).toMatchObject({ images, lost: 0, gained: 0 });
    expect(exact.interpolated).toBeGreaterThan(0);
    // A looser tolerance, or smaller tiles, interpolate more; all layers at once save the most.
    expect(half.interpolated).toBeGreaterThan(exact.interpolated);
    expect(one.interpolated).toBeGreaterThan(half.interpolated);
    expect(perNeuron.interpolated).toBeGreaterThan(half.interpolated);
    expect(together.macReduction).toBeGreaterThan(half.macReduction);
    expect(headroom.sigma.get('conv2')).toBeGreaterThan(0);

    // The neighbour test is SDSS's own: the engine with delta = 2 sigma takes the same tiles.
    const delta = 2 * (headroom.sigma.get('conv2') as number);
    const own = validateProfile({ format: 'dyvedeep-effort/1', layers: { conv2: { sdss: { stride: 2, delta }, tile: { positions: 4 } } } }, net);
    const withOwn = await evaluate(net, inMemoryDataset({ name: 'test_batch', inputShape: net.inputShape, inputs: input, labels }), new CpuBackend({ kernels: 'reference' }), { batch: images, effort: own });
    expect(neighbours.macReduction).toBeCloseTo(withOwn.macs.dense / withOwn.macs.executed, 10);
    expect(neighbours.interpolated).toBeGreaterThan(0);

    // So on the checkerboard, the pattern tile-mode profiles choose.
    const board = new SdssHeadroom(net, [{ layers: ['conv2'], test: 'neighbours', positions: 4, tolerance: 2 }], CHECKERBOARD);
    board.add(input, labels, images);
    const [onBoard] = board.result();
    const boardDelta = 2 * (board.sigma.get('conv2') as number);
    const boardOwn = validateProfile({ format: 'dyvedeep-effort/1', layers: { conv2: { sdss: { ...CHECKERBOARD, delta: boardDelta }, tile: { positions: 4 } } } }, net);
    const withBoard = await evaluate(net, inMemoryDataset({ name: 'test_batch', inputShape: net.inputShape, inputs: input, labels }), new CpuBackend({ kernels: 'reference' }), { batch: images, effort: boardOwn });
    expect(onBoard.macReduction).toBeCloseTo(withBoard.macs.dense / withBoard.macs.executed, 10);
    expect(onBoard.interpolated).toBeGreaterThan(0);
    expect(onBoard.interpolated).toBeLessThanOrEqual(0.5);
  });

  it("interpolates every tile as the engine's SDSS does when every tile passes, on the square grid and the checkerboard (conv1 before a MAX pool, conv2, conv3)", async () => {
    const { net, input } = await setup();
    const layers = await capture(net, input, images, ['conv1', 'conv2', 'conv3']);
    for (const [name, c] of layers) {
      const { h, w } = c.layer.outputShapes[0];
      const maps = c.layer.outputShapes[0].c * images;
      // Off the square grid: every position but rows and columns 0, 2, .. and the last; off the
      // checkerboard: the positions whose row + column is odd.
      const off: [SdssSampling, number][] = [[SQUARE, h * w - Math.ceil((h - 1) / 2 + 1) * Math.ceil((w - 1) / 2 + 1)], [CHECKERBOARD, Math.floor((h * w) / 2)]];
      for (const [sampling, offGrid] of off) {
        const raw = runLayer(c.layer, [c.input], images, { kernels: 'reference' }).outputs[0];
        const n = interpolateTiles(c.layer, raw, images, sampling, 'perfect', 4, Infinity, c.rectified);
        expect(n, `${name} ${sampling.pattern ?? 'square'}`).toBe(maps * offGrid);
        const sdss = runLayer(c.layer, [c.input], images, { kernels: 'reference', effort: { sdss: { ...sampling, delta: 1e30 }, tile: { positions: 4 } }, rectified: c.rectified }).outputs[0];
        const seen = (v: number) => (c.rectified ? Math.max(v, 0) : v);
        let worst = 0;
        for (let i = 0; i < raw.length; i++) worst = Math.max(worst, Math.abs(seen(raw[i]) - seen(sdss[i])));
        expect(worst, `${name} ${sampling.pattern ?? 'square'}`).toBeLessThan(1e-4);
      }
    }
  });

  it('low-rank test: principal maps are U^T (y - bias), full rank decides as the perfect test, its MACs count', async () => {
    const { net, input, labels } = await setup();
    const layers = await capture(net, input, images, ['conv1', 'conv2', 'conv3']);
    for (const [name, c] of layers) {
      const y = runLayer(c.layer, [c.input], images, { kernels: 'reference' }).outputs[0];
      const { c: outC, h, w } = c.layer.outputShapes[0];
      const n = h * w;
      // Rank 3: orthonormal directions, a larger captured share than rank 1, below 1.
      const basis = fitErrorBasis(c.layer, y, images, SQUARE, 3);
      const u = basis.u[0];
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) {
          let dot = 0;
          for (let o = 0; o < outC; o++) dot += u[o * 3 + a] * u[o * 3 + b];
          expect(dot, `${name} u${a}.u${b}`).toBeCloseTo(a === b ? 1 : 0, 8);
        }
      }
      expect(basis.captured[0], name).toBeGreaterThan(fitErrorBasis(c.layer, y, images, SQUARE, 1).captured[0]);
      expect(basis.captured[0], name).toBeLessThan(1);
      // The principal maps are the directions applied to the layer's output without its bias.
      const z = runLayer(principalMapsLayer(c.layer, basis), [c.input], images, { kernels: 'reference' }).outputs[0];
      const bias = c.layer.weights?.bias as Float32Array;
      let worst = 0;
      let scale = 0;
      for (let b = 0; b < images; b++) {
        for (let j = 0; j < 3; j++) {
          for (let p = 0; p < n; p++) {
            let want = 0;
            for (let o = 0; o < outC; o++) want += u[o * 3 + j] * (y[(b * outC + o) * n + p] - bias[o]);
            worst = Math.max(worst, Math.abs(z[(b * 3 + j) * n + p] - want));
            scale = Math.max(scale, Math.abs(want));
          }
        }
      }
      expect(worst / scale, name).toBeLessThan(1e-5);

      // Full rank estimates every value exactly: the perfect test's decisions but where rounding
      // meets the limit (none here).
      const full = fitErrorBasis(c.layer, y, images, SQUARE, outC);
      expect(full.captured[0], name).toBeCloseTo(1, 8);
      const zFull = runLayer(principalMapsLayer(c.layer, full), [c.input], images, { kernels: 'reference' }).outputs[0];
      const limit = 0.5 * Math.sqrt(y.reduce((s, v) => s + v * v, 0) / y.length);
      const perfect = y.slice();
      const lowRank = y.slice();
      const nPerfect = interpolateTiles(c.layer, perfect, images, SQUARE, 'perfect', 4, limit, c.rectified);
      const nLowRank = interpolateTiles(c.layer, lowRank, images, SQUARE, 'low-rank', 4, limit, c.rectified,
        { basis: full, residuals: principalResiduals(zFull, c.layer, images, SQUARE, outC) });
      expect(nLowRank, name).toBe(nPerfect);
      expect(lowRank, name).toEqual(perfect);
    }

    // The network MAC reduction pays for the test: interpolated MACs minus the test's.
    const settings = [{ layers: ['conv2'], test: 'low-rank' as const, positions: 4, tolerance: 1, rank: 2 }];
    const headroom = new SdssHeadroom(net, settings, SQUARE);
    headroom.add(input, labels, images);
    const [r] = headroom.result();
    const conv2 = net.layers.find((l) => l.name === 'conv2') as Layer;
    expect(lowRankTestMacs(conv2, SQUARE, 2)).toBe(2 * (800 * 175 + 32 * 256));
    const dense = net.layers.filter(isConvOrInnerProduct).reduce((s, l) => s + layerMacs(l), 0);
    const saved = r.interpolated * layerMacs(conv2) - lowRankTestMacs(conv2, SQUARE, 2);
    expect(r.macReduction).toBeCloseTo(dense / (dense - saved), 10);
    expect(r.interpolated).toBeGreaterThan(0);
    expect(headroom.bases.get('conv2/2')?.captured[0]).toBeGreaterThan(0);
  });

  it('refuses layers SDSS cannot act on and bad knobs', async () => {
    const { net } = await setup();
    expect(() => new SdssHeadroom(net, [{ layers: ['ip1'], test: 'perfect', positions: 4, tolerance: 1 }], SQUARE)).toThrow(/'ip1' is not a Convolution/);
    expect(() => new SdssHeadroom(net, [{ layers: ['conv2'], test: 'perfect', positions: 0, tolerance: 1 }], SQUARE)).toThrow(/whole numbers >= 1/);
    expect(() => new SdssHeadroom(net, [{ layers: ['conv2'], test: 'perfect', positions: 4, tolerance: -1 }], SQUARE)).toThrow(/>= 0/);
    expect(() => new SdssHeadroom(net, [{ layers: ['conv2'], test: 'low-rank', positions: 4, tolerance: 1 }], SQUARE)).toThrow(/a rank goes with the low-rank test/);
    expect(() => new SdssHeadroom(net, [{ layers: ['conv2'], test: 'perfect', positions: 4, tolerance: 1, rank: 2 }], SQUARE)).toThrow(/a rank goes with the low-rank test/);
    expect(() => new SdssHeadroom(net, [{ layers: ['conv2'], test: 'perfect', positions: 4, tolerance: 1 }], { stride: 3, pattern: 'checkerboard' })).toThrow(/checkerboard samples every other position: its stride is 2, got 3/);
    const conv2 = net.layers.find((l) => l.name === 'conv2') as Layer;
    expect(() => fitErrorBasis(conv2, new Float32Array(32 * 256), 1, SQUARE, 33)).toThrow(/rank is a whole number in \[1, 32\] for 'conv2', got 33/);
  });

  it('dyve headroom --mechanism sdss: the table, JSON and BENCHMARKS section; flags of the other mechanism refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dyve-headroom-'));
    const json = join(dir, 'h.json');
    const bench = join(dir, 'B.md');
    const r = await dyve('headroom', '--model', 'cifar10-quick', '--mechanism', 'sdss', '--limit', '8', '--tiles', '4', '--tolerance', '0,1', '--layers', 'conv2,conv3', '--json', json, '--benchmarks', bench, '--quiet');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/layers\s+tiles\s+test\s+limit 0 sigma\s+limit 1 sigma\n/);
    expect(r.out).toMatch(/all at once\s+4\s+perfect\s+\d\.\d\dx, -?\d+\.\d\d ± \d+\.\d\d pp, \d+ %/);
    expect(r.out).toMatch(/all at once\s+4\s+neighbours\s+\d\.\d\dx, -?\d+\.\d\d ± \d+\.\d\d pp, \d+ %/);
    expect(r.out).toMatch(/all at once\s+4\s+low-rank 2\s+\d\.\d\dx, -?\d+\.\d\d ± \d+\.\d\d pp, \d+ %/);
    expect(r.out).toMatch(/captured share of that error variance: conv2 \d+ %, conv3 \d+ %/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      images: number; stride: number; pattern: string; tests: string[]; rank: number; lowRankCaptured: Record<string, number[]>;
      results: { layers: string[]; test: string; positions: number; tolerance: number; drop: { lost: number; gained: number } }[];
    };
    expect(report.tests).toEqual(['perfect', 'neighbours', 'low-rank']);
    expect(report.rank).toBe(2);
    expect(Object.keys(report.lowRankCaptured)).toEqual(['conv2', 'conv3']);
    expect(report.images).toBe(8);
    expect(report.stride).toBe(2);
    expect(report.pattern).toBe('square');
    expect(report.results.map((x) => `${x.layers.join('+')}/${x.positions}/${x.test}/${x.tolerance}`)).toEqual(
      ['conv2', 'conv3', 'conv2+conv3'].flatMap((l) => ['perfect/0', 'perfect/1', 'neighbours/0', 'neighbours/1', 'low-rank/0', 'low-rank/1'].map((t) => `${l}/4/${t}`)),
    );
    expect(report.results[0].drop).toMatchObject({ lost: 0, gained: 0 });
    const section = readFileSync(bench, 'utf8');
    expect(section).toContain('<!-- sdss-headroom-cifar10-quick:start -->');
    expect(section).toContain('`dyve headroom --model cifar10-quick --mechanism sdss --limit 8');

    // Seeded random weights: MACs and shares, no accuracy (here on the checkerboard).
    const synthetic = await dyve('headroom', '--model', 'cifar10-quick', '--weights', 'synthetic', '--mechanism', 'sdss', '--pattern', 'checkerboard', '--limit', '4', '--layers', 'conv2', '--tolerance', '1', '--tests', 'low-rank,perfect', '--rank', '4', '--quiet');
    expect(synthetic.code).toBe(0);
    expect(synthetic.out).toContain('SDSS (checkerboard, tile mode) with 2 tests');
    expect(synthetic.out).toMatch(/conv2\s+4\s+perfect\s+\d\.\d\dx, no accuracy \(synthetic weights\), \d+ %/);
    expect(synthetic.out).toMatch(/conv2\s+4\s+low-rank 4\s+\d\.\d\dx, no accuracy \(synthetic weights\), \d+ %/);
    expect(synthetic.out).toContain('with 2 tests');
    expect(synthetic.out).not.toContain('neighbours = ');

    for (const [flags, message] of [
      [['--mechanism', 'sdss', '--prefix', '0.25'], '--prefix belongs to --mechanism spet'],
      [['--tolerance', '1'], '--tolerance belongs to --mechanism sdss'],
      [['--mechanism', 'sfma'], "--mechanism takes spet or sdss, found 'sfma'"],
      [['--mechanism', 'sdss', '--tolerance', '1,-1'], "--tolerance takes numbers >= 0, comma-separated (e.g. 0.25,0.5,1); found '1,-1'"],
      [['--mechanism', 'sdss', '--tiles', '2x4'], "not blocks; found '2x4'"],
      [['--mechanism', 'sdss', '--layers', 'ip1'], "--layers takes Convolution layers of cifar10-quick with positions off the stride-2 grid (conv1, conv2, conv3); found 'ip1'"],
      [['--mechanism', 'sdss', '--tests', 'perfect,oracle'], "--tests takes a list of perfect, neighbours, low-rank; found 'oracle'"],
      [['--mechanism', 'sdss', '--tests', 'perfect', '--rank', '2'], '--rank belongs to the low-rank test'],
      [['--mechanism', 'sdss', '--layers', 'conv2', '--rank', '33'], '--rank takes a whole number in [1, 32] here'],
      [['--rank', '2'], '--rank belongs to --mechanism sdss'],
      [['--pattern', 'checkerboard'], '--pattern belongs to --mechanism sdss'],
      [['--mechanism', 'sdss', '--pattern', 'hexagonal'], "--pattern takes square or checkerboard, found 'hexagonal'"],
      [['--mechanism', 'sdss', '--pattern', 'checkerboard', '--stride', '3'], '--pattern checkerboard samples every other position: its stride is 2, found --stride 3'],
    ] as const) {
      const bad = await dyve('headroom', '--model', 'cifar10-quick', ...flags);
      expect(bad.code, flags.join(' ')).not.toBe(0);
      expect(bad.err).toContain(message);
    }
  });
});
