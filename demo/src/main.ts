/**
 * The demo page: pick a model and an image, run dense and DyVEDeep on WebGPU (or the CPU when
 * the browser has no adapter, or when chosen), and show predictions, work per layer, where each
 * mechanism acted, and accuracy against work over the effort scale. On the CPU the sweep's batches
 * are split by image over Web Workers (the CPU threads control). `window.dyveDemo` exposes the
 * last results to the end-to-end tests.
 */
import { openBackend, scaleEffort, DENSE_PROFILE, type OpenedBackend } from '../../src/browser.js';
import { decisionMaps } from './charts/decision-maps.js';
import { effortPlot, effortTable } from './charts/effort-plot.js';
import { layerMacsChart } from './charts/layer-macs.js';
import { si } from './charts/svg.js';
import { cifarImage, fileImage, imagenetImage, imagenetSample, type DemoImage } from './images.js';
import { classify, sweepEffort, type Classification, type SweepPoint } from './inference.js';
import { calibratedProfile, CATALOGUE, loadDemoModel, type DemoModel } from './models.js';
import { loadOwnModel, ownModelKey, parseMeanValues, type OwnPreprocess } from './own-model.js';
import { defaultThreads, maxThreads, ThreadMeter, WorkerPool } from './threads.js';

/** What the page last did, for scripts and tests. */
export interface DemoState {
  backend: string;
  adapter: string | null;
  /** The notice shown when the page fell back to the CPU. */
  fallback: string | null;
  /** The backend control: `auto` (WebGPU on a hardware adapter, else WebAssembly), `webgpu`, `wasm` or `cpu`. */
  choice: string;
  /** Whether the page is cross-origin isolated (the server's COOP / COEP headers). */
  crossOriginIsolated: boolean;
  /** The CPU threads control. */
  threads: number;
  /** Worker threads the open backend started (0: it runs on the page's thread, or on WebGPU). */
  workers: number;
  /** Backends opened so far (the settings reopen it). */
  opened: number;
  runs: number;
  /**
   * `threads`: the most CPU threads a run of the job used (ThreadMeter: 1 when the page's own
   * thread ran it all), null when it ran on WebGPU; `workersReplied`: the most workers that
   * returned results to one run.
   */
  last?: {
    model: string; image: string; label: number; scale: number; dense: Classification; dynamic: Classification; threads: number | null; workersReplied: number;
  };
  sweep?: { model: string; points: SweepPoint[]; threads: number | null; workersReplied: number; batch: number };
  error?: string;
}

declare global {
  interface Window { dyveDemo: DemoState }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: DemoState = {
  backend: 'opening', adapter: null, fallback: null, choice: 'auto', crossOriginIsolated, threads: defaultThreads(), workers: 0, opened: 0, runs: 0,
};
window.dyveDemo = state;

/** The model select's value for the user's own files. */
const OWN = 'own';

function ownFiles(): { files: File[]; prep: OwnPreprocess } {
  const files = [...($<HTMLInputElement>('own-files').files ?? [])];
  if (files.length === 0) throw new Error('choose your model files first (.onnx, or a .prototxt with its .caffemodel; optionally an effort profile .json)');
  const scale = Number($<HTMLInputElement>('own-scale').value);
  if (!(Number.isFinite(scale) && scale > 0)) throw new Error(`scale: expected a positive number, got '${$<HTMLInputElement>('own-scale').value}'`);
  const channels = $<HTMLSelectElement>('own-channels').value === 'bgr' ? 'bgr' : 'rgb';
  return { files, prep: { channels, mean: parseMeanValues($<HTMLInputElement>('own-mean').value), scale } };
}

const models = new Map<string, Promise<DemoModel>>();
/** Model `name` of the catalogue, or the user's own (OWN), loaded once per set of files and settings. */
const model = (name: string) => {
  const own = name === OWN ? ownFiles() : null;
  const key = own ? ownModelKey(own.files, own.prep) : name;
  let m = models.get(key);
  if (!m) {
    m = own ? loadOwnModel(own.files, own.prep) : loadDemoModel(name);
    m.catch(() => models.delete(key));
    models.set(key, m);
  }
  return m;
};

/** The dataset of the own model last loaded (it decides which image pickers apply). */
let ownDataset: DemoModel['dataset'] | undefined;

/** The model the page runs now, with the image pickers brought in line with it. */
async function currentModel(): Promise<DemoModel> {
  const name = $<HTMLSelectElement>('model').value;
  const m = await model(name);
  if (name === OWN && ownDataset !== m.dataset) {
    ownDataset = m.dataset;
    $('model').dispatchEvent(new Event('change'));
  }
  return m;
}

function setStatus(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
  document.body.dataset.state = error ? 'error' : text === '' ? 'idle' : 'busy';
}

function fail(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  state.error = message;
  setStatus(message, true);
}

const scaleLabel = (s: number) => `${s}${s === 0 ? ' (dense)' : s === 1 ? ' (calibrated)' : ''}`;

function showImage(img: DemoImage, classNames: readonly string[]): void {
  const canvas = $<HTMLCanvasElement>('preview');
  const { width, height, rgb } = img.image;
  canvas.width = width;
  canvas.height = height;
  const data = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) data.data.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  canvas.getContext('2d')?.putImageData(data, 0, 0);
  $('preview-caption').textContent = `${img.id}${img.label >= 0 ? ` — ${classNames[img.label]}` : ''}`;
}

