/**
 * SPET through a residual sum (issue 18: "SPET's partial sum starts from bias + the other
 * operand"). A Convolution whose only reader is Eltwise SUM(conv, addend) then a ReLU
 * (src/ir/relu-reach.ts residualSum) may run SPET: its test reads partial + bias + addend and a
 * terminated neuron stores -addend, so the sum is exactly 0 and the ReLU keeps it. Checked here on
 * every CPU path (reference, fast TypeScript, WebAssembly, two worker threads; neuron and tile
 * modes, threshold and exact SPET, composed with SDSS and SFMA) against the reference, with
 * near-threshold decisions counted and bounded as in tile-mode.test.ts; that terminated neurons
 * really give 0 after the ReLU; that exact mode changes no output; that profiles refuse SPET where
 * the sum is not of that form; and that calibration measures SPET on such a layer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, runLayer, type LayerRun } from '../src/backends/cpu/cpu-backend.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import type { RunResult } from '../src/backends/backend.js';
import { fitTileSpet } from '../src/calibration/tile-thresholds.js';
import { applicable, layerSensitivity, type Probe } from '../src/calibration/sensitivity.js';
import type { LayerEffort, SpetKnobs } from '../src/effort/effort.js';
import { parseProfile, validateProfile } from '../src/effort/profile.js';
import { loadNetwork } from '../src/formats/load-network.js';
import { shapeSize, type Layer, type Network } from '../src/ir/network.js';
import { residualSum } from '../src/ir/relu-reach.js';
import { planNetwork } from '../src/plan/execution-plan.js';
import { NEURON_SPET_TERMINATED } from '../src/records/decisions.js';
import { ParallelBackend } from '../src/threads/parallel-backend.js';
import { tempFile } from './helpers/files.js';
import { RESIDUAL_SPET_NET, residualSpetProfile } from './helpers/residual-nets.js';
import { randomArray } from './helpers/synthetic-layers.js';
import { DYNAMIC_DECISION_TOLERANCE, PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

/** A small graph around one Eltwise: `body` after a 4-channel input. */
const small = (body: string) => `name: "sum" input: "data" input_dim: 1 input_dim: 4 input_dim: 6 input_dim: 6
${body}`;
const c4 = (name: string, bottom: string) =>
  `layer { name: "${name}" type: "Convolution" bottom: "${bottom}" top: "${name}" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }\n`;
const relu = (blob: string) => `layer { name: "${blob}_relu" type: "ReLU" bottom: "${blob}" top: "${blob}" }\n`;
const sum = (bottoms: readonly string[], extra = '') =>
  `layer { name: "add" type: "Eltwise" ${bottoms.map((b) => `bottom: "${b}"`).join(' ')} top: "s" eltwise_param { operation: SUM ${extra} } }\n`;
const prod = (bottoms: readonly string[]) =>
  `layer { name: "add" type: "Eltwise" ${bottoms.map((b) => `bottom: "${b}"`).join(' ')} top: "s" eltwise_param { operation: PROD } }\n`;

const BATCH = 3;
let net: Network;
let input: Float32Array;
let dense: RunResult;

const layerNamed = (n: Network, name: string): Layer => {
  const l = n.layers.find((x) => x.name === name);
  if (!l) throw new Error(`no layer ${name}`);
  return l;
};
const blob = (r: RunResult, name: string): Float32Array => {
  const b = r.blobs?.get(name);
  if (!b) throw new Error(`no blob ${name}`);
  return b;
};

beforeAll(async () => {
  net = await loadNetwork(tempFile('residual-spet.prototxt', RESIDUAL_SPET_NET), { kind: 'synthetic', seed: 5 });
  input = randomArray(BATCH * shapeSize(net.inputShape), 21, 1).map((v) => Math.abs(v));
  dense = new CpuBackend({ kernels: 'reference' }).runSync(net, input, BATCH, { keepBlobs: true });
  await initWasmKernels();
});

const spetT = (fraction: number, threshold: number): SpetKnobs => ({ mode: 'threshold', fraction, threshold });
const spetX = (fraction: number): SpetKnobs => ({ mode: 'exact', fraction });

