import { writeFileSync } from 'node:fs';
import { benchmarkConvolution, benchmarkCpuKernels, BENCHMARK_CONVOLUTIONS, type KernelTiming } from '../kernel-benchmark.js';
import { machineDescription } from '../machine.js';
import { intFlag, parseFlags, type FlagValues } from '../flags.js';
import { checkOutputFile, checkOutputFiles } from '../output-paths.js';
import { meanCount, percent } from '../terminal/format.js';
import { writeSection } from '../report/sections.js';
import { renderMarkdownTable } from '../terminal/table.js';
import { runBench, type BenchJson } from './bench.js';
import { runBrowserBench } from './browser-bench.js';
import { compareMarkdown, runCompare, type CompareJson } from './compare.js';

export const BENCHMARKS_HELP = `dyve benchmarks [--out BENCHMARKS.md] [--json FILE] [--cifar-limit N] [--imagenet-limit N] [--synthetic-limit N]
dyve benchmarks --webgpu [--out BENCHMARKS.md] [--json FILE] [--cifar-limit N] [--imagenet-limit N]
dyve benchmarks --browser [--out BENCHMARKS.md] [--json FILE] [--cifar-limit N] [--imagenet-limit N]
dyve benchmarks --compare [--out BENCHMARKS.md] [--json FILE]
dyve benchmarks --compare-webgpu [--out BENCHMARKS.md] [--json FILE]

Measures the dense CPU path on the zoo and writes a Markdown report naming the machine:
cifar10-quick over the CIFAR-10 test set and squeezenet-dc over the ImageNet samples (accuracy
and images/s at batch 1 and 16), and the synthetic-weight alexnet and vgg16 at batch 1 (speed only).
Runs are sequential in one process, so their ratios are comparable.

With --webgpu it writes the WebGPU section instead: dense and the calibrated DyVEDeep profile,
interleaved batch by batch (side by side), on the WebGPU adapter (with dispatches per run) and
on the WebAssembly kernels: cifar10-quick over the CIFAR-10 test set, squeezenet-dc over the odd
ImageNet samples (--imagenet-limit, default 100).

With --browser it writes the browser section: the same comparison at batch 1 inside headless
Chromium (WebGPU, and without WebGPU: the CPU fallback) beside Node (WebGPU and CPU) on the same
first images (--cifar-limit default 1000, --imagenet-limit default 20).

      --out FILE            report path (default BENCHMARKS.md)
      --json FILE           also write every run's JSON
      --cifar-limit N       CIFAR-10 test images, N >= 1 (default 10000)
      --imagenet-limit N    ImageNet samples, N >= 1 (default 1000)
      --synthetic-limit N   images for alexnet and vgg16, N >= 1 (default 4)
      --webgpu              the WebGPU section (dense vs DyVEDeep, WebGPU and WebAssembly)
      --browser             the browser section (Chromium vs Node, dense vs DyVEDeep)
      --compare             the peers section: dyve compare on both models, 1 and 2 threads
      --compare-webgpu      the WebGPU peers section: dyve compare --webgpu on both models
      --data DIR            data directory
  -h, --help                this help`;

/** An image count (--cifar-limit and the like): a whole number >= 1. */
function limitFlag(values: FlagValues, key: string, fallback: number): number {
  return intFlag(values, key, fallback, { min: 1 });
}

interface Run {
  readonly title: string;
  readonly args: Record<string, string | boolean | undefined>;
}

