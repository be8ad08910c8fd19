/**
 * The browser benchmark: the harness's evaluation loop in the page, over the zoo's data, reported
 * in the JSON contract of `dyve bench` (harness/bench-json.ts). Driven by `dyve browser-bench`
 * (`npm run bench:browser`), which reads `window.dyveBench`.
 */
import { DENSE_PROFILE, evaluate, formatShape, inMemoryDataset, openBackend, scaleEffort, shapeSize, toNetworkInput, type EffortProfile } from '../../src/browser.js';
import { benchJson, type BenchJson } from '../../harness/bench-json.js';
import { cifarImage, imagenetImage, imagenetSample, type DemoImage } from './images.js';
import { calibratedProfile, loadDemoModel, type DemoModel } from './models.js';

/** The page's progress and outcome, for the driver. */
export interface BenchState {
  done: boolean;
  progress: [number, number];
  result?: BenchJson;
  error?: string;
}

declare global {
  interface Window { dyveBench: BenchState }
}

const state: BenchState = { done: false, progress: [0, 0] };
window.dyveBench = state;
const status = (text: string) => { (document.getElementById('status') as HTMLElement).textContent = text; };

/** `dense`, `calibrated` (the zoo's profile) or an effort scale such as `1.5`. */
function profileFor(effort: string, model: DemoModel): EffortProfile {
  if (effort === 'dense') return DENSE_PROFILE;
  const calibrated = calibratedProfile(model);
  if (effort === 'calibrated') return calibrated;
  const scale = Number(effort);
  if (effort === '' || !Number.isFinite(scale)) throw new Error(`effort takes dense, calibrated or a scale (a number), found '${effort}'`);
  return scaleEffort(calibrated, scale);
}

async function images(model: DemoModel, count: number): Promise<DemoImage[]> {
  const out: DemoImage[] = [];
  const files = model.dataset === 'cifar10' ? [] : (await imagenetSample()).files;
  const n = model.dataset === 'cifar10' ? count : Math.min(count, files.length);
  for (let i = 0; i < n; i++) {
    if (i % 25 === 0) status(`decoding images ${i}/${n}…`);
    out.push(model.dataset === 'cifar10' ? await cifarImage(i) : await imagenetImage(files[i]));
  }
  return out;
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const name = q.get('model') ?? 'cifar10-quick';
  const effort = q.get('effort') ?? 'dense';
  const compare = q.get('compare');
  if (compare !== null && compare !== 'dense') throw new Error(`compare takes 'dense', found '${compare}'`);
  const batch = Math.max(1, Number(q.get('batch') ?? 1) || 1);
  status(`loading ${name}…`);
  const model = await loadDemoModel(name);
  const limit = Math.max(1, Number(q.get('limit') ?? (model.dataset === 'cifar10' ? 1000 : 100)) || 1);
  const notices: string[] = [];
  // One thread: the page runs the CPU backends on its own thread (no Web Workers yet), auto included.
  const opened = await openBackend(q.get('backend') ?? 'webgpu', { threads: 1 }, (line) => notices.push(line));
  const list = await images(model, limit);
  const block = shapeSize(model.net.inputShape);
  const inputs = new Float32Array(list.length * block);
  list.forEach((img, i) => toNetworkInput(img.image, model.preprocess, model.net.inputShape, { name: img.id, out: inputs, offset: i * block }));
  const dataset = inMemoryDataset({ name: model.dataset ?? model.name, inputShape: model.net.inputShape, inputs, labels: list.map((i) => i.label), ids: list.map((i) => i.id) });
  const profile = profileFor(effort, model);
  const dense = Object.keys(profile.layers).length === 0;
  // Warm-up (pipelines, buffers): one batch of each profile, not timed.
  const warm = inMemoryDataset({ name: 'warm-up', inputShape: model.net.inputShape, inputs: inputs.subarray(0, Math.min(batch, list.length) * block) });
  await evaluate(model.net, warm, opened.backend, { batch, effort: profile, ...(!dense && { baseline: DENSE_PROFILE }) });
  const result = await evaluate(model.net, dataset, opened.backend, {
    batch, effort: profile, ...(!dense && { baseline: DENSE_PROFILE }),
    onProgress: (done, total) => { state.progress = [done, total]; status(`${name}: ${done}/${total} images`); },
  });
  opened.close();
  state.result = benchJson(result, {
    model: name,
    backend: opened.backend.name,
    adapter: opened.adapter,
    effort: dense ? 'dense' : effort,
    weights: model.weightsFile,
    synthetic: false,
    dataset: `${model.dataset === 'cifar10' ? 'cifar10' : 'imagenet-sample'} (first ${list.length}), input ${formatShape(model.net.inputShape)}`,
    batch,
    // The page runs the CPU backend on its own thread (no Web Workers yet).
    threads: opened.backend.name === 'webgpu' ? null : 1,
    auto: opened.choice?.reason ?? null,
    machine: `${navigator.userAgent}, ${navigator.hardwareConcurrency} threads${notices.length ? `; ${notices.join('; ')}` : ''}`,
  }, compare === 'dense');
  (document.getElementById('result') as HTMLElement).textContent = JSON.stringify(state.result, null, 2);
  status('done');
}

main()
  .catch((err: unknown) => {
    state.error = err instanceof Error ? err.message : String(err);
    status(`error: ${state.error}`);
  })
  .finally(() => { state.done = true; });
