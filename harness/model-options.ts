import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { resolveDataDir } from '../src/data/data-dir.js';
import { cifar10Dataset, imageFolderDataset, limit, subset, type Dataset } from '../src/data/dataset.js';
import type { Preprocess } from '../src/data/preprocess.js';
import { DyveError } from '../src/errors.js';
import { isOnnxModel, loadMeanBinaryproto, loadNetwork, type WeightsSource } from '../src/formats/load-network.js';
import type { Network } from '../src/ir/network.js';
import { resolveZooFile, zooEntry, type ZooEntry } from '../src/zoo/zoo.js';
import { zooPreprocess } from '../src/zoo/zoo-entry.js';
import { intFlag, numberFlag, type FlagValues } from './flags.js';

/** The options every command that opens a model shares (parseArgs definitions). */
export const MODEL_OPTIONS = {
  model: { type: 'string', short: 'm' },
  weights: { type: 'string', short: 'w' },
  seed: { type: 'string' },
  data: { type: 'string' },
  'input-shape': { type: 'string' },
} as const;

/** The options of commands that read images. */
export const DATA_OPTIONS = {
  dataset: { type: 'string' },
  positions: { type: 'string' },
  limit: { type: 'string' },
  mean: { type: 'string' },
  channels: { type: 'string' },
  resize: { type: 'string' },
  crop: { type: 'string' },
  scale: { type: 'string' },
} as const;

/** Synthetic weights take the seed as an unsigned 32-bit integer (mulberry32): larger seeds would wrap. */
const MAX_SEED = 2 ** 32 - 1;

/** Largest --resize / --crop side: far beyond any model here, small enough not to exhaust memory. */
const MAX_IMAGE_SIDE = 8192;

export const MODEL_HELP = `Model:
  -m, --model NAME|FILE     a zoo model (see 'dyve models'), a deploy .prototxt, a train_val
                            .prototxt (its TEST phase: the data layer becomes the input, accuracy
                            and loss layers go, SoftmaxWithLoss runs as Softmax; said on stderr),
                            or an ONNX model (.onnx, weights inside, the CNN operators: README;
                            e.g. one written by 'dyve export', whose layer names a profile uses)
  -w, --weights FILE|synthetic
                            .caffemodel or Deep Compression .net; 'synthetic' = seeded random
                            weights (no accuracy reported). Default: the zoo model's weights; an
                            .onnx model's own (only 'synthetic' may replace them)
      --seed N              seed of synthetic weights, a whole number in [0, ${MAX_SEED}] (default 1)
      --data DIR            data directory (default: $DYVE_DATA, else ../shared/data)
      --input-shape CxHxW   input of a train_val prototxt (e.g. 3x32x32), numbers in [1, ${MAX_IMAGE_SIDE}].
                            Needed unless its data layer gives crop_size and the caffemodel's first
                            convolution the channels (or MemoryData / DummyData / ImageData sizes)`;

export const DATA_HELP = `Data:
      --dataset cifar10|imagenet-sample|FILE.bin|DIR
                            CIFAR-10 test batch, the ImageNet samples, a CIFAR-10 binary batch
                            file, or a folder of JPEG/PNG images (labels from synset_words.txt)
      --positions even|odd  only the images at even (calibration) or odd (evaluation) positions
      --limit N             the first N images only (after --positions), N >= 1
      --mean FILE.binaryproto|r,g,b   mean to subtract: a file, or 1 or 3 finite numbers (in the
                            network's channel order). A prototxt outside the zoo has none unless
                            given (said on stderr)
      --channels rgb|bgr    channel order of the network input
      --resize WxH          resize images first (W, H whole numbers in [1, ${MAX_IMAGE_SIDE}])
      --crop N              then centre-crop to NxN (N in [1, ${MAX_IMAGE_SIDE}])
      --scale S             multiply after mean subtraction (a finite number > 0)`;

type Values = FlagValues;

/** A network opened from the command line, with what is needed to feed it data. */
export interface OpenedModel {
  /** Zoo name, or the model file's name (prototxt or .onnx). */
  readonly label: string;
  readonly net: Network;
  readonly entry?: ZooEntry;
  /** A short description of the weights: file name or `synthetic (seed 1)`. */
  readonly weightsLabel: string;
  readonly dataDir: string;
}

function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

/** `--seed` (default 1), range-checked. */
export function seedFlag(values: Values): number {
  return intFlag(values, 'seed', 1, { min: 0, max: MAX_SEED });
}

/**
 * `--input-shape CxHxW`, each number range-checked, or undefined when absent.
 *
 * @throws DyveError naming the rule and, when one number is out of range, which one.
 */