/** `dyve benchmarks`: runs the dense CPU benchmark suite and writes BENCHMARKS.md. */
export async function benchmarksCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    out: { type: 'string' }, json: { type: 'string' }, data: { type: 'string' },
    'cifar-limit': { type: 'string' }, 'imagenet-limit': { type: 'string' }, 'synthetic-limit': { type: 'string' },
    webgpu: { type: 'boolean' }, browser: { type: 'boolean' }, compare: { type: 'boolean' }, 'compare-webgpu': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(BENCHMARKS_HELP);
    return;
  }
  // Checked before the first of many long runs: the counts (each section reads its own) and the
  // report and JSON paths.
  for (const key of ['cifar-limit', 'imagenet-limit', 'synthetic-limit']) limitFlag(values, key, 1);
  checkOutputFile('--out', values.out ?? 'BENCHMARKS.md');
  checkOutputFiles(values, ['json']);
  if (values.webgpu) {
    await webgpuBenchmarks(values, args);
    return;
  }
  if (values.browser) {
    await browserBenchmarks(values, args);
    return;
  }
  if (values.compare) {
    await compareBenchmarks(values, args);
    return;
  }
  if (values['compare-webgpu']) {
    const { compareWebGpuBenchmarks } = await import('./compare-webgpu-benchmarks.js');
    await compareWebGpuBenchmarks(values, args);
    return;
  }
  const cifar = limitFlag(values, 'cifar-limit', 10000);
  const imagenet = limitFlag(values, 'imagenet-limit', 1000);
  const synthetic = limitFlag(values, 'synthetic-limit', 4);
  // The dense section measures the TypeScript kernels (`dyve bench`'s default is auto).
  const common = { data: values.data, quiet: false, backend: 'cpu' };
  const runs: Run[] = [
    { title: 'cifar10-quick', args: { ...common, model: 'cifar10-quick', limit: String(cifar), batch: '1' } },
    { title: 'cifar10-quick', args: { ...common, model: 'cifar10-quick', limit: String(cifar), batch: '16' } },
    { title: 'squeezenet-dc', args: { ...common, model: 'squeezenet-dc', limit: String(imagenet), batch: '1' } },
    { title: 'squeezenet-dc', args: { ...common, model: 'squeezenet-dc', limit: String(Math.min(imagenet, 64)), batch: '16' } },
    { title: 'alexnet', args: { ...common, model: 'alexnet', weights: 'synthetic', limit: String(synthetic), batch: '1' } },
    { title: 'vgg16', args: { ...common, model: 'vgg16', weights: 'synthetic', limit: String(synthetic), batch: '1' } },
  ];
  const results: BenchJson[] = [];
  for (const run of runs) {
    console.error(`# ${run.title}, batch ${run.args.batch}`);
    results.push(await runBench(run.args));
  }
  console.error('# kernels');
  const kernels = [...benchmarkCpuKernels(1), ...BENCHMARK_CONVOLUTIONS.slice(2, 3).map((spec) => benchmarkConvolution(spec, 'reference', 1))];
  const report = renderReport(results, kernels, machineDescription(), args);
  const out = values.out ?? 'BENCHMARKS.md';
  writeSection(out, 'dense-cpu', report);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  console.log(report);
  console.error(`wrote ${out}`);
}

