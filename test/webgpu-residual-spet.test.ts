/**
 * SPET through a residual sum on WebGPU (both dynamic paths: the per-neuron
 * shaders/dynamic/convolution.wgsl and the tile-mode tile-convolution.wgsl): a Convolution whose
 * only reader is Eltwise SUM(conv, addend) then a ReLU tests partial + bias + addend and stores
 * -addend for a terminated neuron (PlannedLayer.residual; the scheduler binds the addend blob's
 * buffer). Checked against the CPU reference backend on the residual network of
 * residual-spet.test.ts: whole-network runs (neuron and tile modes, threshold and exact SPET,
 * composed with SDSS and SFMA) with near-threshold decisions counted and bounded, and the residual
 * convolutions run alone with their addend, where every terminated neuron must hold -addend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.js';
import type { RunResult } from '../src/backends/backend.js';
import type { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import type { LayerEffort, SpetKnobs } from '../src/effort/effort.js';
import { loadNetwork } from '../src/formats/load-network.js';
import { shapeSize, type Layer, type Network } from '../src/ir/network.js';
import { residualSum } from '../src/ir/relu-reach.js';
import { NEURON_SPET_TERMINATED } from '../src/records/decisions.js';
import { tempFile } from './helpers/files.js';
import { openTestGpu } from './helpers/gpu.js';
import { RESIDUAL_SPET_NET, residualSpetProfile } from './helpers/residual-nets.js';
import { randomArray } from './helpers/synthetic-layers.js';
import { DYNAMIC_DECISION_TOLERANCE, PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

const BATCH = 3;
const spetT = (fraction: number, threshold: number): SpetKnobs => ({ mode: 'threshold', fraction, threshold });

let net: Network;
let input: Float32Array;
let gpu: WebGpuBackend;
let dense: RunResult;

beforeAll(async () => {
  net = await loadNetwork(tempFile('webgpu-residual-spet.prototxt', RESIDUAL_SPET_NET), { kind: 'synthetic', seed: 5 });
  input = randomArray(BATCH * shapeSize(net.inputShape), 21, 1).map((v) => Math.abs(v));
  dense = new CpuBackend({ kernels: 'reference' }).runSync(net, input, BATCH, { keepBlobs: true });
  gpu = await openTestGpu();
});

afterAll(() => gpu?.destroy());

const layerNamed = (name: string): Layer => net.layers.find((l) => l.name === name)!;

describe('SPET through a residual sum on WebGPU', () => {
  it('the planned residual convolutions are b1b and b2', () => {
    expect(residualSum(net, layerNamed('b1b'))?.sum).toBe('b1_add');
    expect(residualSum(net, layerNamed('b2'))?.sum).toBe('b2_add');
  });

  for (const mode of ['neuron', 'tile'] as const) {
    for (const spet of ['threshold', 'exact'] as const) {
      it(`${mode} mode, ${spet} SPET, whole network: the reference's decisions, outputs and MACs`, async () => {
        const effort = residualSpetProfile(net, mode, spet);
        const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, BATCH, { effort, traceDecisions: true });
        const g = await gpu.run(net, input, BATCH, { effort, traceDecisions: true });
        let differ = 0;
        let neurons = 0;
        ref.decisions!.forEach((d, k) => {
          const e = g.decisions![k];
          expect(e.layer).toBe(d.layer);
          neurons += d.neurons.length;
          for (let i = 0; i < d.neurons.length; i++) differ += +(d.neurons[i] !== e.neurons[i]);
        });
        expect(differ / neurons, `${differ} neurons decided differently`).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
        const terminated = (r: RunResult) => ['b1b', 'b2'].reduce((n, name) => n + (r.counters.find((c) => c.name === name)!.mechanisms?.spet?.terminated ?? 0), 0);
        if (spet === 'threshold') expect(terminated(ref)).toBeGreaterThan(1000);
        expect(Math.abs(terminated(g) - terminated(ref))).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE * neurons);
        if (differ === 0) {
          expect(relativeError(g.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
          expect(g.counters.map((c) => c.macsExecuted)).toEqual(ref.counters.map((c) => c.macsExecuted));
        }
        // Exact SPET only skips what the ReLU after the sum zeroes: the dense outputs.
        if (spet === 'exact') expect(relativeError(g.output, dense.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
      });
    }
  }

  for (const mode of ['neuron', 'tile'] as const) {
    it(`${mode} mode, residual convolutions alone with their addend: terminated neurons hold -addend, as on the reference`, async () => {
      let terminated = 0;
      for (const name of ['b1b', 'b2']) {
        const layer = layerNamed(name);
        const x = dense.blobs!.get(layer.bottoms[0])!;
        const addend = dense.blobs!.get(residualSum(net, layer)!.addend)!;
        const effort: LayerEffort = { spet: spetT(0.5, mode === 'tile' ? 0.5 : 0), ...(mode === 'tile' ? { tile: { positions: 8 } } : {}) };
        const ref = runLayer(layer, [x], BATCH, { kernels: 'reference', effort, addend, trace: true });
        const g = await gpu.runLayer(layer, [x], BATCH, { effort, addend, trace: true });
        const refD = ref.decisions!.neurons;
        const gD = g.decisions!.neurons;
        let differ = 0;
        for (let i = 0; i < refD.length; i++) {
          differ += +(refD[i] !== gD[i]);
          if (gD[i] === NEURON_SPET_TERMINATED) {
            terminated++;
            expect(g.outputs[0][i], `${name} neuron ${i}`).toBe(-addend[i]);
          }
        }
        expect(differ / refD.length, `${name}: ${differ} neurons decided differently`).toBeLessThanOrEqual(DYNAMIC_DECISION_TOLERANCE);
        // Without the addend the same knobs decide otherwise: the addend really enters the test.
        const plain = await gpu.runLayer(layer, [x], BATCH, { effort });
        expect(plain.counters.mechanisms?.spet?.terminated, name).not.toBe(g.counters.mechanisms?.spet?.terminated);
      }
      expect(terminated).toBeGreaterThan(100);
    });
  }
});