export function inputShapeFlag(values: Values): [number, number, number] | undefined {
  const v = str(values, 'input-shape');
  if (v === undefined) return undefined;
  const rule = `--input-shape takes CxHxW (channels, height, width), whole numbers in [1, ${MAX_IMAGE_SIDE}], e.g. 3x32x32`;
  const m = /^\s*(\d+)x(\d+)x(\d+)\s*$/.exec(v);
  if (!m) throw new DyveError(`${rule}; found '${v}'`);
  const dims = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
  const bad = dims.findIndex((d) => !(Number.isSafeInteger(d) && d >= 1 && d <= MAX_IMAGE_SIDE));
  if (bad >= 0) throw new DyveError(`${rule}; found '${v}' (${'CHW'[bad]} is ${m[bad + 1]})`);
  return dims;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Opens `--model` with its weights. With `shapesOnly`, weights are read only when `--weights`
 * names them (to check that they fit); otherwise the network has none (enough for shapes and MACs).
 */
export async function openModel(values: Values, { shapesOnly = false } = {}): Promise<OpenedModel> {
  const model = str(values, 'model');
  if (!model) throw new DyveError('--model is required: a zoo name (see `dyve models`), a .prototxt file or an .onnx model');
  const dataDir = resolveDataDir(str(values, 'data'));
  const weightsArg = str(values, 'weights');
  const seed = seedFlag(values);
  const inputShape = inputShapeFlag(values);
  const onnx = isOnnxModel(model);
  const isFile = model.endsWith('.prototxt') || onnx || (existsSync(model) && statSync(model).isFile());
  // Before asking for --weights: a mistyped path is the problem to report first.
  if (isFile && !existsSync(model)) throw new DyveError(`${onnx ? 'ONNX model' : 'prototxt'} not found: ${model}`);
  const entry = isFile ? undefined : zooEntry(model);
  const prototxt = entry ? resolveZooFile(entry, entry.prototxt, dataDir) : model;
  // An ONNX model (a file, or a zoo entry pointing at one) carries its weights.
  const ownWeights = isOnnxModel(prototxt);

  let weights: WeightsSource;
  let weightsLabel: string;
  if (ownWeights) {
    if (weightsArg !== undefined && weightsArg !== 'synthetic') {
      throw new DyveError(`${model} is an ONNX model, which carries its weights: drop --weights ${weightsArg} (or give --weights synthetic to replace them with seeded values)`);
    }
    if (entry) {
      if (!existsSync(prototxt)) throw new DyveError(`the ONNX model of '${entry.name}' not found: ${prototxt} (set --data or DYVE_DATA to the data directory)`);
      if (entry.weights.sha256 && sha256(prototxt) !== entry.weights.sha256) {
        throw new DyveError(`${prototxt} does not match the sha256 the zoo records for '${entry.name}' (${entry.weights.sha256}); pass it with --model ${prototxt} to use it anyway`);
      }
    }
    weights = weightsArg === 'synthetic' ? { kind: 'synthetic', seed } : { kind: 'none' };
    weightsLabel = weightsArg === 'synthetic' ? `synthetic (seed ${seed})` : basename(prototxt);
  } else if (shapesOnly && !weightsArg) {
    weights = { kind: 'none' };
    weightsLabel = 'none';
  } else if (weightsArg === 'synthetic') {
    weights = { kind: 'synthetic', seed };
    weightsLabel = `synthetic (seed ${seed})`;
  } else if (weightsArg) {
    weights = { kind: 'file', path: weightsArg };
    weightsLabel = basename(weightsArg);
  } else if (entry) {
    if (entry.weights.data === null) {
      throw new DyveError(`the weights of '${entry.name}' are not available here${entry.weights.url ? ` (published at ${entry.weights.url})` : ''}: pass --weights FILE, or --weights synthetic for speed and op counts`);
    }
    const path = join(dataDir, entry.weights.data);
    if (!existsSync(path)) throw new DyveError(`weights of '${entry.name}' not found: ${path} (set --data or DYVE_DATA to the data directory)`);
    if (entry.weights.sha256 && sha256(path) !== entry.weights.sha256) {
      throw new DyveError(`${path} does not match the sha256 the zoo records for '${entry.name}' (${entry.weights.sha256}); pass it with --weights to use it anyway`);
    }
    if (entry.weights.format === 'onnx') throw new DyveError(`zoo entry '${entry.name}': weights format onnx needs an .onnx model`);
    weights = { kind: 'file', path, format: entry.weights.format };
    weightsLabel = basename(path);
  } else {
    throw new DyveError(`--weights is required with a prototxt: a .caffemodel, a Deep Compression .net, or 'synthetic'`);
  }
  const net = await loadNetwork(prototxt, weights, { inputShape });
  return { label: entry ? entry.name : basename(model), net, entry, weightsLabel, dataDir };
}

/** The numbers of the data flags (--limit, --resize, --crop, --scale, --mean values), range-checked. */
export interface DataFlags {
  readonly limit?: number;
  readonly resize?: { width: number; height: number };
  readonly crop?: number;
  readonly scale?: number;
  /** --mean as values; a mean file is read by {@link preprocessFor}. */
  readonly mean?: { values: number[] } | { file: string };
}

function parseSize(v: string, key: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(v);
  const [width, height] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!(width >= 1 && width <= MAX_IMAGE_SIDE && height >= 1 && height <= MAX_IMAGE_SIDE)) {
    throw new DyveError(`--${key} takes WIDTHxHEIGHT, whole numbers in [1, ${MAX_IMAGE_SIDE}], e.g. 256x256; found '${v}'`);
  }
  return { width, height };
}

