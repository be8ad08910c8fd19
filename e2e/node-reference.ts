/**
 * What the Node CPU path predicts for the images the page runs: the same models, preprocessing
 * and profiles, loaded from disk by the built package (dist/), run on the fast CPU backend.
 */
import {
  classProbabilities, CpuBackend, DENSE_PROFILE, loadNetwork, loadProfile, readCifar10Batch, readImage, resolveDataDir, scaleEffort, toNetworkInput, topK,
  cifar10Image, loadMeanBinaryproto, zooEntry, zooPreprocess, type EffortProfile, type Network, type Preprocess, type RgbImage,
} from '../dist/src/index.js';

export interface NodePrediction {
  readonly top5: number[];
  readonly probabilities: number[];
  readonly macsExecuted: number;
}

interface Loaded {
  readonly net: Network;
  readonly preprocess: Preprocess;
  /** effort.json (tile mode: what the page runs on every backend). */
  readonly profile: EffortProfile;
}

const cache = new Map<string, Promise<Loaded>>();

async function load(name: string): Promise<Loaded> {
  const data = resolveDataDir();
  const entry = zooEntry(name);
  const prototxt = 'data' in entry.prototxt ? `${data}/${entry.prototxt.data}` : `${entry.folder}/${entry.prototxt.path}`;
  // An ONNX zoo entry names one file, weights inside.
  const format = entry.weights.format;
  const net = await loadNetwork(prototxt, format === 'onnx' ? { kind: 'none' } : { kind: 'file', path: `${data}/${entry.weights.data}`, format });
  const preprocess = await zooPreprocess(entry.preprocess, (file) => loadMeanBinaryproto(`${data}/${file}`));
  return {
    net, preprocess, profile: await loadProfile(`${entry.folder}/effort.json`, net),
  };
}

/** The image the page calls `id`: `test_batch.bin#N` or an ImageNet sample file name. */
async function image(id: string): Promise<RgbImage> {
  const data = resolveDataDir();
  const m = /^test_batch\.bin#(\d+)$/.exec(id);
  if (m) return cifar10Image((await readCifar10Batch(`${data}/cifar10/test_batch.bin`)).planes(Number(m[1])));
  return readImage(`${data}/imagenet-sample/${id}`);
}

/**
 * Node's prediction for `model` on image `id`, dense or at an effort scale of the profile the
 * page runs (the tile-mode effort.json, as the demo's calibratedProfile picks).
 */
export async function nodePrediction(model: string, id: string, scale: number): Promise<NodePrediction> {
  let loaded = cache.get(model);
  if (!loaded) cache.set(model, (loaded = load(model)));
  const { net, preprocess, profile } = await loaded;
  const input = toNetworkInput(await image(id), preprocess, net.inputShape, { name: id });
  const effort = scale === 0 ? DENSE_PROFILE : scaleEffort(profile, scale);
  const r = await new CpuBackend().run(net, input, 1, { effort });
  const p = classProbabilities(net, r.output);
  const top5 = topK(p, 0, p.length, 5);
  return { top5, probabilities: top5.map((i) => p[i]), macsExecuted: r.counters.reduce((s, c) => s + c.macsExecuted, 0) };
}

/**
 * Node's prediction for a model the page loaded from the user's files (demo/src/own-model.ts):
 * the same files and the page's own-model preprocessing (resize to the input, channel order,
 * per-channel mean, scale), on the fast CPU backend; `profile` absent = dense only.
 */
export async function nodeOwnPrediction(
  files: { model: string; weights?: string; profile?: string }, prep: { channels: 'rgb' | 'bgr'; mean: number[]; scale: number },
  id: string, scale: number,
): Promise<NodePrediction> {
  const net = await loadNetwork(files.model, files.weights ? { kind: 'file', path: files.weights } : { kind: 'none' });
  const preprocess: Preprocess = {
    resize: { width: net.inputShape.w, height: net.inputShape.h }, channels: prep.channels, scale: prep.scale,
    ...(prep.mean.length > 0 && { mean: { values: prep.mean } }),
  };
  const input = toNetworkInput(await image(id), preprocess, net.inputShape, { name: id });
  const effort = scale === 0 || !files.profile ? DENSE_PROFILE : scaleEffort(await loadProfile(files.profile, net), scale);
  const r = await new CpuBackend().run(net, input, 1, { effort });
  const p = classProbabilities(net, r.output);
  const top5 = topK(p, 0, p.length, 5);
  return { top5, probabilities: top5.map((i) => p[i]), macsExecuted: r.counters.reduce((s, c) => s + c.macsExecuted, 0) };
}
