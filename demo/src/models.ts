/**
 * The models the page offers: the zoo entries whose weights live in the data directory, loaded
 * with the portable API (parse, no file access) and checked against the zoo's sha256. An entry may
 * be a Caffe prototxt with its weights file, or an ONNX model (weights inside).
 */
import {
  decodeMeanBinaryproto, parseCifar10ClassNames, parseNetwork, parseOnnxNetwork, parseSynsets, validateProfile, zooPreprocess,
  type EffortProfile, type Network, type Preprocess,
} from '../../src/browser.js';
import type { ZooEntry } from '../../src/zoo/zoo-entry.js';
import cifarEntry from '../../models/cifar10-quick/model.json';
import cifarProfile from '../../models/cifar10-quick/effort.json';
import cifarNeuronProfile from '../../models/cifar10-quick/effort-neuron.json';
import squeezeEntry from '../../models/squeezenet-dc/model.json';
import squeezeProfile from '../../models/squeezenet-dc/effort.json';
import squeezeNeuronProfile from '../../models/squeezenet-dc/effort-neuron.json';
import { fetchData, fetchDataText } from './data-source.js';

type Entry = Omit<ZooEntry, 'folder'>;

/** A model of the page: its zoo entry and calibrated profiles (JSON of models/NAME/). */
interface Catalogued {
  readonly entry: Entry;
  readonly profile: unknown;
  readonly neuronProfile: unknown;
}

export const CATALOGUE: Readonly<Record<string, Catalogued>> = {
  'cifar10-quick': { entry: cifarEntry as unknown as Entry, profile: cifarProfile, neuronProfile: cifarNeuronProfile },
  'squeezenet-dc': { entry: squeezeEntry as unknown as Entry, profile: squeezeProfile, neuronProfile: squeezeNeuronProfile },
};

/** A model ready to run. */
export interface DemoModel {
  readonly name: string;
  readonly title: string;
  readonly net: Network;
  readonly preprocess: Preprocess;
  readonly classNames: readonly string[];
  /** The calibrated profile (models/NAME/effort.json: tile mode), which every backend runs. */
  readonly profile: EffortProfile;
  /** The per-neuron profile (effort-neuron.json): the paper's decisions, the comparison row. */
  readonly neuronProfile: EffortProfile;
  /** The page's images it classifies with labels; null for an own model whose classes match neither set. */
  readonly dataset: Entry['dataset'] | null;
  /** The weights' file name. */
  readonly weightsFile: string;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function dataPath(ref: Entry['prototxt']): string {
  if (!('data' in ref)) throw new Error('the demo loads models from the data directory only');
  return ref.data;
}

/** Fetches, checks and parses model `name` of the catalogue. */
export async function loadDemoModel(name: string): Promise<DemoModel> {
  const item = CATALOGUE[name];
  if (!item) throw new Error(`unknown model '${name}' (known: ${Object.keys(CATALOGUE).join(', ')})`);
  const { entry } = item;
  if (!entry.weights.data) throw new Error(`the weights of ${name} are not in the data directory`);
  const modelPath = dataPath(entry.prototxt);
  const { format } = entry.weights;
  // An ONNX entry's weights are the model file itself (weights.data names it).
  const [prototxt, weights] = await Promise.all([format === 'onnx' ? '' : fetchDataText(modelPath), fetchData(entry.weights.data)]);
  if (entry.weights.sha256 && (await sha256Hex(weights)) !== entry.weights.sha256) {
    throw new Error(`${entry.weights.data} does not match the sha256 the zoo records for ${name}`);
  }
  const net = format === 'onnx'
    ? parseOnnxNetwork(weights, modelPath)
    : parseNetwork(prototxt, modelPath, { kind: 'bytes', bytes: weights, name: entry.weights.data, format });
  const preprocess = await zooPreprocess(entry.preprocess, async (file) => decodeMeanBinaryproto(await fetchData(file), file));
  const classNames = entry.dataset === 'cifar10'
    ? parseCifar10ClassNames(await fetchDataText('cifar10/batches.meta.txt'), 'cifar10/batches.meta.txt')
    : parseSynsets(await fetchDataText('imagenet-sample/synset_words.txt'), 'imagenet-sample/synset_words.txt').names;
  const profile = validateProfile(item.profile, net, `models/${name}/effort.json`);
  const neuronProfile = validateProfile(item.neuronProfile, net, `models/${name}/effort-neuron.json`);
  return {
    name, title: entry.title, net, preprocess, classNames, profile, neuronProfile, dataset: entry.dataset,
    weightsFile: entry.weights.data.split('/').pop() ?? name,
  };
}

/** The calibrated profile the page runs: the tile-mode one, on every backend (WebGPU included). */
export function calibratedProfile(model: DemoModel): EffortProfile {
  return model.profile;
}
