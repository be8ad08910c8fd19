import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeFsError, DyveError } from '../../src/errors.js';
import { zooEntry } from '../../src/zoo/zoo.js';
import { machineDescription } from '../machine.js';
import { intFlag, parseFlags } from '../flags.js';
import { checkOutputDir, checkOutputFile } from '../output-paths.js';
import { renderBarChart } from '../report/bar-chart.js';
import { writeSection } from '../report/sections.js';
import { dropPP, percent } from '../terminal/format.js';
import { renderMarkdownTable } from '../terminal/table.js';
import { runBench, type BenchJson } from './bench.js';

export const ABLATION_HELP = `dyve ablation [--models a,b] [--out-dir DIR] [--benchmarks FILE] [--cifar-limit N] [--imagenet-limit N]

For each model with a calibrated profile (models/<name>/effort.json), evaluates on the held-out
set (CIFAR-10 test_batch.bin; the odd ImageNet samples) each mechanism alone and all together,
in tile mode (effort.json) and in neuron mode (effort-neuron.json), and the exact-SPET profile
(models/<name>/effort-exact.json) when the model has one, on the WebAssembly kernels with dense
run side by side: MAC reduction, total-op reduction, wall-time speed-up, top-1, agreement with
dense, the top-1 drop with its standard error and the number of predictions that changed. Writes DIR/ablation.md, DIR/ablation.json and three SVG charts, and the
table and charts into the ablation section of BENCHMARKS.md, beside the paper's published ranges.

      --models LIST         default: every zoo model that ships effort.json
      --out-dir DIR         default reports/
      --benchmarks FILE     default BENCHMARKS.md ('' to skip)
      --cifar-limit N       test images for CIFAR-10 models, N >= 1 (default all 10,000)
      --imagenet-limit N    odd ImageNet samples, N >= 1 (default all 500)
      --batch B             images per run, B >= 1 (default 64)
      --merge FILE.json     also show the rows of other models from an earlier ablation.json
                            (lets models run in separate processes; --models '' only redraws)
  -h, --help                this help`;

/** The paper's published ranges (DyVEDeep, all six networks). */
const PAPER = { opsReduction: [2.47, 5.15], cpuSpeedup: [1.94, 2.23] } as const;
/** The zoo models that ship a calibrated profile: what --models runs by default. */
const DEFAULT_MODELS = 'cifar10-quick,squeezenet-dc';

/**
 * Per mode, each mechanism of the calibrated profile alone, then all of it: tile mode
 * (effort.json) and the paper's per-neuron decisions (effort-neuron.json); then the exact-SPET
 * profile (per neuron).
 */
const SETTINGS = [
  { label: 'tile: SPET', mechanisms: 'spet', file: 'effort.json' },
  { label: 'tile: SDSS', mechanisms: 'sdss', file: 'effort.json' },
  { label: 'tile: SFMA', mechanisms: 'sfma', file: 'effort.json' },
  { label: 'tile: all', mechanisms: 'spet,sdss,sfma', file: 'effort.json' },
  { label: 'neuron: SPET', mechanisms: 'spet', file: 'effort-neuron.json' },
  { label: 'neuron: SDSS', mechanisms: 'sdss', file: 'effort-neuron.json' },
  { label: 'neuron: SFMA', mechanisms: 'sfma', file: 'effort-neuron.json' },
  { label: 'neuron: all', mechanisms: 'spet,sdss,sfma', file: 'effort-neuron.json' },
  { label: 'neuron: SPET exact', mechanisms: 'spet', file: 'effort-exact.json' },
] as const;

interface Row {
  readonly model: string;
  readonly setting: string;
  readonly result: BenchJson;
}

