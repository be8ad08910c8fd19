/**
 * A NaN or infinite value never passes for a prediction: NaN ranks last, a non-finite weight
 * fails at load, and an evaluation whose scores go non-finite stops naming the first layer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { inMemoryDataset } from '../src/data/in-memory-dataset.js';
import { ModelFormatError, NumericError } from '../src/errors.js';
import { evaluate } from '../src/evaluation/evaluate.js';
import { argmax, rankOfLabel, topK } from '../src/evaluation/top-k.js';
import { attachCaffemodelWeights, decodeCaffemodel } from '../src/formats/caffe/caffemodel.js';
import { loadNetwork, loadPrototxt } from '../src/formats/load-network.js';
import { shapeSize } from '../src/ir/network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT } from './helpers/files.js';

describe('non-finite values', () => {
  it('rank NaN as the worst score', () => {
    const scores = Float32Array.of(NaN, 0.2, NaN, 0.5);
    expect(rankOfLabel(scores, 0, 4, 0)).toBe(4);
    expect(rankOfLabel(scores, 0, 4, 1)).toBe(1);
    expect(rankOfLabel(scores, 0, 4, 3)).toBe(0);
    expect(argmax(scores, 0, 4)).toBe(3);
    expect(argmax(Float32Array.of(NaN, NaN), 0, 2)).toBe(0);
    expect(topK(scores, 0, 4, 4)).toEqual([3, 1, 0, 2]);
  });

  it('fail at load when a caffemodel holds a NaN or an infinity, naming the layer, blob and index', async () => {
    for (const [layer, blob, index, value] of [['conv2', 0, 17, NaN], ['ip1', 1, 3, Infinity]] as const) {
      const weights = decodeCaffemodel(readFileSync(CIFAR_CAFFEMODEL), 'w.caffemodel');
      weights.layers.get(layer)![blob].data[index] = value;
      const net = await loadPrototxt(CIFAR_PROTOTXT);
      expect(() => attachCaffemodelWeights(net, weights)).toThrow(ModelFormatError);
      expect(() => attachCaffemodelWeights(net, weights))
        .toThrow(`w.caffemodel: layer '${layer}' ${blob === 0 ? 'weights' : 'bias'}[${index}] is ${value}: the file is corrupt`);
    }
  });

  it('stop an evaluation whose scores go non-finite, naming the first layer whose output did', async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    // A weight poisoned after load (as a kernel bug or a bit flip in memory would).
    net.layers.find((l) => l.name === 'conv2')!.weights!.weight[0] = NaN;
    const images = inMemoryDataset({ name: 'ramp', inputShape: net.inputShape, inputs: Float32Array.from({ length: 3 * shapeSize(net.inputShape) }, (_, i) => (i % 255) / 255), labels: [0, 1, 2] });
    const error = await evaluate(net, images, new CpuBackend(), { batch: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NumericError);
    expect((error as Error).message).toBe("image 0: the network's scores are not finite (NaN or infinite); the first layer whose output does is 'conv2' (Convolution): check the weights and the input");
  });
});
