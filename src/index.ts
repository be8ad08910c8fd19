/**
 * dyvedeep: run trained Caffe CNNs with dynamic variable effort.
 *
 * Data flows one way: load (formats/) -> IR (ir/) -> execute (backends/) -> report (evaluation/).
 *
 * @example
 * ```ts
 * import { loadNetwork, CpuBackend } from 'dyvedeep';
 * const net = await loadNetwork('deploy.prototxt', { kind: 'file', path: 'weights.caffemodel' });
 * const { output, counters } = await new CpuBackend().run(net, input, 1);
 * ```
 */
export { DyveError, ModelFormatError, NetworkError, DataError } from './errors.js';
export type { Network, Layer, LayerParams, LayerType, LayerWeights, Shape } from './ir/network.js';
export { shapeSize, formatShape, isWeighted } from './ir/network.js';
export { layerMacs, layerBlobShapes, layerParameterCount } from './ir/build-network.js';
export { loadNetwork, loadPrototxt, weightsFormatOf, type WeightsSource, type WeightsFormat } from './formats/load-network.js';
export { loadMeanBinaryproto, decodeMeanBinaryproto, type MeanImage } from './formats/caffe/binaryproto.js';
export type { Backend, RunResult, RunOptions, LayerCounters } from './backends/backend.js';
export { CpuBackend } from './backends/cpu/cpu-backend.js';
export type { DispatchRecord } from './backends/backend.js';
export { WebGpuBackend, type WebGpuBackendOptions, type GpuLayerRun } from './backends/webgpu/webgpu-backend.js';
export { openGpu, NoAdapterError, DeviceLostError, type GpuContext } from './backends/webgpu/gpu-context.js';
export { ShaderCompilationError } from './backends/webgpu/pipelines.js';
export { setShaderLoader, type ShaderLoader } from './backends/webgpu/shader-loader.js';
export { openBackend, FallbackBackend, BACKEND_NAMES, type BackendName, type OpenedBackend } from './backends/select-backend.js';
export { evaluate, type Evaluation, type EvaluateOptions } from './evaluation/evaluate.js';
export { argmax, topK, rankOfLabel } from './evaluation/top-k.js';
export { cifar10Dataset, imageFolderDataset, subset, limit, type Dataset, type DatasetBatch } from './data/dataset.js';
export { toNetworkInput, type Preprocess } from './data/preprocess.js';
export { decodeImage, readImage, type RgbImage } from './data/image-decode.js';
export { resolveDataDir } from './data/data-dir.js';
export { zooEntry, zooModelNames, type ZooEntry } from './zoo/zoo.js';
