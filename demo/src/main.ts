/**
 * The demo page: pick a model and an image, run dense and DyVEDeep on WebGPU (or the CPU when
 * the browser has no adapter), and show predictions, work per layer, where each mechanism acted,
 * and accuracy against work over the effort scale. `window.dyveDemo` exposes the last results to
 * the end-to-end tests.
 */
import { openBackend, scaleEffort, DENSE_PROFILE, type Backend } from '../../src/browser.js';
import { decisionMaps } from './charts/decision-maps.js';
import { effortPlot, effortTable } from './charts/effort-plot.js';
import { layerMacsChart } from './charts/layer-macs.js';
import { si } from './charts/svg.js';
import { cifarImage, fileImage, imagenetImage, imagenetSample, type DemoImage } from './images.js';
import { classify, sweepEffort, type Classification, type SweepPoint } from './inference.js';
import { CATALOGUE, loadDemoModel, type DemoModel } from './models.js';

/** What the page last did, for scripts and tests. */
export interface DemoState {
  backend: string;
  adapter: string | null;
  /** The notice shown when the page fell back to the CPU. */
  fallback: string | null;
  runs: number;
  last?: { model: string; image: string; label: number; scale: number; dense: Classification; dynamic: Classification };
  sweep?: { model: string; points: SweepPoint[] };
  error?: string;
}

declare global {
  interface Window { dyveDemo: DemoState }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: DemoState = { backend: 'opening', adapter: null, fallback: null, runs: 0 };
window.dyveDemo = state;

const models = new Map<string, Promise<DemoModel>>();
const model = (name: string) => {
  let m = models.get(name);
  if (!m) {
    m = loadDemoModel(name);
    m.catch(() => models.delete(name));
    models.set(name, m);
  }
  return m;
};

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
  if (m.dataset === 'cifar10') return cifarImage(Number($<HTMLInputElement>('cifar-index').value));
  return imagenetImage($<HTMLSelectElement>('imagenet-file').value);
}

async function run(backend: Backend): Promise<void> {
  const name = $<HTMLSelectElement>('model').value;
  const scale = Number($<HTMLInputElement>('effort').value);
  setStatus(`loading ${name}…`);
  const m = await model(name);
  const img = await pickImage(m);
  showImage(img, m.classNames);
  setStatus(`running ${name} dense…`);
  const dense = await classify(backend, m, img, DENSE_PROFILE, false);
  setStatus(`running ${name} with DyVEDeep at effort scale ${scale}…`);
  const profile = scaleEffort(m.profile, scale);
  const dynamic = await classify(backend, m, img, profile, true);
  showResult('dense', dense, dense);
  showResult('dynamic', dynamic, dense);
  $('layer-chart').innerHTML = layerMacsChart(dense.layers, dynamic.layers);
  $('heat-maps').replaceChildren(dynamic.decisions && dynamic.decisions.length > 0
    ? decisionMaps(dynamic.decisions, profile)
    : Object.assign(document.createElement('p'), { textContent: 'No mechanism is on at this effort scale.' }));
  state.runs++;
  state.last = { model: name, image: img.id, label: img.label, scale, dense, dynamic };
  setStatus('');
}

async function sweep(backend: Backend): Promise<void> {
  const name = $<HTMLSelectElement>('model').value;
  const count = Math.max(1, Number($<HTMLInputElement>('sweep-count').value) || 1);
  setStatus(`loading ${name}…`);
  const m = await model(name);
  const images: DemoImage[] = [];
  const files = m.dataset === 'cifar10' ? [] : (await imagenetSample()).files;
  for (let i = 0; i < count; i++) {
    setStatus(`decoding images ${i + 1}/${count}…`);
    images.push(m.dataset === 'cifar10' ? await cifarImage(i) : await imagenetImage(files[i]));
  }
  const points: SweepPoint[] = [];
  const title = `${name}: ${count} images, effort scale 0 → 2`;
  await sweepEffort(backend, m, images, [0, 0.5, 1, 1.5, 2], (p) => {
    points.push(p);
    setStatus(`sweep: scale ${p.scale} done (${points.length}/5)`);
    $('sweep-plot').innerHTML = effortPlot(points, title) + effortTable(points);
  });
  state.sweep = { model: name, points };
  setStatus('');
}

async function main(): Promise<void> {
  const select = $<HTMLSelectElement>('model');
  for (const [name, { entry }] of Object.entries(CATALOGUE)) select.append(new Option(`${name} — ${entry.title}`, name));
  const syncPickers = () => {
    const own = $<HTMLSelectElement>('source').value === 'file';
    const cifar = CATALOGUE[select.value]?.entry.dataset === 'cifar10';
    $('file-pick').hidden = !own;
    $('cifar-pick').hidden = own || !cifar;
    $('imagenet-pick').hidden = own || cifar;
  };
  select.addEventListener('change', syncPickers);
  $('source').addEventListener('change', syncPickers);
  syncPickers();
  const effort = $<HTMLInputElement>('effort');
  effort.addEventListener('input', () => { $('effort-value').textContent = scaleLabel(Number(effort.value)); });

  const notices: string[] = [];
  const opened = await openBackend('auto', {}, (line) => notices.push(line.replace(/^dyvedeep: /, '')));
  state.backend = opened.backend.name;
  state.adapter = opened.adapter;
  state.fallback = notices[0] ?? null;
  const banner = $('backend');
  banner.textContent = opened.adapter ? `WebGPU: ${opened.adapter}` : `No WebGPU here — running on the CPU backend (${notices[0] ?? 'no adapter'})`;
  banner.classList.toggle('fallback', !opened.adapter);
  banner.dataset.backend = opened.backend.name;

  const files = (await imagenetSample().catch(() => ({ files: [] as string[] }))).files;
  const pick = $<HTMLSelectElement>('imagenet-file');
  for (const f of files) pick.append(new Option(f, f));

  const guard = (job: (b: Backend) => Promise<void>) => async () => {
    $<HTMLButtonElement>('run').disabled = $<HTMLButtonElement>('sweep').disabled = true;
    try {
      state.error = undefined;
      await job(opened.backend);
    } catch (err) {
      fail(err);
    } finally {
      $<HTMLButtonElement>('run').disabled = $<HTMLButtonElement>('sweep').disabled = false;
    }
  };
  $('run').addEventListener('click', guard(run));
  $('sweep').addEventListener('click', guard(sweep));
  $<HTMLButtonElement>('run').disabled = $<HTMLButtonElement>('sweep').disabled = false;
  setStatus('');
}

main().catch(fail);
