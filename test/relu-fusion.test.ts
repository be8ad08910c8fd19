import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, fusesRelu, runLayer } from '../src/backends/cpu/cpu-backend.js';
import { initWasmKernels } from '../src/backends/cpu/wasm/wasm-loader.js';
import { loadProfile } from '../src/effort/load-profile.js';
import type { EffortProfile } from '../src/effort/profile.js';
import { parseNetwork } from '../src/formats/parse-network.js';
import type { Network } from '../src/ir/network.js';
import { shapeSize } from '../src/ir/network.js';
import type { RunResult } from '../src/backends/backend.js';
import { loadRealModels, type RealModels } from './helpers/models.js';
import { randomArray } from './helpers/synthetic-layers.js';

let models: RealModels;
beforeAll(async () => {
  await initWasmKernels();
  models = await loadRealModels();
});

const wasm = new CpuBackend({ kernels: 'wasm' });

/**
 * The run with the ReLUs fused into the wasm kernels against the same run observed layer by
 * layer (onLayer: nothing is fused, every ReLU layer runs): the same bits, the same counters.
 */
function expectFusedEqualsUnfused(net: Network, input: Float32Array, batch: number, effort?: EffortProfile): RunResult {
  const fused = wasm.runSync(net, input, batch, { effort });
  const unfused = wasm.runSync(net, input, batch, { effort, onLayer: () => {} });
  expect(fused.output.length).toBe(unfused.output.length);
  expect(fused.output.every((v, i) => Object.is(v, unfused.output[i]))).toBe(true);
  expect(fused.counters).toEqual(unfused.counters);
  return fused;
}

describe('ReLU fused into the wasm kernels', () => {
  it('cifar10-quick, dense and its tile profile: bit for bit the unfused run, the same counters', async () => {
    const { input } = await models.cifarTest.batch(0, 16);
    expectFusedEqualsUnfused(models.cifar, input, 16);
    expectFusedEqualsUnfused(models.cifar, input, 16, await loadProfile('models/cifar10-quick/effort.json', models.cifar));
  });

  it('squeezenet-dc, dense: every ReLU after a convolution, the same bits', async () => {
    const { input } = await models.imagenet.batch(0, 1);
    expectFusedEqualsUnfused(models.squeezenet, input, 1);
  });

  it('an InnerProduct with a leaky ReLU: the slope applies, and the ReLU counts its two ops per value', () => {
    const net = parseNetwork(`name: "ip-relu" input: "data" input_dim: 3 input_dim: 20 input_dim: 1 input_dim: 1
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 13 } }
layer { name: "leaky" type: "ReLU" bottom: "fc" top: "fc" relu_param { negative_slope: 0.1 } }
layer { name: "out" type: "InnerProduct" bottom: "fc" top: "out" inner_product_param { num_output: 4 } }
`, 'ip-relu.prototxt', { kind: 'synthetic', seed: 3 });
    const r = expectFusedEqualsUnfused(net, randomArray(3 * 20, 9), 3);
    expect(r.counters.find((c) => c.name === 'leaky')).toMatchObject({ type: 'ReLU', otherOps: 2 * 3 * 13 });
  });

  it('runs only where the kernel can: wasm dense Convolution / InnerProduct and wasm tile mode', async () => {
    const conv = models.cifar.layers.find((l) => l.name === 'conv2')!;
    const tile = (await loadProfile('models/cifar10-quick/effort.json', models.cifar)).layers.conv2;
    const neuron = (await loadProfile('models/cifar10-quick/effort-neuron.json', models.cifar)).layers.conv2;
    expect(fusesRelu(conv, 'wasm', undefined)).toBe(true);
    expect(fusesRelu(conv, 'wasm', tile)).toBe(true);
    expect(fusesRelu(conv, 'wasm', neuron)).toBe(false);
    expect(fusesRelu(conv, 'fast', undefined)).toBe(false);
    const pool = models.cifar.layers.find((l) => l.name === 'pool1')!;
    expect(fusesRelu(pool, 'wasm', undefined)).toBe(false);
    const x = randomArray(shapeSize(conv.inputShapes[0]), 4);
    expect(() => runLayer(conv, [x], 1, { kernels: 'fast', reluSlope: 0 })).toThrow(/the fast Convolution kernel cannot run the ReLU after it/);
    expect(() => runLayer(conv, [x], 1, { kernels: 'wasm', effort: neuron, reluSlope: 0 })).toThrow(/cannot run the ReLU after it/);
    // In the kernel, the output is rectified: no negative value is left.
    const fused = runLayer(conv, [x], 1, { kernels: 'wasm', reluSlope: 0 }).outputs[0];
    const plain = runLayer(conv, [x], 1, { kernels: 'wasm' }).outputs[0];
    expect(fused.every((v, i) => v === Math.max(plain[i], 0))).toBe(true);
  });
});