describe('residualSum (src/ir/relu-reach.ts)', () => {
  it('finds the sum and its other operand after batch normalization folding, whichever bottom the convolution is', () => {
    const b1b = layerNamed(net, 'b1b');
    const b1Add = layerNamed(net, 'b1_add');
    expect(residualSum(net, b1b)).toEqual({ addend: b1Add.bottoms[0], sum: 'b1_add' });
    expect(b1Add.bottoms[1]).toBe(b1b.tops[0]);
    const b2Add = layerNamed(net, 'b2_add');
    expect(residualSum(net, layerNamed(net, 'b2'))).toEqual({ addend: b2Add.bottoms[1], sum: 'b2_add' });
    // Convolutions that feed a ReLU directly, and layers that are no convolution.
    for (const name of ['stem', 'b1a', 'fc', 'b1_add']) expect(residualSum(net, layerNamed(net, name)), name).toBeNull();
    // The plan: residual only where SPET is on and the layer is not rectified.
    const plan = planNetwork(net, parseProfile(JSON.stringify({ layers: { b1b: { spet: spetT(0.5, 0) }, b2: { sdss: { stride: 2, delta: 0 } }, b1a: { spet: spetT(0.5, 0) } } }), net));
    const step = (name: string) => plan.steps.find((s) => s.layer.name === name)!;
    expect(step('b1b').residual).toEqual({ addend: b1Add.bottoms[0], sum: 'b1_add' });
    expect(step('b1b').rectified).toBe(false);
    expect(step('b2').residual).toBeUndefined();
    expect(step('b1a').residual).toBeUndefined();
  });

  it('says yes for the network input as the addend, and for the later of two parallel convolutions', async () => {
    const withInput = await loadNetwork(tempFile('i.prototxt', small(c4('a', 'data') + sum(['data', 'a']) + relu('s'))), { kind: 'synthetic', seed: 1 });
    expect(residualSum(withInput, layerNamed(withInput, 'a'))).toEqual({ addend: 'data', sum: 'add' });
    const parallel = await loadNetwork(tempFile('p.prototxt', small(c4('a', 'data') + c4('b', 'data') + sum(['a', 'b']) + relu('s'))), { kind: 'synthetic', seed: 1 });
    // b's addend a is computed before b; a's addend b only after a.
    expect(residualSum(parallel, layerNamed(parallel, 'b'))).toEqual({ addend: 'a', sum: 'add' });
    expect(residualSum(parallel, layerNamed(parallel, 'a'))).toBeNull();
  });

  const refused: ReadonlyArray<readonly [string, string]> = [
    ['coefficients other than 1', small(c4('x', 'data') + c4('a', 'x') + sum(['x', 'a'], 'coeff: 1 coeff: 2') + relu('s'))],
    ['three bottoms', small(c4('x', 'data') + c4('y', 'data') + c4('a', 'x') + sum(['x', 'y', 'a']) + relu('s'))],
    ['the addend computed after the convolution', small(c4('a', 'data') + c4('x', 'data') + sum(['x', 'a']) + relu('s'))],
    ['no ReLU after the sum', small(c4('x', 'data') + c4('a', 'x') + sum(['x', 'a']))],
    ['a product, not a sum', small(c4('x', 'data') + c4('a', 'x') + prod(['x', 'a']) + relu('s'))],
    ['the convolution summed with itself', small(c4('a', 'data') + sum(['a', 'a']) + relu('s'))],
    ['a second reader of the convolution', small(c4('x', 'data') + c4('a', 'x') + sum(['x', 'a']) + relu('s') + c4('z', 'a'))],
  ];
  for (const [why, prototxt] of refused) {
    it(`says no, and a profile with SPET there is refused: ${why}`, async () => {
      const n = await loadNetwork(tempFile('n.prototxt', prototxt), { kind: 'synthetic', seed: 1 });
      const a = layerNamed(n, 'a');
      expect(residualSum(n, a)).toBeNull();
      expect(() => validateProfile({ layers: { a: { spet: spetT(0.5, 0) } } }, n)).toThrow(/layer 'a'.*SPET needs a ReLU/);
      // The same layer takes the knobs that do not depend on the sign.
      expect(() => validateProfile({ layers: { a: { sdss: { stride: 2, delta: 0 } } } }, n)).not.toThrow();
    });
  }
});

/** A dynamic layer run alone on the dense run's blobs, with its residual addend. */
interface Case {
  readonly layer: Layer;
  readonly input: Float32Array;
  readonly addend: Float32Array;
  /** The dense layer output. */
  readonly dense: Float32Array;
}

function caseOf(name: string): Case {
  const layer = layerNamed(net, name);
  const rs = residualSum(net, layer);
  if (!rs) throw new Error(`${name} feeds no residual sum`);
  return { layer, input: blob(dense, layer.bottoms[0]), addend: blob(dense, rs.addend), dense: blob(dense, layer.tops[0]) };
}

function runCase(c: Case, effort: LayerEffort, kernels: 'reference' | 'fast' | 'wasm'): LayerRun {
  return runLayer(c.layer, [c.input], BATCH, { kernels, effort, addend: c.addend, trace: true });
}