/**
 * --mean: a file when one is there, else comma-separated values when it reads as numbers (so
 * `NaN,0,0` is refused as a value, not looked for as a file).
 */
function parseMean(v: string): { values: number[] } | { file: string } {
  if (existsSync(v)) return { file: v };
  const numeric = v.includes(',') || /^\s*[-+]?(\d|\.\d|nan|inf)/i.test(v);
  if (!numeric) return { file: v };
  const rule = '--mean takes a .binaryproto file or 1 or 3 comma-separated finite numbers (one per channel, e.g. 104,117,123)';
  const values = v.split(',').map((t) => (t.trim() === '' ? Number.NaN : Number(t)));
  const bad = v.split(',').find((_, i) => !Number.isFinite(values[i]));
  if (bad !== undefined) throw new DyveError(`${rule}: the mean values must be finite numbers, found '${bad.trim()}' in '${v}'`);
  if (values.length !== 1 && values.length !== 3) throw new DyveError(`${rule}, found ${values.length} values in '${v}'`);
  return { values };
}

/**
 * Parses the data flags without opening anything, so that a command can refuse a bad value before
 * it loads a model or starts a run.
 *
 * @throws DyveError naming the flag and its allowed range.
 */
export function dataFlags(values: Values): DataFlags {
  const resize = str(values, 'resize');
  const mean = str(values, 'mean');
  return {
    limit: intFlag(values, 'limit', undefined, { min: 1 }),
    resize: resize === undefined ? undefined : parseSize(resize, 'resize'),
    crop: intFlag(values, 'crop', undefined, { min: 1, max: MAX_IMAGE_SIDE }),
    scale: numberFlag(values, 'scale', undefined, { min: 0, above: true }),
    mean: mean === undefined ? undefined : parseMean(mean),
  };
}

/**
 * The preprocessing: the zoo entry's, each field overridable by a flag. A model outside the zoo
 * declares none: without --mean nothing is subtracted, said in one line on stderr (a network
 * trained on mean-subtracted images loses accuracy silently otherwise).
 */
export async function preprocessFor(opened: OpenedModel, values: Values): Promise<Preprocess> {
  const flags = dataFlags(values);
  // The zoo's declaration, its mean file read only when --mean does not replace it.
  const zoo = opened.entry
    ? await zooPreprocess({ ...opened.entry.preprocess, ...(flags.mean !== undefined && { mean: undefined }) }, (file) => loadMeanBinaryproto(join(opened.dataDir, file)))
    : undefined;
  const channelsArg = str(values, 'channels');
  if (channelsArg !== undefined && channelsArg !== 'rgb' && channelsArg !== 'bgr') throw new DyveError(`--channels takes rgb or bgr, found '${channelsArg}'`);
  const channels = (channelsArg as 'rgb' | 'bgr' | undefined) ?? zoo?.channels ?? 'bgr';

  let mean: Preprocess['mean'] = zoo?.mean;
  if (flags.mean !== undefined) mean = 'file' in flags.mean ? await loadMeanBinaryproto(flags.mean.file) : flags.mean;
  else if (!opened.entry) {
    console.error(`dyvedeep: no mean is subtracted: ${opened.label} is outside the zoo, so its preprocessing is unknown; `
      + 'if it was trained on mean-subtracted images give --mean FILE.binaryproto or --mean r,g,b (e.g. --mean 104,117,123)');
  }
  return { resize: flags.resize ?? zoo?.resize, crop: flags.crop ?? zoo?.crop, channels, mean, scale: flags.scale ?? zoo?.scale ?? 1 };
}

/** The dataset named by `--dataset` (default: the zoo entry's), limited by `--limit`. */
export async function openDataset(opened: OpenedModel, values: Values): Promise<{ dataset: Dataset; description: string }> {
  const name = str(values, 'dataset') ?? opened.entry?.dataset;
  if (!name) throw new DyveError('--dataset is required with a model outside the zoo: cifar10, imagenet-sample, a CIFAR-10 .bin file or an image folder');
  const preprocess = await preprocessFor(opened, values);
  let path: string;
  if (name === 'cifar10') path = join(opened.dataDir, 'cifar10', 'test_batch.bin');
  else if (name === 'imagenet-sample') path = join(opened.dataDir, 'imagenet-sample');
  else path = name;
  if (!existsSync(path)) throw new DyveError(`dataset not found: ${path}`);
  let dataset = statSync(path).isDirectory()
    ? await imageFolderDataset(path, preprocess, opened.net.inputShape)
    : await cifar10Dataset(path, preprocess, opened.net.inputShape);
  const positions = str(values, 'positions');
  if (positions !== undefined) {
    if (positions !== 'even' && positions !== 'odd') throw new DyveError(`--positions takes even or odd, found '${positions}'`);
    dataset = subset(dataset, positions);
  }
  const n = dataFlags(values).limit;
  if (n !== undefined) dataset = limit(dataset, n);
  const parts = [positions && `${positions} positions`, n !== undefined && `first ${dataset.size}`].filter(Boolean);
  return { dataset, description: `${name === path ? path : name}${parts.length ? ` (${parts.join(', ')})` : ''}` };
}