function showResult(id: 'dense' | 'dynamic', r: Classification, dense: Classification): void {
  const body = $(id).querySelector('.body') as HTMLElement;
  const list = document.createElement('ol');
  list.className = 'top5';
  for (const c of r.top5) {
    const li = document.createElement('li');
    li.dataset.class = String(c.index);
    li.textContent = `${c.name} — ${(100 * c.probability).toFixed(1)} %`;
    li.append(Object.assign(document.createElement('span'), { className: 'bar', style: `width:${Math.round(120 * c.probability)}px` }));
    list.append(li);
  }
  const stats = document.createElement('dl');
  const rows: [string, string][] = [
    ['time', `${r.ms.toFixed(1)} ms`],
    ['MACs', `${si(r.macs.executed)}${id === 'dynamic' ? ` (${(dense.macs.executed / Math.max(1, r.macs.executed)).toFixed(2)}x fewer)` : ''}`],
  ];
  // The CPU backends count every scalar op; WebGPU counts MACs only (atomics in the dynamic kernels).
  if (r.ops > r.macs.executed) rows.push(['all ops', `${si(r.ops)}${id === 'dynamic' ? ` (${(dense.ops / r.ops).toFixed(2)}x fewer)` : ''}`]);
  for (const [k, v] of rows) stats.append(Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v }));
  body.replaceChildren(list, stats);
}

async function pickImage(m: DemoModel): Promise<DemoImage> {
  if ($<HTMLSelectElement>('source').value === 'file') {
    const file = $<HTMLInputElement>('user-file').files?.[0];
    if (!file) throw new Error('choose a JPEG or PNG file first');
    return fileImage(file);
  }
  if (m.dataset === null) {
    throw new Error(`${m.name} has ${m.classNames.length} classes, which match neither CIFAR-10 nor the ImageNet sample: choose your own image file`);
  }
  if (m.dataset === 'cifar10') return cifarImage(Number($<HTMLInputElement>('cifar-index').value));
  return imagenetImage($<HTMLSelectElement>('imagenet-file').value);
}

/** An opened backend and the workers it runs on, as the settings asked. */
interface Session {
  readonly opened: OpenedBackend;
  /** The opened backend, counting the threads its runs use: what the jobs run on. */
  readonly backend: ThreadMeter;
  readonly pool: WorkerPool;
  readonly choice: string;
  readonly threads: number;
}

/** Images per worker in one batch of the sweep: enough that a batch outweighs its messages. */
const SWEEP_IMAGES_PER_THREAD = 8;

/** CPU threads that ran the job just done (see DemoState.last): measured, never assumed. */
function threadsRan(s: Session): number | null {
  return s.backend.name === 'webgpu' ? null : Math.max(1, s.backend.used);
}

/** The isolation and threads lines under the banner. */
function showThreads(s: Session | undefined, job?: { kind: 'run' | 'sweep'; threads: number | null; batch: number }): void {
  $('isolation').textContent = crossOriginIsolated
    ? 'Cross-origin isolated (COOP / COEP): yes'
    : 'Cross-origin isolated: no (the server sends no COOP / COEP headers)';
  if (!s) {
    $('threads').textContent = '';
    return;
  }
  if (s.backend.name === 'webgpu') {
    $('threads').textContent = 'CPU threads: not used (WebGPU runs the model)';
    return;
  }
  const workers = s.pool.started;
  let text = `CPU threads: ${workers > 0 ? `${workers} worker threads` : "1 (the page's thread)"}`;
  if (job && job.threads !== null) {
    text += ` · last ${job.kind} ran on ${job.threads > 1 ? `${job.threads} threads` : "1 thread (the page's)"}`;
    if (job.kind === 'sweep' && job.batch > 1) text += ` (batches of ${job.batch} images, split by image)`;
  }
  $('threads').textContent = text;
}

