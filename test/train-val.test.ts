/**
 * Training prototxts as model-zoo pages ship them (issue 18): a train_val / train_test prototxt runs
 * as its TEST phase, the data layer replaced by an input, accuracy and loss layers dropped and
 * SoftmaxWithLoss run as Softmax, with one notice line; outputs bit-identical to the deploy
 * prototxt's on real CIFAR-10 images.
 *
 * The train_val texts below are cifar10_quick's (Caffe's examples/cifar10/cifar10_quick_train_test
 * .prototxt, BSD-2), written by hand here in both syntaxes; the weights, mean and images are read
 * from the data directory at run time.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dyve } from './helpers/cli.js';
import { inputShapeFlag } from '../harness/model-options.js';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { cifar10Dataset } from '../src/data/dataset.js';
import type { Dataset } from '../src/data/dataset-types.js';
import { NetworkError } from '../src/errors.js';
import { loadMeanBinaryproto, loadNetwork, loadPrototxt } from '../src/formats/load-network.js';
import { parseNetwork } from '../src/formats/parse-network.js';
import type { Network } from '../src/ir/network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from './helpers/files.js';

const MEAN = join(DATA, 'cifar10/mean.binaryproto');

/** cifar10_quick's train_test prototxt in the legacy V1 syntax (`layers`, enum types, blobs_lr). */
const V1_TRAIN_VAL = `name: "CIFAR10_quick"
layers {
  name: "cifar"
  type: DATA
  top: "data"
  top: "label"
  data_param { source: "examples/cifar10/cifar10_train_lmdb" backend: LMDB batch_size: 100 }
  transform_param { mean_file: "examples/cifar10/mean.binaryproto" }
  include { phase: TRAIN }
}
layers {
  name: "cifar"
  type: DATA
  top: "data"
  top: "label"
  data_param { source: "examples/cifar10/cifar10_test_lmdb" backend: LMDB batch_size: 100 }
  transform_param { mean_file: "examples/cifar10/mean.binaryproto" }
  include { phase: TEST }
}
layers {
  name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  blobs_lr: 1 blobs_lr: 2
  convolution_param {
    num_output: 32 pad: 2 kernel_size: 5 stride: 1
    weight_filler { type: "gaussian" std: 0.0001 }
    bias_filler { type: "constant" }
  }
}
layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layers { name: "relu1" type: RELU bottom: "pool1" top: "pool1" }
layers {
  name: "conv2" type: CONVOLUTION bottom: "pool1" top: "conv2"
  blobs_lr: 1 blobs_lr: 2
  convolution_param {
    num_output: 32 pad: 2 kernel_size: 5 stride: 1
    weight_filler { type: "gaussian" std: 0.01 }
    bias_filler { type: "constant" }
  }
}
layers { name: "relu2" type: RELU bottom: "conv2" top: "conv2" }
layers { name: "pool2" type: POOLING bottom: "conv2" top: "pool2" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
layers {
  name: "conv3" type: CONVOLUTION bottom: "pool2" top: "conv3"
  blobs_lr: 1 blobs_lr: 2
  convolution_param {
    num_output: 64 pad: 2 kernel_size: 5 stride: 1
    weight_filler { type: "gaussian" std: 0.01 }
    bias_filler { type: "constant" }
  }
}
layers { name: "relu3" type: RELU bottom: "conv3" top: "conv3" }
layers { name: "pool3" type: POOLING bottom: "conv3" top: "pool3" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
layers {
  name: "ip1" type: INNER_PRODUCT bottom: "pool3" top: "ip1"
  blobs_lr: 1 blobs_lr: 2
  inner_product_param { num_output: 64 weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" } }
}
layers {
  name: "ip2" type: INNER_PRODUCT bottom: "ip1" top: "ip2"
  blobs_lr: 1 blobs_lr: 2
  inner_product_param { num_output: 10 weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" } }
}
layers { name: "accuracy" type: ACCURACY bottom: "ip2" bottom: "label" top: "accuracy" include { phase: TEST } }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip2" bottom: "label" top: "loss" }
`;

