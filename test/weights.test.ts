import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DyveError, ModelFormatError } from '../src/errors.js';
import { decodeMeanBinaryproto } from '../src/formats/caffe/binaryproto.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import { layerMacs } from '../src/ir/layer-metrics.js';
import { isWeighted } from '../src/ir/network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA, editedText, SQUEEZENET_NET, SQUEEZENET_PROTOTXT, tempFile } from './helpers/files.js';

const totalMacs = (net: Awaited<ReturnType<typeof loadNetwork>>) => net.layers.reduce((s, l) => s + layerMacs(l), 0);

describe('real models load exactly', () => {
  it('cifar10-quick: V1 caffemodel with legacy blob shapes', async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    expect(totalMacs(net)).toBe(12_354_176);
    const conv1 = net.layers.find((l) => l.name === 'conv1');
    expect(conv1?.weights?.weight.length).toBe(32 * 3 * 5 * 5);
    expect(conv1?.weights?.bias?.length).toBe(32);
    const ip1 = net.layers.find((l) => l.name === 'ip1');
    expect(ip1?.weights?.weight.length).toBe(64 * 64 * 4 * 4);
    expect(net.layers.filter(isWeighted).every((l) => l.weights)).toBe(true);
  });

  it('squeezenet-dc: the Deep Compression file decodes to 1,244,448 weights, 415,921 non-zero', async () => {
    const net = await loadNetwork(SQUEEZENET_PROTOTXT, { kind: 'file', path: SQUEEZENET_NET });
    const weighted = net.layers.filter(isWeighted);
    expect(weighted).toHaveLength(26);
    let count = 0;
    let nonZero = 0;
    for (const l of weighted) {
      const w = l.weights?.weight ?? new Float32Array();
      count += w.length;
      for (const v of w) if (v !== 0) nonZero++;
    }
    expect(count).toBe(1_244_448);
    expect(nonZero).toBe(415_921);
    expect(totalMacs(net)).toBe(861_339_936);
  });

  it('reads mean.binaryproto (legacy 1x3x32x32)', async () => {
    const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
    expect(mean.shape).toEqual({ c: 3, h: 32, w: 32 });
    expect(mean.image.length).toBe(3072);
    const avg = mean.image.reduce((s, v) => s + v, 0) / mean.image.length;
    expect(avg).toBeGreaterThan(100);
    expect(avg).toBeLessThan(140);
    expect(() => decodeMeanBinaryproto(new Uint8Array([0x0a, 0xff, 0xff]), 'bad.binaryproto')).toThrow('bad.binaryproto: not a readable Caffe BlobProto');
  });
});

describe('bad weights give specific errors', () => {
  const caffemodel = readFileSync(CIFAR_CAFFEMODEL);
  const dcnet = readFileSync(SQUEEZENET_NET);

  it('truncated caffemodel', async () => {
    for (const keep of [1000, 300_000, caffemodel.length - 7]) {
      const path = tempFile('cut.caffemodel', caffemodel.subarray(0, keep));
      const err = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as Error).message).toMatch(/truncated or corrupt/);
    }
  });

  it('blob shape mismatch names the layer and the blob', async () => {
    const prototxt = tempFile('wide.prototxt', editedText(CIFAR_PROTOTXT, 'num_output: 64\n    pad: 2', 'num_output: 48\n    pad: 2'));
    await expect(loadNetwork(prototxt, { kind: 'file', path: CIFAR_CAFFEMODEL })).rejects.toThrow(
      "layer 'conv3' blob 0 (weights) has shape 64x32x5x5 but the prototxt implies 48x32x5x5");
  });

  it('a weights file for another network', async () => {
    await expect(loadNetwork(SQUEEZENET_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL, format: 'caffemodel' })).rejects.toThrow(
      /only 1 of 26 of the network's weighted layers are in it: it holds weights for 'CIFAR10_quick' .* is it the weights file of another network\?/);
    await expect(loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: SQUEEZENET_NET })).rejects.toThrow("layer 'conv1': entry 288 of 13902 lands at weight 2406, beyond its 2400 weights; the file does not match this network");
  });

  it('.net file too short or too long', async () => {
    const short = tempFile('short.net', dcnet.subarray(0, dcnet.length - 100));
    await expect(loadNetwork(SQUEEZENET_PROTOTXT, { kind: 'file', path: short })).rejects.toThrow(
      /too short: ends inside the gaps of layer 'conv_final' \(needs 100 more bytes\)/);
    const long = tempFile('long.net', Buffer.concat([dcnet, Buffer.alloc(3)]));
    await expect(loadNetwork(SQUEEZENET_PROTOTXT, { kind: 'file', path: long })).rejects.toThrow(
      "too long: 3 bytes left over after the last layer ('conv_final')");
    const tiny = tempFile('tiny.net', dcnet.subarray(0, 10));
    await expect(loadNetwork(SQUEEZENET_PROTOTXT, { kind: 'file', path: tiny })).rejects.toThrow('too short: 10 bytes cannot hold the header of 26 layers');
  });

  it('missing files', async () => {
    await expect(loadNetwork('/nonexistent/net.prototxt', { kind: 'none' })).rejects.toThrow('prototxt not found: /nonexistent/net.prototxt');
    await expect(loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: '/nonexistent/w.caffemodel' })).rejects.toThrow(DyveError);
    await expect(loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: '/nonexistent/w.caffemodel' })).rejects.toThrow('weights file not found: /nonexistent/w.caffemodel');
  });
});