async function run(s: Session): Promise<void> {
  const backend = s.backend;
  const name = $<HTMLSelectElement>('model').value;
  const scale = Number($<HTMLInputElement>('effort').value);
  setStatus(`loading ${name}…`);
  const m = await currentModel();
  const img = await pickImage(m);
  showImage(img, m.classNames);
  setStatus(`running ${name} dense…`);
  const dense = await classify(backend, m, img, DENSE_PROFILE, false);
  setStatus(`running ${name} with DyVEDeep at effort scale ${scale}…`);
  const profile = scaleEffort(calibratedProfile(m), scale);
  const dynamic = await classify(backend, m, img, profile, true);
  showResult('dense', dense, dense);
  showResult('dynamic', dynamic, dense);
  $('layer-chart').innerHTML = layerMacsChart(dense.layers, dynamic.layers);
  $('heat-maps').replaceChildren(dynamic.decisions && dynamic.decisions.length > 0
    ? decisionMaps(dynamic.decisions, profile)
    : Object.assign(document.createElement('p'), { textContent: 'No mechanism is on at this effort scale.' }));
  state.runs++;
  state.last = { model: name, image: img.id, label: img.label, scale, dense, dynamic, threads: threadsRan(s), workersReplied: s.backend.workersReplied };
  showThreads(s, { kind: 'run', threads: state.last.threads, batch: 1 });
  setStatus('');
}

async function sweep(s: Session): Promise<void> {
  const backend = s.backend;
  const name = $<HTMLSelectElement>('model').value;
  const count = Math.max(1, Number($<HTMLInputElement>('sweep-count').value) || 1);
  setStatus(`loading ${name}…`);
  const m = await currentModel();
  if (m.dataset === null) throw new Error(`the sweep runs over CIFAR-10 or the ImageNet sample, whose classes ${m.name} (${m.classNames.length} classes) does not have`);
  const images: DemoImage[] = [];
  const files = m.dataset === 'cifar10' ? [] : (await imagenetSample()).files;
  for (let i = 0; i < count; i++) {
    setStatus(`decoding images ${i + 1}/${count}…`);
    images.push(m.dataset === 'cifar10' ? await cifarImage(i) : await imagenetImage(files[i]));
  }
  const points: SweepPoint[] = [];
  const title = `${name}: ${count} images, effort scale 0 → 2`;
  // The workers take a batch by slices of images: give them several at a time.
  const batch = s.pool.started > 1 && backend.name !== 'webgpu' ? SWEEP_IMAGES_PER_THREAD * s.pool.started : 1;
  await sweepEffort(backend, m, images, [0, 0.5, 1, 1.5, 2], (p) => {
    points.push(p);
    setStatus(`sweep: scale ${p.scale} done (${points.length}/5)`);
    $('sweep-plot').innerHTML = effortPlot(points, title) + effortTable(points);
  }, { batch, onProgress: (scale, done, total) => setStatus(`sweep: scale ${scale}, ${done}/${total} images (${points.length}/5 scales done)`) });
  state.sweep = { model: name, points, threads: threadsRan(s), workersReplied: s.backend.workersReplied, batch: Math.min(batch, count) };
  showThreads(s, { kind: 'sweep', threads: state.sweep.threads, batch: state.sweep.batch });
  setStatus('');
}

/** Opens the backend the settings ask for, with its workers when it runs on CPU threads. */
async function openSession(choice: string, threads: number): Promise<Session> {
  const pool = new WorkerPool();
  const notices: string[] = [];
  const opened = await openBackend(choice, { threads, createWorker: pool.createWorker }, (line) => notices.push(line.replace(/^dyvedeep: /, '')));
  state.backend = opened.backend.name;
  state.adapter = opened.adapter;
  state.fallback = notices[0] ?? null;
  state.choice = choice;
  state.workers = pool.started;
  state.opened++;
  const banner = $('backend');
  const kernels = opened.backend.name === 'wasm' ? 'WebAssembly SIMD' : 'TypeScript';
  const auto = opened.choice;
  const cpuRun = `the CPU backend (${kernels} kernels, ${threads} thread${threads === 1 ? '' : 's'})`;
  banner.textContent = opened.adapter
    ? `WebGPU: ${opened.adapter}`
    : auto
      ? `${/^no WebGPU adapter/.test(auto.reason) ? 'No WebGPU here' : 'Only a software WebGPU adapter here'} — running on ${cpuRun}: ${auto.reason}`
      : `CPU backend (${kernels} kernels), as chosen`;
  banner.classList.toggle('fallback', !opened.adapter && auto !== undefined);
  banner.dataset.backend = opened.backend.name;
  return { opened, backend: new ThreadMeter(opened.backend, pool), pool, choice, threads };
}