/** The models a recorded `dyve ablation` command ran (its --models list, else the default). */
function modelsOf(command: string): string[] {
  const list = /--models(?:=|\s+)('[^']*'|\S+)/.exec(command)?.[1] ?? DEFAULT_MODELS;
  return list.replace(/'/g, '').split(',').filter((m) => m !== '');
}

/** An earlier ablation.json (--merge), read as a sentence on failure. */
function readMerge(path: string): { rows: Row[]; commands?: string[]; notes?: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw describeFsError(path, '--merge file', err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DyveError(`--merge ${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { rows?: unknown }).rows)) {
    throw new DyveError(`--merge ${path}: not an ablation.json (no "rows" array)`);
  }
  return json as { rows: Row[]; commands?: string[]; notes?: string[] };
}

/** `dyve ablation`. */
export async function ablationCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    models: { type: 'string' }, 'out-dir': { type: 'string' }, benchmarks: { type: 'string' }, data: { type: 'string' },
    'cifar-limit': { type: 'string' }, 'imagenet-limit': { type: 'string' }, batch: { type: 'string' }, merge: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(ABLATION_HELP);
    return;
  }
  // Every flag and output checked before the first of many long runs.
  const limits = {
    cifar: intFlag(values, 'cifar-limit', undefined, { min: 1 }),
    imagenet: intFlag(values, 'imagenet-limit', undefined, { min: 1 }),
  };
  const batch = String(intFlag(values, 'batch', 64, { min: 1 }));
  const outDir = values['out-dir'] ?? 'reports';
  checkOutputDir('--out-dir', outDir, ['ablation.md', 'ablation.json', 'ablation-macs.svg', 'ablation-speedup.svg', 'ablation-accuracy.svg']);
  const bench = values.benchmarks ?? 'BENCHMARKS.md';
  if (bench !== '') checkOutputFile('--benchmarks', bench);
  // '' runs no model: with --merge, the report is redrawn from earlier results.
  const models = (values.models ?? DEFAULT_MODELS).split(',').filter((m) => m !== '');
  for (const model of models) {
    const profile = join(zooEntry(model).folder, 'effort.json');
    if (!existsSync(profile)) throw new DyveError(`model '${model}' has no calibrated profile (${profile}): run dyve calibrate first`);
  }
  const rows: Row[] = [];
  /** Profiles that turn nothing on, per model (no rows). */
  const notes = new Set<string>();
  // The commands whose runs the rows come from: earlier ones (merged), then this one if it ran models.
  const commands: string[] = [];
  if (values.merge) {
    const earlier = readMerge(values.merge);
    for (const n of earlier.notes ?? []) if (!models.some((m) => n.startsWith(`${m}:`))) notes.add(n);
    rows.push(...earlier.rows.filter((r) => !models.includes(r.model)));
    // An earlier run whose models all run again here is replaced, rows and command.
    commands.push(...(earlier.commands ?? []).filter((c) => !modelsOf(c).every((m) => models.includes(m))));
  }
  if (models.length > 0) commands.push(`dyve ablation ${args.map((a) => (a === '' ? "''" : a)).join(' ')}`.trim());
  for (const model of models) {
    const entry = zooEntry(model);
    const imagenet = entry.dataset === 'imagenet-sample';
    const limit = imagenet ? limits.imagenet : limits.cifar;
    for (const s of SETTINGS) {
      const file = join(entry.folder, s.file);
      if (!existsSync(file)) continue;
      // A calibration may find nothing that pays (every layer dense), or leave a mechanism off
      // everywhere: no row to measure (it would time dense against dense).
      const layers = Object.values((JSON.parse(readFileSync(file, 'utf8')) as { layers?: Record<string, object> }).layers ?? {});
      if (layers.length === 0) {
        console.error(`# ${model}: ${s.label}: ${s.file} turns nothing on (every layer dense), no row`);
        notes.add(`${model}: ${s.file} turns no mechanism on (its calibration found nothing that pays: every layer runs dense), so it has no rows.`);
        continue;
      }
      if (!s.mechanisms.split(',').some((m) => layers.some((knobs) => m in knobs))) {
        console.error(`# ${model}: ${s.label}: ${s.file} turns no ${s.mechanisms.toUpperCase()} on, no row`);
        notes.add(`${model}: ${s.file} turns no ${s.mechanisms.toUpperCase()} on (its calibration chose none), so "${s.label}" has no row.`);
        continue;
      }
      console.error(`# ${model}: ${s.label}`);
      const result = await runBench({
        // The WebAssembly kernels on every core (what `auto` runs on a CPU), dense interleaved.
        model, data: values.data, backend: 'wasm', effort: file, mechanisms: s.mechanisms, compare: 'dense', batch,
        positions: imagenet ? 'odd' : undefined, limit: limit === undefined ? undefined : String(limit),
      });
      rows.push({ model, setting: s.label, result });
    }
  }
  mkdirSync(outDir, { recursive: true });
  const table = renderMarkdownTable(
    [{ header: 'model' }, { header: 'mechanisms' }, { header: 'images', align: 'right' }, { header: 'MAC reduction', align: 'right' },
      { header: 'op reduction', align: 'right' }, { header: 'speed-up', align: 'right' }, { header: 'top-1 dense', align: 'right' },
      { header: 'top-1 dynamic', align: 'right' }, { header: 'top-1 drop (± 1 SE)', align: 'right' }, { header: 'agreement', align: 'right' },
      { header: 'changed', align: 'right' }],
    rows.map(({ model, setting, result: r }) => [
      model, setting, String(r.images), `${(r.macs.dense / r.macs.executed).toFixed(2)}x`, `${((r.dense?.opsTotal ?? 0) / r.ops.total).toFixed(2)}x`,
      `${(r.compare?.speedup ?? 0).toFixed(2)}x`, percent(r.dense?.top1 ?? null), percent(r.top1),
      r.dense?.drop ? dropPP(r.dense.drop) : '–', percent(r.agreement ?? null),
      String(Math.round(r.images * (1 - (r.agreement ?? 1)))),
    ]),
  );
  const chart = (title: string, unit: string, pick: (r: BenchJson) => number, band?: readonly [number, number], bandLabel = '') => renderBarChart({
    title, unit, series: SETTINGS.map((s) => s.label),
    groups: [...new Set(rows.map((r) => r.model))].map((m) => ({
      label: m,
      values: SETTINGS.map((s) => {
        const row = rows.find((r) => r.model === m && r.setting === s.label);
        return row ? pick(row.result) : Number.NaN;
      }),
    })),
    band: band && { from: band[0], to: band[1], label: bandLabel },
  });
  writeFileSync(join(outDir, 'ablation-macs.svg'), chart('Executed-MAC reduction vs dense', 'x', (r) => r.macs.dense / r.macs.executed, PAPER.opsReduction, 'paper: 2.47-5.15x fewer ops'));
  writeFileSync(join(outDir, 'ablation-speedup.svg'), chart('Wall-clock speed-up vs dense (CPU, side by side)', 'x', (r) => r.compare?.speedup ?? 0, PAPER.cpuSpeedup, 'paper: 1.94-2.23x on a Xeon'));
  writeFileSync(join(outDir, 'ablation-accuracy.svg'), chart('Top-1 drop vs dense on the held-out images', ' pp', (r) => 100 * ((r.dense?.top1 ?? 0) - (r.top1 ?? 0)), [0, 0.5], 'budget: 0.5 pp'));
  const markdown = `## DyVEDeep ablation (CPU)

Rows measured by ${commands.map((c) => `\`${c}\``).join(', then ')}; written on ${new Date().toISOString().slice(0, 10)}; machine: ${machineDescription()}.
Calibrated profiles: models/<model>/effort.json (tile mode) and effort-neuron.json (per-neuron decisions),
both by \`dyve calibrate\` on the calibration set only, evaluated on held-out images on the WebAssembly kernels. Speed-up = dense seconds / dynamic seconds, both measured in the same run on the same
batches, interleaved; "top-1 drop" = dense's top-1 minus the profile's on the same images, with one standard error of that paired difference; "changed" = test images whose top-1 class differs from dense. Paper (all six networks): ${PAPER.opsReduction.join('-')}x fewer scalar ops, ${PAPER.cpuSpeedup.join('-')}x CPU speed-up.

${table}
${[...notes].map((n) => `\n${n}`).join('')}

![MAC reduction](${join(outDir, 'ablation-macs.svg')})
![Speed-up](${join(outDir, 'ablation-speedup.svg')})
![Top-1 drop](${join(outDir, 'ablation-accuracy.svg')})
`;
  writeFileSync(join(outDir, 'ablation.md'), markdown);
  writeFileSync(join(outDir, 'ablation.json'), `${JSON.stringify({ machine: machineDescription(), paper: PAPER, commands, notes: [...notes], rows }, null, 2)}\n`);
  if (bench !== '') writeSection(bench, 'ablation', markdown);
  console.log(markdown);
}