/** The same network in the current syntax (`layer`, string types, `param { lr_mult }`). */
const TRAIN_VAL = `name: "CIFAR10_quick"
layer {
  name: "cifar" type: "Data" top: "data" top: "label"
  include { phase: TRAIN }
  transform_param { mean_file: "examples/cifar10/mean.binaryproto" }
  data_param { source: "examples/cifar10/cifar10_train_lmdb" batch_size: 100 backend: LMDB }
}
layer {
  name: "cifar" type: "Data" top: "data" top: "label"
  include { phase: TEST }
  transform_param { mean_file: "examples/cifar10/mean.binaryproto" }
  data_param { source: "examples/cifar10/cifar10_test_lmdb" batch_size: 100 backend: LMDB }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 32 pad: 2 kernel_size: 5 stride: 1 weight_filler { type: "gaussian" std: 0.0001 } bias_filler { type: "constant" } }
}
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "relu1" type: "ReLU" bottom: "pool1" top: "pool1" }
layer {
  name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 32 pad: 2 kernel_size: 5 stride: 1 weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" } }
}
layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
layer {
  name: "conv3" type: "Convolution" bottom: "pool2" top: "conv3"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 64 pad: 2 kernel_size: 5 stride: 1 weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" } }
}
layer { name: "relu3" type: "ReLU" bottom: "conv3" top: "conv3" }
layer { name: "pool3" type: "Pooling" bottom: "conv3" top: "pool3" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
layer {
  name: "ip1" type: "InnerProduct" bottom: "pool3" top: "ip1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 64 weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" } }
}
layer {
  name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
  param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 10 weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" } }
}
layer { name: "accuracy" type: "Accuracy" bottom: "ip2" bottom: "label" top: "accuracy" include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
`;

const dir = mkdtempSync(join(tmpdir(), 'dyve-train-val-'));
/** Writes a prototxt into this test's temporary folder. */
function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const V1_PATH = write('cifar10_quick_train_val_v1.prototxt', V1_TRAIN_VAL);
const CURRENT_PATH = write('cifar10_quick_train_val.prototxt', TRAIN_VAL);

/** The notice line of one load (stderr by default; captured here). */
async function loadCapturing(path: string, inputShape?: [number, number, number]): Promise<{ net: Network; notices: string[] }> {
  const notices: string[] = [];
  const net = await loadNetwork(path, { kind: 'file', path: CIFAR_CAFFEMODEL }, { inputShape, notice: (l) => notices.push(l) });
  return { net, notices };
}

/** The bytes of a Float32Array, for a bit-for-bit comparison. */
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

let deploy: Network;
let images: Dataset;

beforeAll(async () => {
  deploy = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
  images = await cifar10Dataset(join(DATA, 'cifar10/test_batch.bin'), { channels: 'rgb', mean: await loadMeanBinaryproto(MEAN) }, deploy.inputShape);
});

afterEach(() => vi.restoreAllMocks());

