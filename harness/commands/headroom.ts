import { writeFileSync } from 'node:fs';
import { DyveError } from '../../src/errors.js';
import { HeadroomCounter, tileLabel, type TileShape } from '../../src/evaluation/saturation-headroom.js';
import { openBackend } from '../../src/select-backend.js';
import { intFlag, numberFlag, parseFlags } from '../flags.js';
import { machineDescription } from '../machine.js';
import { DATA_HELP, DATA_OPTIONS, dataFlags, MODEL_HELP, MODEL_OPTIONS, openDataset, openModel } from '../model-options.js';
import { checkOutputFiles } from '../output-paths.js';
import { grouped, percent } from '../terminal/format.js';
import { ProgressBar } from '../terminal/progress.js';
import { writeSection } from '../report/sections.js';
import { renderMarkdownTable, renderTable } from '../terminal/table.js';

export const HEADROOM_HELP = `dyve headroom --model NAME|FILE.prototxt|FILE.onnx [options]

How much SPET could ever save on this model and these images: runs the network dense and, for
every Convolution and InnerProduct layer whose output a ReLU decides (the layers SPET acts on),
counts the neurons whose ReLU output is 0 and the neurons in tiles of one output channel whose
EVERY neuron is 0. Skipping exactly those tiles, with a free and perfect prediction, changes no
output: the network's MAC reduction then is the most any exact tile test can reach; an
approximate test removes more only by zeroing neurons that were not 0 (accuracy).

${MODEL_HELP}

${DATA_HELP}

Headroom:
      --tiles LIST          tile shapes, comma-separated (default 1,4,8,16,2x4,4x4):
                            T = T consecutive positions of the map in row-major order, as tile
                            mode decides (1 = per neuron; the CPU kernels run 1 and multiples
                            of 8); RxC = aligned blocks of R rows x C columns. Sides in [1, 4096]
      --prefix F            also the bound when pass 1 still computes the first F of every
                            decided neuron's sum (a prediction that reads F of K), F in [0, 1]
      --batch B             images per dense run, B >= 1 (default 8)
      --json FILE           also write the counts and bounds as JSON
      --benchmarks FILE     also write the table into FILE (e.g. BENCHMARKS.md), in the section
                            of this model (headroom-NAME), with the command that measured it
      --quiet               no progress bar
  -h, --help                this help`;

const DEFAULT_TILES = '1,4,8,16,2x4,4x4';

/** --tiles: runs (`8`) and blocks (`2x4`), sides whole numbers in [1, 4096], each shape once. */
function tileShapes(value: string): TileShape[] {
  const rule = `--tiles takes tile shapes, comma-separated: T (positions in a row) or RxC (a block), whole numbers in [1, 4096] (e.g. 1,8,2x4); found '${value}'`;
  const seen = new Set<string>();
  const shapes: TileShape[] = [];
  for (const item of value.split(',').map((t) => t.trim())) {
    const m = /^(\d+)(?:x(\d+))?$/.exec(item);
    const sides = m ? [m[1], m[2]].filter((v) => v !== undefined).map(Number) : [];
    if (!m || sides.some((n) => n < 1 || n > 4096)) throw new DyveError(rule);
    const shape: TileShape = sides.length === 1 ? { kind: 'run', positions: sides[0] } : { kind: 'block', rows: sides[0], cols: sides[1] };
    if (!seen.has(tileLabel(shape))) shapes.push(shape);
    seen.add(tileLabel(shape));
  }
  return shapes;
}

/** `dyve headroom`: the saturated share per layer and tile size, and the network bound it gives. */
export async function headroomCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    ...MODEL_OPTIONS, ...DATA_OPTIONS,
    tiles: { type: 'string' }, prefix: { type: 'string' }, batch: { type: 'string' }, json: { type: 'string' }, benchmarks: { type: 'string' }, quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(HEADROOM_HELP);
    return;
  }
  const tiles = tileShapes(values.tiles ?? DEFAULT_TILES);
  const prefix = numberFlag(values, 'prefix', undefined, { min: 0, max: 1 });
  const batch = intFlag(values, 'batch', 8, { min: 1 });
  dataFlags(values);
  checkOutputFiles(values, ['json', 'benchmarks']);

  const opened = await openModel(values);
  const { net } = opened;
  const { dataset, description } = await openDataset(opened, values);
  const counter = new HeadroomCounter(net, tiles);
  const { backend, close } = await openBackend('wasm', { threads: 1 });
  const progress = new ProgressBar(`headroom ${opened.label}`, !values.quiet);
  try {
    for (let start = 0; start < dataset.size; start += batch) {
      const n = Math.min(batch, dataset.size - start);
      const { input } = await dataset.batch(start, n);
      const run = await backend.run(net, input, n, { keepBlobs: true });
      counter.add(run.blobs as ReadonlyMap<string, Float32Array>, n);
      progress.update(start + n, dataset.size);
    }
  } finally {
    close();
  }

  const layers = counter.result();
  const bounds = tiles.map((_, k) => counter.bound(k));
  const prefixBounds = prefix === undefined ? undefined : tiles.map((_, k) => counter.bound(k, prefix));
  const columns = [{ header: 'layer' }, { header: 'MACs/image', align: 'right' as const }, ...tiles.map((t) => ({ header: tileLabel(t), align: 'right' as const }))];
  const rows = [
    ...layers.map((l) => [l.name, grouped(l.macsPerImage), ...l.skippable.map((s) => percent(l.neurons ? s / l.neurons : 0, 1))]),
    ['network MAC reduction', '', ...bounds.map((b) => `${b.toFixed(2)}x`)],
    ...(prefixBounds ? [[`with pass 1 over ${prefix} of K`, '', ...prefixBounds.map((b) => `${b.toFixed(2)}x`)]] : []),
  ];
  const what = 'share of each layer\'s neurons in tiles of one output channel (T consecutive positions, row-major, or aligned RxC blocks) whose every ReLU output is 0';
  const bound = 'network MAC reduction: dense MACs / MACs left if exactly those tiles were skipped by a free, perfect prediction (InnerProduct layers per neuron): no exact tile test removes more';
  console.log(`model     ${opened.label}, ${dataset.size} images of ${description}, dense run on the WebAssembly kernels`);
  console.log(`${what}:`);
  console.log(renderTable(columns, rows));
  console.log(bound);
  if (values.benchmarks) {
    const command = ['dyve', 'headroom', ...args.filter((a, i) => a !== '--benchmarks' && args[i - 1] !== '--benchmarks' && !a.startsWith('--benchmarks='))].join(' ');
    writeSection(values.benchmarks, `headroom-${opened.label}`, [
      `## SPET headroom: ${opened.label}`,
      '',
      `Measured by \`${command}\` on ${new Date().toISOString().slice(0, 10)} (${dataset.size} images of ${description}, dense). Cells: the ${what}. Last row${prefixBounds ? 's' : ''}: ${bound}${prefixBounds ? `; and the same when the prediction still computes ${prefix} of every skipped neuron's sum (pass 1)` : ''}.`,
      '',
      renderMarkdownTable(columns, rows),
    ].join('\n'));
  }
  if (values.json) {
    const json = {
      model: opened.label,
      dataset: description,
      images: dataset.size,
      machine: machineDescription(),
      tiles: tiles.map(tileLabel),
      layers: layers.map((l) => ({ ...l, shares: l.skippable.map((s) => (l.neurons ? s / l.neurons : 0)) })),
      macReductionBound: bounds,
      ...(prefixBounds && { prefix, macReductionBoundWithPrefix: prefixBounds }),
    };
    writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
  }
}