async function main(): Promise<void> {
  const select = $<HTMLSelectElement>('model');
  for (const [name, { entry }] of Object.entries(CATALOGUE)) select.append(new Option(`${name} — ${entry.title}`, name));
  select.append(new Option('your own model (ONNX, or Caffe prototxt + weights)…', OWN));
  const syncPickers = () => {
    const ownImage = $<HTMLSelectElement>('source').value === 'file';
    const ownModel = select.value === OWN;
    // An own model's data set is known once it has loaded (its classes and input decide).
    const dataset = ownModel ? ownDataset : CATALOGUE[select.value]?.entry.dataset;
    $('own-model-pick').hidden = !ownModel;
    $('file-pick').hidden = !ownImage;
    $('cifar-pick').hidden = ownImage || dataset !== 'cifar10';
    $('imagenet-pick').hidden = ownImage || dataset !== 'imagenet-sample';
  };
  // New files or settings make a new model: its data set is unknown until it loads.
  for (const id of ['own-files', 'own-mean', 'own-scale', 'own-channels']) {
    $(id).addEventListener('change', () => {
      ownDataset = undefined;
      syncPickers();
    });
  }
  select.addEventListener('change', syncPickers);
  $('source').addEventListener('change', syncPickers);
  syncPickers();
  const effort = $<HTMLInputElement>('effort');
  effort.addEventListener('input', () => { $('effort-value').textContent = scaleLabel(Number(effort.value)); });

  const files = (await imagenetSample().catch(() => ({ files: [] as string[] }))).files;
  const pick = $<HTMLSelectElement>('imagenet-file');
  for (const f of files) pick.append(new Option(f, f));

  const choice = $<HTMLSelectElement>('backend-choice');
  // `?backend=webgpu` (or wasm, cpu) opens the page on that backend instead of auto's choice.
  const asked = new URLSearchParams(location.search).get('backend');
  if (asked && [...choice.options].some((o) => o.value === asked)) choice.value = asked;
  const threads = $<HTMLSelectElement>('cpu-threads');
  for (let n = 1; n <= maxThreads(); n++) threads.append(new Option(String(n), String(n)));
  threads.value = String(state.threads);

  let session: Session | undefined;
  let busy = false;
  // Nothing else starts while a job or a reopen runs: a job keeps the backend it started with.
  const lock = (on: boolean) => {
    busy = on;
    $<HTMLButtonElement>('run').disabled = $<HTMLButtonElement>('sweep').disabled = on || !session;
    choice.disabled = threads.disabled = on;
  };
  const guard = (job: (s: Session) => Promise<void>) => async () => {
    const s = session;
    if (busy || !s) return;
    lock(true);
    try {
      state.error = undefined;
      s.backend.reset();
      await job(s);
    } catch (err) {
      fail(err);
    } finally {
      lock(false);
    }
  };
  /** Reopens the backend when the settings change what runs; the old one's workers are terminated first. */
  const applySettings = async () => {
    const wanted = { choice: choice.value, threads: Number(threads.value) };
    state.threads = wanted.threads;
    // WebGPU runs no CPU threads: a new thread count changes nothing there.
    const same = session && session.choice === wanted.choice && (session.threads === wanted.threads || session.opened.adapter !== null);
    if (same) return showThreads(session);
    lock(true);
    try {
      state.error = undefined;
      session?.opened.close();
      session = undefined;
      showThreads(undefined);
      setStatus(`opening the ${wanted.choice} backend…`);
      session = await openSession(wanted.choice, wanted.threads);
      showThreads(session);
      setStatus('');
    } catch (err) {
      fail(err);
    } finally {
      lock(false);
    }
  };
  choice.addEventListener('change', () => void applySettings());
  threads.addEventListener('change', () => void applySettings());
  $('run').addEventListener('click', guard(run));
  $('sweep').addEventListener('click', guard(sweep));
  await applySettings();
}

main().catch(fail);