describe('a train_val prototxt runs as its deploy network', () => {
  for (const [syntax, path] of [['legacy V1 (layers, DATA, SOFTMAX_LOSS)', V1_PATH], ['current (layer, "Data", "SoftmaxWithLoss")', CURRENT_PATH]] as const) {
    it(`${syntax}: same layers, outputs bit-identical to the deploy prototxt's on real CIFAR-10 images`, async () => {
      const { net, notices } = await loadCapturing(path, [3, 32, 32]);
      expect(notices).toHaveLength(1);
      const v1 = path === V1_PATH;
      expect(notices[0]).toBe(`dyvedeep: train_val prototxt ${path}: kept the TEST phase (dropped 1 layer outside it), `
        + `data layer 'cifar' (${v1 ? 'DATA' : 'Data'}) -> input 'data' 3x32x32 (from --input-shape), dropped its top 'label', `
        + `dropped 'accuracy' (${v1 ? 'ACCURACY' : 'Accuracy'}), 'loss' (${v1 ? 'SOFTMAX_LOSS' : 'SoftmaxWithLoss'}) -> Softmax`);

      expect(net.inputName).toBe('data');
      expect(net.inputShape).toEqual(deploy.inputShape);
      // The deploy prototxt names its last layer 'prob'; the train_val's Softmax keeps the loss's name and top.
      expect(net.layers.map((l) => l.name)).toEqual([...deploy.layers.slice(0, -1).map((l) => l.name), 'loss']);
      expect(net.layers.map((l) => l.params)).toEqual(deploy.layers.map((l) => l.params));
      expect(net.outputName).toBe('loss');
      expect([...net.blobShapes.keys()].some((b) => b.includes('label'))).toBe(false);
      net.layers.forEach((l, i) => {
        expect(l.bottoms.length).toBe(deploy.layers[i].bottoms.length);
        expect(l.weights?.weight).toEqual(deploy.layers[i].weights?.weight);
      });

      const { input } = await images.batch(0, 8);
      for (const kernels of ['fast', 'wasm'] as const) {
        const backend = new CpuBackend({ kernels });
        const a = (await backend.run(net, input, 8)).output;
        const b = (await backend.run(deploy, input, 8)).output;
        expect(a.length).toBe(80);
        expect(bits(a).equals(bits(b))).toBe(true);
      }
    });
  }

  it('takes H and W from crop_size and the channels from the caffemodel\'s first convolution', async () => {
    const path = write('crop.prototxt', V1_TRAIN_VAL.replaceAll('transform_param { mean_file', 'transform_param { crop_size: 32 mean_file'));
    const { net, notices } = await loadCapturing(path);
    expect(net.inputShape).toEqual({ c: 3, h: 32, w: 32 });
    expect(notices[0]).toContain("input 'data' 3x32x32 (H, W from its crop_size 32, channels from the weights of 'conv1')");
    // Without weights the channels are nowhere: the message says what to pass, with the known H, W.
    await expect(loadPrototxt(path)).rejects.toThrow(
      /layer 'cifar' \(DATA\): is a data layer whose crop_size 32 gives H and W, but its channel count is written only in the weights of 'conv1', which are not loaded here: pass the input's shape with --input-shape CxHxW .*e\.g\. --input-shape 3x32x32/);
    // --input-shape wins over crop_size.
    expect((await loadCapturing(path, [3, 32, 32])).notices[0]).toContain('3x32x32 (from --input-shape)');
  });

  it('without --input-shape and crop_size, fails saying to pass --input-shape (V1 DATA and "Data" alike)', async () => {
    for (const [path, type] of [[V1_PATH, 'DATA'], [CURRENT_PATH, 'Data']]) {
      const err = await loadNetwork(path, { kind: 'file', path: CIFAR_CAFFEMODEL }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetworkError);
      expect((err as Error).message).toMatch(new RegExp(`:\\d+:\\d+: layer 'cifar' \\(${type}\\): is a data layer and gives no image size \\(no crop_size\\): pass the input's shape with --input-shape CxHxW`));
    }
  });
});

/** A tiny current-syntax train_val around a data layer, synthetic weights. */
function tiny(data: string, tail = ''): string {
  return `${data}
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 5 } }
${tail}`;
}
const parseTiny = (text: string, inputShape?: [number, number, number]) => {
  const notices: string[] = [];
  const net = parseNetwork(text, 'tiny.prototxt', { kind: 'synthetic' }, { inputShape, notice: (l) => notices.push(l) });
  return { net, notice: notices[0] };
};

describe('data layers, losses and what cannot be resolved', () => {
  it('reads the shape that MemoryData, DummyData and ImageData layers declare', () => {
    expect(parseTiny(tiny('layer { name: "m" type: "MemoryData" top: "data" top: "label" memory_data_param { batch_size: 2 channels: 1 height: 9 width: 7 } }')).net.inputShape)
      .toEqual({ c: 1, h: 9, w: 7 });
    expect(parseTiny(tiny('layer { name: "d" type: "DummyData" top: "data" dummy_data_param { shape { dim: 4 dim: 2 dim: 8 dim: 6 } } }')).net.inputShape)
      .toEqual({ c: 2, h: 8, w: 6 });
    expect(parseTiny(`layers { name: "d" type: DUMMY_DATA top: "data" dummy_data_param { num: 4 channels: 3 height: 5 width: 5 } }
layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 } }`).net.inputShape)
      .toEqual({ c: 3, h: 5, w: 5 });
    const image = parseTiny(tiny('layer { name: "i" type: "ImageData" top: "data" top: "label" image_data_param { source: "list.txt" new_height: 12 new_width: 10 is_color: false } }'));
    expect(image.net.inputShape).toEqual({ c: 1, h: 12, w: 10 });
    expect(image.notice).toContain("input 'data' 1x12x10 (from its new_height/new_width 12x10 and is_color)");
    expect(parseTiny(tiny('layer { name: "i" type: "ImageData" top: "data" transform_param { crop_size: 6 } image_data_param { new_height: 12 new_width: 10 } }')).net.inputShape)
      .toEqual({ c: 3, h: 6, w: 6 });
    expect(parseTiny(tiny('layer { name: "h" type: "Data" top: "data" transform_param { crop_size: 6 force_gray: true } }')).net.inputShape)
      .toEqual({ c: 1, h: 6, w: 6 });
    expect(() => parseTiny(tiny('layer { name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "x.txt" batch_size: 4 } }')))
      .toThrow("layer 'h' (HDF5Data): is a data layer and gives no image size (no crop_size): pass the input's shape with --input-shape CxHxW");
    expect(parseTiny(tiny('layer { name: "h" type: "HDF5Data" top: "data" top: "label" }'), [2, 5, 5]).net.inputShape).toEqual({ c: 2, h: 5, w: 5 });
  });

  it('drops losses, accuracy, Silence and exclude { phase: TEST } layers; SoftmaxWithLoss with two tops writes the second', () => {
    const { net, notice } = parseTiny(tiny('layer { name: "d" type: "Data" top: "data" top: "label" }', `
layer { name: "drop" type: "Dropout" bottom: "ip" top: "ip" exclude { phase: TEST } }
layer { name: "top5" type: "Accuracy" bottom: "ip" bottom: "label" top: "top5" accuracy_param { top_k: 5 } }
layer { name: "l2" type: "EuclideanLoss" bottom: "ip" bottom: "label" top: "l2" }
layer { name: "quiet" type: "Silence" bottom: "label" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" top: "prob" loss_param { ignore_label: 1 } loss_weight: 1 }`), [3, 6, 6]);
    expect(net.layers.map((l) => `${l.name}:${l.params.type}`)).toEqual(['conv:Convolution', 'ip:InnerProduct', 'loss:Softmax']);
    expect(net.outputName).toBe('prob');
    expect(notice).toBe("dyvedeep: train_val prototxt tiny.prototxt: kept the TEST phase (dropped 1 layer outside it), data layer 'd' (Data) -> input 'data' 3x6x6 (from --input-shape), "
      + "dropped its top 'label', dropped 'top5' (Accuracy), dropped 'l2' (EuclideanLoss), dropped 'quiet' (Silence), 'loss' (SoftmaxWithLoss) -> Softmax");
  });

  it('refuses what an inference network cannot have, naming it', () => {
    const data = 'layer { name: "d" type: "Data" top: "data" top: "label" }';
    expect(() => parseTiny(tiny(data, 'layer { name: "cat" type: "Concat" bottom: "ip" bottom: "label" top: "cat" }'), [3, 6, 6]))
      .toThrow("layer 'cat' (Concat): reads 'label', the 'label' top of data layer 'd', which an inference network does not have");
    expect(() => parseTiny(tiny(data, 'layer { name: "a" type: "Accuracy" bottom: "ip" bottom: "label" top: "a" }\nlayer { name: "r" type: "ReLU" bottom: "a" top: "r" }'), [3, 6, 6]))
      .toThrow("layer 'r' (ReLU): reads 'a', the output of dropped layer 'a' (Accuracy), which an inference network does not have");
    expect(() => parseTiny(tiny(`${data}\nlayer { name: "e" type: "Data" top: "extra" }`), [3, 6, 6]))
      .toThrow("tiny.prototxt: 2 data layers in the TEST phase ('d', 'e'); dyvedeep runs networks with one input");
    expect(() => parseTiny(`input: "x" input_dim: 1 input_dim: 3 input_dim: 6 input_dim: 6\n${tiny(data)}`, [3, 6, 6]))
      .toThrow("layer 'd' (Data): a data layer beside the declared input 'x'; dyvedeep runs networks with one input");
    expect(() => parseTiny(tiny('layer { name: "d" type: "Data" top: "data" include { phase: TRAIN } }')))
      .toThrow("tiny.prototxt: the network declares no input (input + input_dim, input_shape, or an Input layer, or a TEST-phase data layer: 'd' is for training only)");
  });

  it('checks --input-shape against a deploy prototxt\'s declared input', async () => {
    expect((await loadPrototxt(CIFAR_PROTOTXT, { inputShape: [3, 32, 32] })).inputShape).toEqual({ c: 3, h: 32, w: 32 });
    await expect(loadPrototxt(CIFAR_PROTOTXT, { inputShape: [3, 28, 28] })).rejects.toThrow(
      "declares its input 'data' as 3x32x32, but --input-shape is 3x28x28: --input-shape gives the shape of a train_val prototxt's data layer");
  });
});

describe('dyve with a train_val prototxt', () => {
  it('bench --input-shape 3x32x32 gives the deploy prototxt\'s top-1 and prints the notice', async () => {
    const common = ['--weights', CIFAR_CAFFEMODEL, '--mean', MEAN, '--channels', 'rgb', '--dataset', 'cifar10', '--limit', '50', '--quiet'];
    const trainJson = join(dir, 'train-val.json');
    const deployJson = join(dir, 'deploy.json');
    const train = await dyve('bench', '--model', V1_PATH, '--input-shape', '3x32x32', ...common, '--json', trainJson);
    expect(train.code).toBe(0);
    expect(train.err).toContain(`dyvedeep: train_val prototxt ${V1_PATH}: kept the TEST phase (dropped 1 layer outside it), data layer 'cifar' (DATA) -> input 'data' 3x32x32 `
      + "(from --input-shape), dropped its top 'label', dropped 'accuracy' (ACCURACY), 'loss' (SOFTMAX_LOSS) -> Softmax");
    expect(train.err.split('\n').filter((l) => l.includes('train_val'))).toHaveLength(1);
    const deployRun = await dyve('bench', '--model', CIFAR_PROTOTXT, ...common, '--json', deployJson);
    expect(deployRun.code).toBe(0);
    const [a, b] = [trainJson, deployJson].map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(a.images).toBe(50);
    expect(a.top1).toBe(b.top1);
    expect(a.top1).toBeGreaterThan(0.5);
  });
});

describe('--input-shape', () => {
  it('is in the help of the commands that open a model', async () => {
    for (const command of ['bench', 'info', 'compare', 'calibrate', 'export']) {
      expect((await dyve(command, '--help')).out).toContain('--input-shape CxHxW');
    }
  });

  it('takes CxHxW, whole numbers in [1, 8192], and says which one is out of range', async () => {
    expect(inputShapeFlag({ 'input-shape': '3x227x227' })).toEqual([3, 227, 227]);
    expect(inputShapeFlag({})).toBeUndefined();
    const rule = '--input-shape takes CxHxW (channels, height, width), whole numbers in [1, 8192], e.g. 3x32x32';
    expect(() => inputShapeFlag({ 'input-shape': '0x32x32' })).toThrow(`${rule}; found '0x32x32' (C is 0)`);
    expect(() => inputShapeFlag({ 'input-shape': '3x32x9000' })).toThrow(`${rule}; found '3x32x9000' (W is 9000)`);
    for (const bad of ['3x32', 'abc', '3x32x32x1', '-3x32x32', '3.5x32x32', '']) {
      expect(() => inputShapeFlag({ 'input-shape': bad })).toThrow(`${rule}; found '${bad}'`);
    }
    for (const bad of ['0x32x32', '3x32', 'abc']) {
      const r = await dyve('info', '--model', V1_PATH, '--input-shape', bad);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain(`${rule}; found '${bad}'`);
    }
  });

  it('info without it names the flag; with it lists the deploy network', async () => {
    const missing = await dyve('info', '--model', CURRENT_PATH);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain("layer 'cifar' (Data): is a data layer and gives no image size (no crop_size): pass the input's shape with --input-shape CxHxW");
    const ok = await dyve('info', '--model', CURRENT_PATH, '--input-shape', '3x32x32');
    expect(ok.code).toBe(0);
    expect(ok.err).toContain("data layer 'cifar' (Data) -> input 'data' 3x32x32 (from --input-shape)");
    expect(ok.out).toMatch(/total\s+145,578\s+12,354,176/);
  });
});