/**
 * The semantics on one run: every terminated neuron stores -addend (so the sum is exactly 0 and
 * the ReLU after it gives 0); with SPET alone, every other neuron is the dense convolution's value.
 */
function expectResidualSemantics(c: Case, effort: LayerEffort, r: LayerRun, what: string): void {
  const y = r.outputs[0];
  const decisions = r.decisions!.neurons;
  let maxRef = 0;
  for (const v of c.dense) maxRef = Math.max(maxRef, Math.abs(v));
  let wrongTerminated = 0;
  let maxSurvivorDiff = 0;
  for (let i = 0; i < y.length; i++) {
    if (decisions[i] === NEURON_SPET_TERMINATED) {
      if (!(y[i] === -c.addend[i] && Math.max(Math.fround(y[i] + c.addend[i]), 0) === 0)) wrongTerminated++;
    } else if (!effort.sdss && !effort.sfma) {
      maxSurvivorDiff = Math.max(maxSurvivorDiff, Math.abs(y[i] - c.dense[i]));
    }
  }
  expect(wrongTerminated, `${what}: terminated neurons that do not cancel their addend`).toBe(0);
  expect(maxSurvivorDiff / maxRef, `${what}: evaluated neurons vs the dense layer`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
}

/**
 * `variant` against the reference on one case: the neurons decided alike are within the parity
 * tolerance; `exactDecisions` (the fast and wasm neuron-mode kernels add the reference's terms in
 * its order) asks for identical decisions, counters and outputs, otherwise (float32 tile kernels)
 * decisions may differ within rounding of a threshold, at most DYNAMIC_DECISION_TOLERANCE of them.
 */
function expectParity(c: Case, effort: LayerEffort, ref: LayerRun, variant: 'fast' | 'wasm', exactDecisions: boolean): number {
  const what = `${c.layer.name} ${variant} ${JSON.stringify(effort)}`;
  const r = runCase(c, effort, variant);
  expectResidualSemantics(c, effort, r, what);
  const a = ref.decisions!.neurons;
  const b = r.decisions!.neurons;
  let differ = 0;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref.outputs[0][i]));
    if (a[i] !== b[i]) {
      differ++;
      continue;
    }
    maxDiff = Math.max(maxDiff, Math.abs(ref.outputs[0][i] - r.outputs[0][i]));
  }
  if (exactDecisions) expect(differ, `${what}: neurons decided differently`).toBe(0);
  expect(differ / a.length, `${what}: ${differ} neurons decided differently`).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
  if (differ === 0) {
    expect(maxDiff / Math.max(1e-6, maxRef), `${what}: relative error`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    expect(r.counters.macsExecuted, what).toBe(ref.counters.macsExecuted);
    expect(r.counters.mechanisms, what).toEqual(ref.counters.mechanisms);
  } else {
    expect(Math.abs(r.counters.macsExecuted - ref.counters.macsExecuted) / ref.counters.macsDense, what).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE * 10);
  }
  return differ;
}

/** The reference run of a case, its semantics checked. */
function referenceRun(c: Case, effort: LayerEffort): LayerRun {
  const ref = runCase(c, effort, 'reference');
  expectResidualSemantics(c, effort, ref, `${c.layer.name} reference ${JSON.stringify(effort)}`);
  return ref;
}