function renderReport(results: readonly BenchJson[], kernels: readonly KernelTiming[], machine: string, args: readonly string[]): string {
  const rows = results.map((r) => {
    const perImage = r.macs.dense / r.images;
    return [
      r.model, r.synthetic ? 'synthetic' : r.weights, r.backend, String(r.batch), String(r.images),
      percent(r.top1), percent(r.top5), (perImage / 1e6).toFixed(1),
      r.imagesPerSecond.toFixed(r.imagesPerSecond < 10 ? 2 : 1), ((2 * r.macs.executed) / r.seconds / 1e9).toFixed(2),
    ];
  });
  const table = renderMarkdownTable(
    [{ header: 'model' }, { header: 'weights' }, { header: 'backend' }, { header: 'batch', align: 'right' }, { header: 'images', align: 'right' },
      { header: 'top-1', align: 'right' }, { header: 'top-5', align: 'right' }, { header: 'MMACs/image', align: 'right' },
      { header: 'images/s', align: 'right' }, { header: 'GFLOP/s', align: 'right' }],
    rows,
  );
  return `## Dense CPU path (plain TypeScript kernels, one thread)

Written by \`dyve benchmarks${args.length ? ` ${args.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${machine}.

One pass over the images of each row (accuracy over exactly those images: all 10,000 CIFAR-10
test images, all 1,000 ImageNet samples, or the first 64 for the batch-16 SqueezeNet row);
images/s = images / seconds inside the backend (decoding and preprocessing excluded);
GFLOP/s = 2 x executed MACs / those seconds. Synthetic-weight rows (seeded random weights, the
architectures of the papers) measure speed only: they report no accuracy. References
(../shared/data/README.md): cifar10-quick 73.7 % top-1; squeezenet-dc about 65.7 % / 86.1 %.

${table}

## Kernels (one image, one thread, best of repeated runs for about 1 s each)

${renderMarkdownTable(
    [{ header: 'kernel' }, { header: 'MACs', align: 'right' }, { header: 'ms', align: 'right' }, { header: 'GMAC/s', align: 'right' }],
    kernels.map((k) => [k.name, k.macs.toLocaleString('en-US'), (k.seconds * 1000).toFixed(2), k.gmacPerSecond.toFixed(2)]),
  )}
`;
}

/** Milliseconds per image, with two decimals below 10 ms (the WebAssembly rows' sub-millisecond times). */
function msPerImage(seconds: number, images: number): string {
  const ms = (1000 * seconds) / images;
  return ms.toFixed(ms < 10 ? 2 : 1);
}

/** Dense vs DyVEDeep rows of runs made with `compare: 'dense'`; `where` names each run's runtime / backend. */
function sideBySideTable(results: readonly BenchJson[], whereHeader: string, where: (r: BenchJson) => string): string {
  // WebGPU runs count their dispatches: a column when any row has them.
  const dispatches = results.some((r) => r.dispatchesPerRun !== undefined);
  const rows = results.map((r) => {
    // A profile that turns nothing on runs as dense itself (bench makes no baseline run): one run, both columns.
    const perLayer = r.dispatchesPerDynamicLayer === undefined ? '' : ` (${meanCount(r.dispatchesPerDynamicLayer)})`;
    const perRun = r.dispatchesPerRun === undefined ? '' : `${meanCount(r.denseDispatchesPerRun ?? r.dispatchesPerRun)} / ${meanCount(r.dispatchesPerRun)}${perLayer}`;
    const gpuColumn = dispatches ? [perRun] : [];
    if (!r.dense) {
      const ms = msPerImage(r.seconds, r.images);
      return [r.model, where(r), String(r.images), String(r.batch), percent(r.top1), percent(r.top1), 'same run', '1.00', ms, ms, 'all dense', ...gpuColumn];
    }
    return [
      r.model, where(r), String(r.images), String(r.batch), percent(r.dense.top1), percent(r.top1), percent(r.agreement ?? null),
      (r.macs.dense / r.macs.executed).toFixed(2),
      r.compare ? msPerImage(r.compare.denseSeconds, r.images) : '', r.compare ? msPerImage(r.compare.dynamicSeconds, r.images) : '',
      r.compare ? `${r.compare.speedup.toFixed(2)}x` : '',
      ...gpuColumn,
    ];
  });
  return renderMarkdownTable(
    [{ header: 'model' }, { header: whereHeader }, { header: 'images', align: 'right' }, { header: 'batch', align: 'right' },
      { header: 'top-1 dense', align: 'right' }, { header: 'top-1 DyVEDeep', align: 'right' }, { header: 'agreement', align: 'right' },
      { header: 'MAC reduction', align: 'right' },
      { header: 'dense ms/image', align: 'right' }, { header: 'DyVEDeep ms/image', align: 'right' }, { header: 'speed-up', align: 'right' },
      ...(dispatches ? [{ header: 'dispatches per run dense / DyVEDeep (per dynamic layer)', align: 'right' as const }] : [])],
    rows,
  );
}

/** `dyve benchmarks --browser`: the same comparison inside headless Chromium, beside Node on the same images. */
async function browserBenchmarks(values: Record<string, string | boolean | undefined>, args: readonly string[]): Promise<void> {
  const cifar = String(limitFlag(values, 'cifar-limit', 1000));
  const imagenet = String(limitFlag(values, 'imagenet-limit', 20));
  const common = { data: values.data, quiet: false, effort: 'calibrated', compare: 'dense', batch: '1' };
  const runs: { title: string; where: string; run: () => Promise<BenchJson> }[] = [];
  for (const [model, limit] of [['cifar10-quick', cifar], ['squeezenet-dc', imagenet]] as const) {
    const args = { ...common, model, limit };
    runs.push(
      { title: `${model} Chromium WebGPU`, where: 'Chromium, webgpu', run: () => runBrowserBench({ ...args, backend: 'webgpu' }) },
      { title: `${model} Chromium without WebGPU`, where: 'Chromium, cpu (no adapter)', run: () => runBrowserBench({ ...args, backend: 'auto', 'no-webgpu': true }) },
      { title: `${model} Node WebGPU`, where: 'Node, webgpu', run: () => runBench({ ...args, backend: 'webgpu' }) },
      { title: `${model} Node CPU`, where: 'Node, cpu', run: () => runBench({ ...args, backend: 'cpu' }) },
    );
  }
  const results: BenchJson[] = [];
  const where = new Map<BenchJson, string>();
  for (const r of runs) {
    console.error(`# ${r.title}`);
    const result = await r.run();
    results.push(result);
    where.set(result, r.where);
  }
  const browserAdapter = results.find((r) => r.machine.includes('Chromium') && r.adapter)?.adapter ?? 'none';
  const nodeAdapter = results.find((r) => !r.machine.includes('Chromium') && r.adapter)?.adapter ?? 'none';
  const chromium = /headless Chromium [\d.]+/.exec(results.find((r) => r.machine.includes('Chromium'))?.machine ?? '')?.[0] ?? 'Chromium';
  const report = `## In the browser: dense vs DyVEDeep in Chromium, beside Node

Written by \`dyve benchmarks${args.length ? ` ${args.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)} (one row alone:
\`npm run bench:browser -- --model cifar10-quick --effort calibrated --compare dense\`).
Machine: ${machineDescription()}, ${chromium} (Debian's). Chromium's WebGPU adapter:
${browserAdapter}; Node's (Dawn): ${nodeAdapter}. No GPU on this machine: both are software
adapters, and no real GPU was available to this project when this was measured.

Every row runs dense and the calibrated profile (\`models/<name>/effort.json\`) interleaved image
by image (batch 1) on the first images of the data set (cifar10-quick: CIFAR-10 test images;
squeezenet-dc: ImageNet samples in file-name order), one row after the other in one run. The
Chromium rows run the harness's evaluation in the page \`demo/bench.html\`; "no adapter" is
Chromium launched without \`--enable-unsafe-webgpu\`, where the page falls back to the CPU
backend (the same TypeScript kernels as Node's). ms/image are inference times inside the
backend after one warm-up image.

${sideBySideTable(results, 'where', (r) => where.get(r) ?? r.backend)}
`;
  const out = typeof values.out === 'string' ? values.out : 'BENCHMARKS.md';
  writeSection(out, 'browser', report);
  if (typeof values.json === 'string') writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  console.log(report);
  console.error(`wrote ${out}`);
}

