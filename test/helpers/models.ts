import { cifar10Dataset, imageFolderDataset } from '../../src/data/dataset.js';
import type { Dataset } from '../../src/data/dataset-types.js';
import { loadMeanBinaryproto, loadNetwork } from '../../src/formats/load-network.js';
import type { Network } from '../../src/ir/network.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA, SQUEEZENET_NET, SQUEEZENET_PROTOTXT } from './files.js';

/** The two real models with their test data, preprocessed as the zoo declares. */
export interface RealModels {
  readonly cifar: Network;
  /** The CIFAR-10 test batch. */
  readonly cifarTest: Dataset;
  readonly squeezenet: Network;
  /** The ImageNet sample. */
  readonly imagenet: Dataset;
}

/** Loads cifar10-quick and squeezenet-dc from the data directory, with their data sets. */
export async function loadRealModels(): Promise<RealModels> {
  const cifar = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
  const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
  const cifarTest = await cifar10Dataset(`${DATA}/cifar10/test_batch.bin`, { channels: 'rgb', mean }, cifar.inputShape);
  const squeezenet = await loadNetwork(SQUEEZENET_PROTOTXT, { kind: 'file', path: SQUEEZENET_NET });
  const imagenet = await imageFolderDataset(`${DATA}/imagenet-sample`,
    { resize: { width: 256, height: 256 }, crop: 227, channels: 'bgr', mean: { values: [104, 117, 123] } }, squeezenet.inputShape);
  return { cifar, cifarTest, squeezenet, imagenet };
}
