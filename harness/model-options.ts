import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { resolveDataDir } from '../src/data/data-dir.js';
import { cifar10Dataset, imageFolderDataset, limit, subset, type Dataset } from '../src/data/dataset.js';
import type { Preprocess } from '../src/data/preprocess.js';
import { DyveError } from '../src/errors.js';
import { loadMeanBinaryproto, loadNetwork, type WeightsSource } from '../src/formats/load-network.js';
import type { Network } from '../src/ir/network.js';
import { resolveZooFile, zooEntry, type ZooEntry } from '../src/zoo/zoo.js';
import { zooPreprocess } from '../src/zoo/zoo-entry.js';

/** The options every command that opens a model shares (parseArgs definitions). */
export const MODEL_OPTIONS = {
  model: { type: 'string', short: 'm' },
  weights: { type: 'string', short: 'w' },
  seed: { type: 'string' },
  data: { type: 'string' },
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

export const MODEL_HELP = `Model:
  -m, --model NAME|FILE     a zoo model (see 'dyve models') or a deploy .prototxt
  -w, --weights FILE|synthetic
                            .caffemodel or Deep Compression .net; 'synthetic' = seeded random
                            weights (no accuracy reported). Default: the zoo model's weights
      --seed N              seed of synthetic weights (default 1)
      --data DIR            data directory (default: $DYVE_DATA, else ../shared/data)`;

export const DATA_HELP = `Data:
      --dataset cifar10|imagenet-sample|FILE.bin|DIR
                            CIFAR-10 test batch, the ImageNet samples, a CIFAR-10 binary batch
                            file, or a folder of JPEG/PNG images (labels from synset_words.txt)
      --positions even|odd  only the images at even (calibration) or odd (evaluation) positions
      --limit N             the first N images only (after --positions)
      --mean FILE.binaryproto|r,g,b   mean to subtract (values in the network's channel order)
      --channels rgb|bgr    channel order of the network input
      --resize WxH          resize images first
      --crop N              then centre-crop to NxN
      --scale S             multiply after mean subtraction`;

type Values = { [key: string]: string | boolean | undefined };

/** A network opened from the command line, with what is needed to feed it data. */
export interface OpenedModel {
  /** Zoo name, or the prototxt's file name. */
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

/** Parses a non-negative integer option, or throws naming the option. */
export function intOption(values: Values, key: string, fallback: number): number {
  const v = str(values, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new DyveError(`--${key} takes a whole number, found '${v}'`);
  return n;
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
  if (!model) throw new DyveError('--model is required: a zoo name (see `dyve models`) or a .prototxt file');
  const dataDir = resolveDataDir(str(values, 'data'));
  const weightsArg = str(values, 'weights');
  const seed = intOption(values, 'seed', 1);
  const isFile = model.endsWith('.prototxt') || (existsSync(model) && statSync(model).isFile());
  const entry = isFile ? undefined : zooEntry(model);
  const prototxt = entry ? resolveZooFile(entry, entry.prototxt, dataDir) : model;

  let weights: WeightsSource;
  let weightsLabel: string;
  if (shapesOnly && !weightsArg) {
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
    weights = { kind: 'file', path, format: entry.weights.format };
    weightsLabel = basename(path);
  } else {
    throw new DyveError(`--weights is required with a prototxt: a .caffemodel, a Deep Compression .net, or 'synthetic'`);
  }
  const net = await loadNetwork(prototxt, weights);
  return { label: entry ? entry.name : basename(model), net, entry, weightsLabel, dataDir };
}

function parseSize(v: string, key: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new DyveError(`--${key} takes WIDTHxHEIGHT, e.g. 256x256; found '${v}'`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** The preprocessing: the zoo entry's, each field overridable by a flag. */
export async function preprocessFor(opened: OpenedModel, values: Values): Promise<Preprocess> {
  const meanArg = str(values, 'mean');
  // The zoo's declaration, its mean file read only when --mean does not replace it.
  const zoo = opened.entry
    ? await zooPreprocess({ ...opened.entry.preprocess, ...(meanArg !== undefined && { mean: undefined }) }, (file) => loadMeanBinaryproto(join(opened.dataDir, file)))
    : undefined;
  const resizeArg = str(values, 'resize');
  const resize = resizeArg ? parseSize(resizeArg, 'resize') : zoo?.resize;
  const cropArg = str(values, 'crop');
  const crop = cropArg !== undefined ? intOption(values, 'crop', 0) : zoo?.crop;
  const channelsArg = str(values, 'channels');
  if (channelsArg !== undefined && channelsArg !== 'rgb' && channelsArg !== 'bgr') throw new DyveError(`--channels takes rgb or bgr, found '${channelsArg}'`);
  const channels = (channelsArg as 'rgb' | 'bgr' | undefined) ?? zoo?.channels ?? 'bgr';
  const scaleArg = str(values, 'scale');
  const scale = scaleArg !== undefined ? Number(scaleArg) : zoo?.scale ?? 1;
  if (!Number.isFinite(scale)) throw new DyveError(`--scale takes a number, found '${scaleArg}'`);

  let mean: Preprocess['mean'] = zoo?.mean;
  if (meanArg !== undefined) {
    if (/^-?[\d.]+(,-?[\d.]+)*$/.test(meanArg)) mean = { values: meanArg.split(',').map(Number) };
    else mean = await loadMeanBinaryproto(meanArg);
  }
  return { resize, crop, channels, mean, scale };
}

/** The dataset named by `--dataset` (default: the zoo entry's), limited by `--limit`. */
export async function openDataset(opened: OpenedModel, values: Values): Promise<{ dataset: Dataset; description: string }> {
  const name = str(values, 'dataset') ?? opened.entry?.dataset;
  if (!name) throw new DyveError('--dataset is required with a prototxt: cifar10, imagenet-sample, a CIFAR-10 .bin file or an image folder');
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
  const n = intOption(values, 'limit', 0);
  if (n > 0) dataset = limit(dataset, n);
  const parts = [positions && `${positions} positions`, n > 0 && `first ${dataset.size}`].filter(Boolean);
  return { dataset, description: `${name === path ? path : name}${parts.length ? ` (${parts.join(', ')})` : ''}` };
}