/** `dyve benchmarks --compare`: `dyve compare` on both models with 1 and 2 threads. */
async function compareBenchmarks(values: Record<string, string | boolean | undefined>, args: readonly string[]): Promise<void> {
  const results: CompareJson[] = [];
  for (const model of ['cifar10-quick', 'squeezenet-dc']) {
    for (const threads of ['1', '2']) {
      console.error(`# ${model}, ${threads} thread(s)`);
      results.push(await runCompare({ model, threads, data: values.data }, (line) => console.error(line)));
    }
  }
  const tables = results.map((r) => {
    const threads = r.rows[0]?.threads ?? 1;
    return `### ${r.model}, ${threads} thread${threads > 1 ? 's' : ''}\n\n${compareMarkdown(r)}`;
  });
  const setup = results[0].setup;
  const report = `## Peers: dyvedeep vs onnxruntime and TensorFlow.js (CPU, same images and weights)

Written by \`dyve benchmarks${args.length ? ` ${args.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}; one table alone:
\`dyve compare --model cifar10-quick --threads 1\`. Machine: ${machineDescription()}.

In one process, on the same preprocessed images: dyvedeep dense, DyVEDeep in tile mode
(dyvedeep-dynamic: the calibrated \`effort.json\`, float32 SIMD tile kernels) and in neuron mode
(dyvedeep-neuron: \`effort-neuron.json\`, the per-neuron fast driver on its WebAssembly f64x2
loops), all on the WebAssembly SIMD kernels (${setup.kernels}), each in a worker thread of its own (an application's heap, not one
holding every peer's modules; timed there, around the \`backend.run\` call) with worker threads
splitting batches by image and, for one image, its large layers by output rows or channels
(dynamic layers with SFMA, and tile-mode layers, run whole on one thread; the "threads" column
says what really worked),
onnxruntime-node 1.30 (native, CPU provider) and onnxruntime-web 1.30 (wasm) on \`dyve export\`'s
ONNX graph of the same IR, and TensorFlow.js 4.22 wasm (XNNPACK) on a graph built from the same
IR and weights. Engines run interleaved in ${setup.rounds} rounds after one untimed pass each,
median times${setup.minSeconds ? `; in a round each engine goes over its images again until it has run ${setup.minSeconds} s (top-1 from the first pass)` : ''}; batch 1 over the first 256 CIFAR-10 test images / 16 ImageNet samples, batch 64
over the first 1024 / 64 (top-1 from those). GFLOP/s = 2 x MACs / time (dense MACs for every
engine but DyVEDeep, which counts what it executed). "vs dyvedeep-dense": dyvedeep-dense's time /
the engine's, paired round by round (the same machine conditions), median and range over the rounds.

${tables.join('\n\n')}
`;
  const out = typeof values.out === 'string' ? values.out : 'BENCHMARKS.md';
  writeSection(out, 'compare', report);
  if (typeof values.json === 'string') writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  console.log(report);
  console.error(`wrote ${out}`);
}

