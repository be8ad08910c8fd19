/**
 * dyvedeep's portable API: everything but file access, so it runs unchanged in browsers, Deno and
 * Node. It is the package's `browser` entry (bundles pull in no Node built-ins); the Node entry
 * (index.ts) adds the file readers, the model zoo and on-disk datasets.
 *
 * Data flows one way: parse (formats/) -> IR (ir/) -> plan (effort/) -> execute (backends/) ->
 * report (evaluation/).
 *
 * @example
 * ```ts
 * import { parseNetwork, openBackend, decodeImage, toNetworkInput, topK } from 'dyvedeep';
 * const net = parseNetwork(prototxtText, 'deploy.prototxt', { kind: 'bytes', bytes: weights, name: 'w.caffemodel' });
 * // or an ONNX model, weights inside: parseOnnxNetwork(onnxBytes, 'model.onnx')
 * const { backend } = await openBackend('auto', {}, console.warn);
 * const { output } = await backend.run(net, input, 1);
 * ```
 */
export { DyveError, ModelFormatError, NetworkError, DataError } from './errors.js';
export type { Network, Layer, LayerParams, LayerType, LayerWeights, Shape } from './ir/network.js';
export { shapeSize, formatShape, isWeighted } from './ir/network.js';
export { layerMacs, layerBlobShapes, layerParameterCount } from './ir/layer-metrics.js';
export { parseNetwork, weightsFormatOf, type ParseNetworkOptions, type WeightsData, type WeightsFormat } from './formats/parse-network.js';
export { memoryLimit, setMemoryLimit, type MemoryLimit } from './ir/memory-limit.js';
export { checkMemoryNeed, MAX_TENSOR_VALUES } from './ir/memory-need.js';
export { implausibleWeights, PLAUSIBLE_WEIGHT_MAGNITUDE } from './formats/finite-weights.js';
export { decodeMeanBinaryproto, type MeanImage } from './formats/caffe/binaryproto.js';
export { exportOnnx, ONNX_OPSET, type ExportOnnxOptions } from './formats/onnx/export-onnx.js';
export { parseOnnxNetwork, type ParseOnnxOptions } from './formats/onnx/import/import-onnx.js';
export { decodeTensor, decodeTensorBytes, type DecodedTensor, type ExternalDataReader } from './formats/onnx/import/onnx-tensor.js';
export type { Backend, RunResult, RunOptions } from './backends/backend.js';
export type { LayerCounters, MechanismStats } from './records/counters.js';
export type { DispatchRecord } from './records/dispatches.js';
export { NEURON_EVALUATED, NEURON_SPET_TERMINATED, NEURON_SDSS_INTERPOLATED, type LayerDecisions, type NeuronDecision } from './records/decisions.js';
export { CpuBackend } from './backends/cpu/cpu-backend.js';
export { WebGpuBackend, type WebGpuBackendOptions, type GpuLayerRun } from './backends/webgpu/webgpu-backend.js';
export { openGpu, NoAdapterError, DeviceLostError, type GpuContext } from './backends/webgpu/gpu-context.js';
export { ShaderCompilationError } from './backends/webgpu/pipelines.js';
export { setShaderLoader, type ShaderLoader } from './backends/webgpu/shader-loader.js';
export { openBackend, FallbackBackend, BACKEND_NAMES, type BackendName, type OpenedBackend } from './select-backend.js';
export type { LayerEffort, SpetKnobs, SdssKnobs, SdssPattern, SfmaKnobs } from './effort/effort.js';
export { DENSE_PROFILE, MECHANISMS, parseProfile, validateProfile, restrictMechanisms, type EffortProfile, type Mechanism } from './effort/profile.js';
export { scaleEffort } from './effort/scale.js';
export { evaluate, type Evaluation, type EvaluateOptions } from './evaluation/evaluate.js';
export { argmax, topK, rankOfLabel, classProbabilities } from './evaluation/top-k.js';
export type { Dataset, DatasetBatch } from './data/dataset-types.js';
export { inMemoryDataset, type InMemoryImages } from './data/in-memory-dataset.js';
export { toNetworkInput, type Preprocess } from './data/preprocess.js';
export {
  decodeImage, sniffImageFormat, DEFAULT_MAX_IMAGE_PIXELS, type DecodeImageOptions, type RgbImage, type DecodedImage, type ImageFormat,
} from './data/image-decode.js';
export { parseCifar10Batch, parseCifar10ClassNames, cifar10Image, type Cifar10Batch } from './data/cifar10.js';
export { parseSynsets, synsetIdOf, type Synsets } from './data/synsets.js';
export { zooPreprocess, type ZooEntry, type ZooPreprocess } from './zoo/zoo-entry.js';
