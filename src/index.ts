/**
 * dyvedeep: run trained Caffe CNNs with dynamic variable effort — the Node (and Deno) entry: the
 * portable API of browser.ts plus file access (networks, profiles, images and datasets on disk)
 * and the model zoo.
 *
 * @example
 * ```ts
 * import { loadNetwork, CpuBackend } from 'dyvedeep';
 * const net = await loadNetwork('deploy.prototxt', { kind: 'file', path: 'weights.caffemodel' });
 * // or an ONNX model, weights inside: await loadNetwork('model.onnx', { kind: 'none' })
 * const { output, counters } = await new CpuBackend().run(net, input, 1);
 * ```
 */
export * from './browser.js';
export { loadNetwork, loadPrototxt, loadMeanBinaryproto, isOnnxModel, type LoadNetworkOptions, type WeightsSource } from './formats/load-network.js';
export { loadOnnxNetwork, type LoadOnnxOptions } from './formats/onnx/import/load-onnx.js';
export { loadProfile } from './effort/load-profile.js';
export { cifar10Dataset, imageFolderDataset, subset, limit } from './data/dataset.js';
export { readImage, readCifar10Batch, readSynsets } from './data/data-files.js';
export { resolveDataDir } from './data/data-dir.js';
export { zooEntry, zooModelNames } from './zoo/zoo.js';