/** `dyve benchmarks --webgpu`: dense vs the calibrated profile, side by side, on WebGPU and WebAssembly. */
async function webgpuBenchmarks(values: Record<string, string | boolean | undefined>, args: readonly string[]): Promise<void> {
  const cifar = limitFlag(values, 'cifar-limit', 10000);
  const imagenet = limitFlag(values, 'imagenet-limit', 100);
  const common = { data: values.data, quiet: false, effort: 'calibrated', compare: 'dense' };
  const runs: Run[] = [];
  for (const backend of ['webgpu', 'wasm']) {
    runs.push({ title: `cifar10-quick ${backend}`, args: { ...common, backend, model: 'cifar10-quick', limit: String(cifar), batch: '100' } });
    runs.push({ title: `squeezenet-dc ${backend}`, args: { ...common, backend, model: 'squeezenet-dc', positions: 'odd', limit: String(imagenet), batch: '8' } });
  }
  const results: BenchJson[] = [];
  for (const run of runs) {
    console.error(`# ${run.title}`);
    results.push(await runBench(run.args));
  }
  const adapter = results.find((r) => r.adapter)?.adapter ?? 'none';
  const table = sideBySideTable(results, 'backend', (r) => r.backend);
  const report = `## WebGPU: dense vs DyVEDeep, side by side

Written by \`dyve benchmarks${args.length ? ` ${args.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${machineDescription()}. WebGPU adapter: ${adapter} (no GPU on this machine: a software
adapter; no real GPU was available to this project when this was measured).

Each row runs dense and the shipped calibrated profile (\`models/<name>/effort.json\`, tile
mode) interleaved batch by batch in one process, on WebGPU and, beside it, on the WebAssembly
kernels (one thread per core); ms/image are inference times inside the backend (upload, one
command encoder per batch, read-back included). cifar10-quick: the CIFAR-10 test images;
squeezenet-dc: odd ImageNet samples (the calibration used the even ones). MAC reduction = dense
MACs / executed MACs, counted by the kernels (WebGPU: atomics in the dynamic kernels). On WebGPU
(shaders/dynamic/tile-convolution.wgsl) a tile-mode SPET layer is one dispatch for pass 1, the
tile test and the survivors' compaction, then one indirect dispatch over the survivors; an SDSS
layer one for the grid (SDSS alone: the dense kernel, shaders/convolution/dense.wgsl, over the
grid's listed positions), then one over the tiles off the grid that decides each and evaluates
the failing ones in the same workgroups (re-packed there into quads of failing channels); the
last column counts the compute dispatches of one batch run, dense / DyVEDeep, from the
scheduler's record, and in brackets those of the profile's layers per layer (\`dyve bench
--backend webgpu --trace FILE\` lists them per layer).
squeezenet-dc's shipped profile turns no mechanism on (no tile setting paid for itself on the
CPU it was timed on): its rows are one dense run, shown in both columns ("all dense").

${table}
`;
  const out = typeof values.out === 'string' ? values.out : 'BENCHMARKS.md';
  writeSection(out, 'webgpu', report);
  if (typeof values.json === 'string') writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  console.log(report);
  console.error(`wrote ${out}`);
}
