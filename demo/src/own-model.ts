/**
 * The user's own model, from files picked on the page: an ONNX model (weights inside) or a Caffe
 * deploy / train_val prototxt with its .caffemodel (or Deep Compression .net), and optionally an
 * effort profile (JSON, as `dyve calibrate` writes it). Parsed by the same portable code as the
 * zoo models; nothing leaves the browser.
 */
import {
  parseCifar10ClassNames, parseNetwork, parseOnnxNetwork, parseSynsets, shapeSize, validateProfile, DENSE_PROFILE,
  type EffortProfile, type Network, type Preprocess,
} from '../../src/browser.js';
import { fetchDataText } from './data-source.js';
import type { DemoModel } from './models.js';

/** How the page prepares images for an own model (the form next to the file picker). */
export interface OwnPreprocess {
  readonly channels: 'rgb' | 'bgr';
  /** Per-channel means in the network's channel order, or one for all; empty: none. */
  readonly mean: readonly number[];
  readonly scale: number;
}

const isModelFile = (f: File) => /\.(onnx|prototxt)$/i.test(f.name);
const isProfileFile = (f: File) => /\.json$/i.test(f.name);

/** A key that changes when the picked files or the preprocessing change (the page caches models by it). */
export function ownModelKey(files: readonly File[], prep: OwnPreprocess): string {
  return JSON.stringify([files.map((f) => [f.name, f.size, f.lastModified]), prep]);
}

/** Parses "104, 117, 123" (or "" for none); throws on anything that is not a list of numbers. */
export function parseMeanValues(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const values = trimmed.split(/[\s,]+/).map(Number);
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`mean: expected numbers separated by commas, got '${text}'`);
  return values;
}

/**
 * Class names for an output of `classes` scores: CIFAR-10's for 10 classes on a 3x32x32 input,
 * the ImageNet synsets' for 1,000, else "class i" (the model may have been trained on anything).
 */
async function classNamesFor(net: Network, classes: number): Promise<{ names: string[]; dataset: DemoModel['dataset'] }> {
  const s = net.inputShape;
  if (classes === 10 && s.c === 3 && s.h === 32 && s.w === 32) {
    return { names: parseCifar10ClassNames(await fetchDataText('cifar10/batches.meta.txt'), 'cifar10/batches.meta.txt'), dataset: 'cifar10' };
  }
  if (classes === 1000) {
    return { names: parseSynsets(await fetchDataText('imagenet-sample/synset_words.txt'), 'imagenet-sample/synset_words.txt').names, dataset: 'imagenet-sample' };
  }
  return { names: Array.from({ length: classes }, (_, i) => `class ${i}`), dataset: null };
}

/**
 * Loads the user's model from the picked files. Errors say which file is missing or wrong; the
 * parsers' own errors (line and column of a prototxt, the node of an ONNX model, the layer and
 * blob of mismatched weights) pass through unchanged.
 */
export async function loadOwnModel(files: readonly File[], prep: OwnPreprocess): Promise<DemoModel> {
  const models = files.filter(isModelFile);
  if (models.length !== 1) {
    throw new Error(`pick one model file (.onnx, or a .prototxt with its weights), got ${models.length === 0 ? 'none' : models.map((f) => f.name).join(', ')}`);
  }
  const modelFile = models[0];
  const profiles = files.filter(isProfileFile);
  if (profiles.length > 1) throw new Error(`pick at most one effort profile (.json), got ${profiles.map((f) => f.name).join(', ')}`);
  const rest = files.filter((f) => f !== modelFile && !isProfileFile(f));
  let net: Network;
  let weightsFile: string;
  if (/\.onnx$/i.test(modelFile.name)) {
    if (rest.length > 0) throw new Error(`an ONNX model carries its weights: leave out ${rest.map((f) => f.name).join(', ')}`);
    net = parseOnnxNetwork(new Uint8Array(await modelFile.arrayBuffer()), modelFile.name);
    weightsFile = modelFile.name;
  } else {
    if (rest.length !== 1) {
      throw new Error(`${modelFile.name} needs exactly one weights file (.caffemodel or Deep Compression .net), got ${rest.length === 0 ? 'none' : rest.map((f) => f.name).join(', ')}`);
    }
    const weights = rest[0];
    net = parseNetwork(await modelFile.text(), modelFile.name, { kind: 'bytes', bytes: new Uint8Array(await weights.arrayBuffer()), name: weights.name });
    weightsFile = weights.name;
  }
  if (net.inputShape.c !== 3) throw new Error(`${modelFile.name} takes ${net.inputShape.c} input channels: the page feeds colour images (3 channels)`);
  let profile: EffortProfile = DENSE_PROFILE;
  if (profiles.length === 1) {
    const file = profiles[0];
    let json: unknown;
    try {
      json = JSON.parse(await file.text());
    } catch (err) {
      throw new Error(`${file.name}: not JSON (${(err as Error).message})`);
    }
    profile = validateProfile(json, net, file.name);
  }
  const output = net.blobShapes.get(net.outputName);
  const { names, dataset } = await classNamesFor(net, output ? shapeSize(output) : 0);
  // Images are resized to the network's input, whatever their size (no crop: the page cannot know the training recipe).
  const preprocess: Preprocess = {
    resize: { width: net.inputShape.w, height: net.inputShape.h }, channels: prep.channels, scale: prep.scale,
    ...(prep.mean.length > 0 && { mean: { values: prep.mean } }),
  };
  return {
    name: modelFile.name, title: `your model ${modelFile.name}`, net, preprocess, classNames: names, profile, neuronProfile: profile, dataset, weightsFile,
  };
}
