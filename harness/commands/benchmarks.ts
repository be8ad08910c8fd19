import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchmarkConvolution, benchmarkCpuKernels, BENCHMARK_CONVOLUTIONS, type KernelTiming } from '../kernel-benchmark.js';
import { machineDescription } from '../machine.js';
import { intOption } from '../model-options.js';
import { percent } from '../terminal/format.js';
import { writeSection } from '../report/sections.js';
import { renderMarkdownTable } from '../terminal/table.js';
import { runBench, type BenchJson } from './bench.js';

export const BENCHMARKS_HELP = `dyve benchmarks [--out BENCHMARKS.md] [--json FILE] [--cifar-limit N] [--imagenet-limit N] [--synthetic-limit N]

Measures the dense CPU path on the zoo and writes a Markdown report naming the machine:
cifar10-quick over the CIFAR-10 test set and squeezenet-dc over the ImageNet samples (accuracy
and images/s at batch 1 and 16), and the synthetic-weight alexnet and vgg16 at batch 1 (speed only).
Runs are sequential in one process, so their ratios are comparable.

      --out FILE            report path (default BENCHMARKS.md)
      --json FILE           also write every run's JSON
      --cifar-limit N       CIFAR-10 test images (default 10000)
      --imagenet-limit N    ImageNet samples (default 1000)
      --synthetic-limit N   images for alexnet and vgg16 (default 4)
      --data DIR            data directory
  -h, --help                this help`;

interface Run {
  readonly title: string;
  readonly args: Record<string, string | boolean | undefined>;
}

/** `dyve benchmarks`: runs the dense CPU benchmark suite and writes BENCHMARKS.md. */
export async function benchmarksCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' }, json: { type: 'string' }, data: { type: 'string' },
      'cifar-limit': { type: 'string' }, 'imagenet-limit': { type: 'string' }, 'synthetic-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(BENCHMARKS_HELP);
    return;
  }
  const cifar = intOption(values, 'cifar-limit', 10000);
  const imagenet = intOption(values, 'imagenet-limit', 1000);
  const synthetic = intOption(values, 'synthetic-limit', 4);
  const common = { data: values.data, quiet: false };
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
