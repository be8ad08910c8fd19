import { describe, expect, it } from 'vitest';
import type { LayerCounters } from '../src/records/counters.js';
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.js';
import { cifar10Dataset, imageFolderDataset, type Dataset } from '../src/data/dataset.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import type { Layer, Network } from '../src/ir/network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA, SQUEEZENET_NET, SQUEEZENET_PROTOTXT } from './helpers/files.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

interface Captured {
  readonly layer: Layer;
  readonly inputs: Float32Array[];
  readonly outputs: Float32Array[];
  readonly counters: LayerCounters;
}

/**
 * Runs the reference backend on real images, keeping every layer's exact inputs and outputs, then
 * runs the fast kernel of each layer on those same inputs: each layer is compared on its own, so an
 * error cannot hide behind (or be blamed on) an earlier layer.
 */
async function checkEveryLayer(net: Network, dataset: Dataset, batch: number): Promise<string[]> {
  const { input } = await dataset.batch(0, batch);
  const captured: Captured[] = [];
  const reference = new CpuBackend({ kernels: 'reference' });
  const ref = reference.runSync(net, input, batch, {
    onLayer: (layer, inputs, outputs, counters) => captured.push({ layer, inputs: inputs.map((a) => a.slice()), outputs: outputs.map((a) => a.slice()), counters }),
  });
  const checked: string[] = [];
  for (const c of captured) {
    const fast = runLayer(c.layer, c.inputs, batch, { kernels: 'fast' });
    c.outputs.forEach((expected, i) => {
      const err = relativeError(fast.outputs[i], expected);
      expect(err, `${c.layer.name} (${c.layer.params.type}) top ${i}: relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
    });
    expect(fast.counters.macsExecuted, c.layer.name).toBe(fast.counters.macsDense);
    expect(c.counters.macsExecuted, c.layer.name).toBe(c.counters.macsDense);
    checked.push(c.layer.name);
  }
  // The whole fast network agrees too (errors compound across layers: same bar on the output).
  const fastRun = await new CpuBackend().run(net, input, batch);
  expect(relativeError(fastRun.output, ref.output)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
  expect(fastRun.counters.map((c) => c.macsExecuted)).toEqual(ref.counters.map((c) => c.macsExecuted));
  return checked;
}

describe('fast dense path equals the reference on every layer of the real models', () => {
  it('cifar10-quick, 4 CIFAR-10 test images', async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
    const data = await cifar10Dataset(`${DATA}/cifar10/test_batch.bin`, { channels: 'rgb', mean }, net.inputShape);
    const checked = await checkEveryLayer(net, data, 4);
    expect(checked).toEqual(net.layers.map((l) => l.name));
  });

  it('squeezenet-dc, 2 ImageNet samples', async () => {
    const net = await loadNetwork(SQUEEZENET_PROTOTXT, { kind: 'file', path: SQUEEZENET_NET });
    const data = await imageFolderDataset(`${DATA}/imagenet-sample`,
      { resize: { width: 256, height: 256 }, crop: 227, channels: 'bgr', mean: { values: [104, 117, 123] } }, net.inputShape);
    const checked = await checkEveryLayer(net, data, 2);
    expect(checked).toHaveLength(net.layers.length);
  });
});