describe('SPET through a residual sum, one layer on every CPU kernel', () => {
  const sdss = { stride: 2, delta: 0.05 };
  const sfma = { epsilon: 0.05 };
  const neuron: LayerEffort[] = [
    { spet: spetT(0.5, 0) },
    { spet: spetT(0.25, 0.3) },
    { spet: spetX(0.5) },
    { spet: spetT(0.5, 0), sdss },
    { spet: spetT(0.5, 0), sfma },
    { spet: spetX(0.5), sdss, sfma },
    { spet: spetT(0.5, 0.2), sdss: { stride: 3, delta: 0.1 }, sfma },
  ];
  const tiled = (t: number): LayerEffort[] => {
    const tile = { positions: t };
    return [
      { spet: spetT(0.5, 0.5), tile },
      { spet: spetX(0.5), tile },
      { spet: spetT(0.5, 0.5), sdss, tile },
      { spet: spetT(0.5, 0.5), sfma, tile },
      { spet: spetT(0.25, 0.3), sdss, sfma, tile },
    ];
  };

  for (const name of ['b1b', 'b2']) {
    it(`${name}, neuron mode: fast and wasm take the reference's decisions; SPET terminates, and terminated neurons cancel the addend`, () => {
      const c = caseOf(name);
      let terminated = 0;
      let exactTerminated = 0;
      for (const effort of neuron) {
        const ref = referenceRun(c, effort);
        for (const variant of ['fast', 'wasm'] as const) expectParity(c, effort, ref, variant, true);
        terminated += ref.counters.mechanisms?.spet?.terminated ?? 0;
        if (effort.spet?.mode === 'exact') exactTerminated += ref.counters.mechanisms?.spet?.terminated ?? 0;
      }
      // A meaningful share of the neurons (threshold 0 terminates about a third here).
      expect(terminated).toBeGreaterThan(0.1 * neuron.length * BATCH * shapeSize(c.layer.outputShapes[0]));
      if (name === 'b1b') expect(exactTerminated).toBeGreaterThan(0);
    });

    it(`${name}, tile mode (8 and 1 positions): the wasm float32 tiles and the TypeScript loops against the tile reference`, () => {
      const c = caseOf(name);
      let terminated = 0;
      let differ = 0;
      let differFast = 0;
      const fitted = fitTileSpet(c.layer, c.input, BATCH, { fraction: 0.5, tilePositions: 8, lossBudget: 0.05, addend: c.addend }, 'wasm');
      const list = [...tiled(8), ...tiled(1), { spet: fitted, tile: { positions: 8 } }, { spet: fitted, sdss, tile: { positions: 8 } }];
      for (const effort of list) {
        const ref = referenceRun(c, effort);
        differ += expectParity(c, effort, ref, 'wasm', false);
        differFast += expectParity(c, effort, ref, 'fast', false);
        terminated += ref.counters.mechanisms?.spet?.terminated ?? 0;
      }
      expect(terminated).toBeGreaterThan(0.05 * list.length * BATCH * shapeSize(c.layer.outputShapes[0]));
      console.log(`${name} tile mode: ${differ} neurons decided differently by wasm (float32), ${differFast} by the TypeScript loops, and the reference (float64) over ${list.length} settings`);
    });
  }

  it('the fitted per-channel thresholds see the addend: without it they fit the raw layer and skip other tiles', () => {
    const c = caseOf('b1b');
    const fit = { fraction: 0.5, tilePositions: 8, lossBudget: 0.05 };
    const withAddend = fitTileSpet(c.layer, c.input, BATCH, { ...fit, addend: c.addend }, 'wasm');
    const without = fitTileSpet(c.layer, c.input, BATCH, fit, 'wasm');
    const thresholds = (k: SpetKnobs) => (k.mode === 'threshold' ? k.thresholds : undefined);
    expect(thresholds(withAddend)).toHaveLength(16);
    expect(thresholds(withAddend)).not.toEqual(thresholds(without));
  });

  it('an addend of the wrong size, or on an InnerProduct, is refused with the layer named', () => {
    const c = caseOf('b1b');
    expect(() => runLayer(c.layer, [c.input], BATCH, { effort: { spet: spetT(0.5, 0) }, addend: c.addend.subarray(1) })).toThrow(/layer 'b1b'.*residual sum's other operand/);
    const fc = layerNamed(net, 'fc');
    const fcInput = blob(dense, fc.bottoms[0]);
    expect(() => runLayer(fc, [fcInput], BATCH, { effort: { spet: spetT(0.5, 0) }, addend: new Float32Array(BATCH * 10) })).toThrow(
      /layer 'fc'.*applies to Convolution layers, not InnerProduct/,
    );
  });
});

/** Per layer with decisions, the neurons two runs decided differently. */
function decisionsDiffer(a: RunResult, b: RunResult): number {
  let n = 0;
  a.decisions!.forEach((d, k) => {
    const e = b.decisions![k];
    expect(e.layer).toBe(d.layer);
    for (let i = 0; i < d.neurons.length; i++) n += +(d.neurons[i] !== e.neurons[i]);
  });
  return n;
}

/** Every neuron SPET terminated in a residual convolution gives exactly 0 in its sum and after the ReLU. */
function expectTerminatedSumsZero(r: RunResult, what: string): number {
  let terminated = 0;
  for (const name of ['b1b', 'b2']) {
    const layer = layerNamed(net, name);
    const rs = residualSum(net, layer)!;
    const sumLayer = layerNamed(net, rs.sum);
    const reluLayer = net.layers.find((l) => l.bottoms[0] === sumLayer.tops[0])!;
    const decisions = r.decisions!.find((d) => d.layer === name)!.neurons;
    const y = blob(r, layer.tops[0]);
    const a = blob(r, rs.addend);
    const s = blob(r, sumLayer.tops[0]);
    const out = blob(r, reluLayer.tops[0]);
    let bad = 0;
    for (let i = 0; i < decisions.length; i++) {
      if (decisions[i] !== NEURON_SPET_TERMINATED) continue;
      terminated++;
      if (!(y[i] === -a[i] && s[i] === 0 && out[i] === 0)) bad++;
    }
    expect(bad, `${what} ${name}: terminated neurons whose sum is not exactly 0`).toBe(0);
  }
  return terminated;
}

describe('SPET through a residual sum, whole network on every CPU backend', () => {
  for (const mode of ['neuron', 'tile'] as const) {
    for (const spet of ['threshold', 'exact'] as const) {
      it(`${mode} mode, ${spet} SPET: reference, fast, wasm and 2 threads (batches of ${BATCH} and 1) agree`, async () => {
        const effort = residualSpetProfile(net, mode, spet);
        const options = { effort, traceDecisions: true, keepBlobs: true } as const;
        const reference = new CpuBackend({ kernels: 'reference' });
        const ref = reference.runSync(net, input, BATCH, options);
        const terminated = expectTerminatedSumsZero(ref, 'reference');
        if (spet === 'threshold') expect(terminated).toBeGreaterThan(1000);
        if (spet === 'exact' && mode === 'neuron') expect(terminated).toBeGreaterThan(0);
        const executed = ref.counters.reduce((s, c) => s + c.macsExecuted, 0);
        expect(executed).toBeLessThan(ref.counters.reduce((s, c) => s + c.macsDense, 0));
        if (spet === 'exact') {
          // Exact SPET skips only what the ReLU after the sum would zero: the dense network's outputs.
          expect(relativeError(ref.output, dense.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
        }
        const first = input.subarray(0, shapeSize(net.inputShape));
        const ref1 = reference.runSync(net, first, 1, options);
        const parallel = await ParallelBackend.create({ threads: 2 });
        try {
          const runs: Array<readonly [string, RunResult, RunResult]> = [
            ['fast', await new CpuBackend({ kernels: 'fast' }).run(net, input, BATCH, options), ref],
            ['wasm', await new CpuBackend({ kernels: 'wasm' }).run(net, input, BATCH, options), ref],
            ['2 threads', await parallel.run(net, input, BATCH, options), ref],
            ['2 threads, 1 image', await parallel.run(net, first, 1, options), ref1],
          ];
          // Neuron mode splits b1b (threshold SPET with SDSS, 2.4 M MACs) by output channels across both threads.
          if (mode === 'neuron' && spet === 'threshold') expect(parallel.threadsUsed).toBe(2);
          for (const [what, r, expected] of runs) {
            expectTerminatedSumsZero(r, what);
            const differ = decisionsDiffer(expected, r);
            // Only the wasm tile kernels sum in float32: every other path decides as the reference.
            if (!(mode === 'tile' && what === 'wasm')) expect(differ, `${what}: neurons decided differently`).toBe(0);
            const neurons = expected.decisions!.reduce((n, d) => n + d.neurons.length, 0);
            expect(differ / neurons, what).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
            if (differ === 0) {
              expect(relativeError(r.output, expected.output), what).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
              expect(r.counters.map((c) => c.macsExecuted), what).toEqual(expected.counters.map((c) => c.macsExecuted));
            }
          }
        } finally {
          await parallel.close();
        }
      });
    }
  }
});

describe('calibration of SPET on a residual convolution', () => {
  it('measures SPET candidates on b1b with its addend (neuron and tile modes), each a valid profile entry', async () => {
    const b1b = layerNamed(net, 'b1b');
    expect(applicable(net, b1b, 'spet')).toBe(true);
    expect(applicable(net, layerNamed(net, 'b1_add'), 'spet')).toBe(false);
    const probe: Probe = {
      batch: BATCH, blobs: dense.blobs!, networkOps: dense.counters.reduce((n, c) => n + c.macsExecuted + c.otherOps, 0),
    };
    for (const options of [{}, { mode: 'tile', tilePositions: [8] }] as const) {
      const s = await layerSensitivity(net, b1b, probe, ['spet'], options);
      expect(s.front.length, JSON.stringify(options)).toBeGreaterThan(0);
      for (const o of s.front) {
        expect(o.effort.spet).toBeDefined();
        expect(o.saved).toBeGreaterThan(0);
        expect(Number.isFinite(o.error)).toBe(true);
        expect(() => validateProfile({ layers: { b1b: o.effort } }, net)).not.toThrow();
      }
      // The mildest option moves the logits little: the errors are measured after the sum and ReLU.
      expect(s.front[0].error).toBeLessThan(0.5);
    }
  });
});
