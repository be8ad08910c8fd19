import { writeFileSync } from 'node:fs';
import { DyveError } from '../../src/errors.js';
import { HeadroomCounter, tileLabel, type TileShape } from '../../src/evaluation/saturation-headroom.js';
import { openBackend } from '../../src/select-backend.js';
import { samplingLabel, SDSS_TESTS, SdssHeadroom, sdssLayers, type SdssOracleResult, type SdssOracleSetting, type SdssTest } from '../../src/evaluation/sdss-headroom.js';
import { SDSS_PATTERNS, type SdssSampling } from '../../src/effort/effort.js';
import { convParams } from '../../src/ir/layer-params.js';
import type { Layer } from '../../src/ir/network.js';
import { initWasmKernels } from '../../src/backends/cpu/wasm/wasm-loader.js';
import { intFlag, listFlag, numberFlag, parseFlags, type FlagValues } from '../flags.js';
import { machineDescription } from '../machine.js';
import { DATA_HELP, DATA_OPTIONS, dataFlags, MODEL_HELP, MODEL_OPTIONS, openDataset, openModel } from '../model-options.js';
import { checkOutputFiles } from '../output-paths.js';
import { dropPP, grouped, percent } from '../terminal/format.js';
import { ProgressBar } from '../terminal/progress.js';
import { writeSection } from '../report/sections.js';
import { renderMarkdownTable, renderTable } from '../terminal/table.js';

export const HEADROOM_HELP = `dyve headroom --model NAME|FILE.prototxt|FILE.onnx [--mechanism spet|sdss] [options]

What a mechanism could at best save on this model and these images, with a perfect test.

SPET (default): runs the network dense and, for every Convolution and InnerProduct layer whose
output a ReLU decides (the layers SPET acts on), counts the neurons whose ReLU output is 0 and the
neurons in tiles of one output channel whose EVERY neuron is 0. Skipping exactly those tiles, with
a free and perfect prediction, changes no output: the network's MAC reduction then is the most any
exact tile test can reach; an approximate test removes more only by zeroing neurons that were not
0 (accuracy).

SDSS (--mechanism sdss): SDSS's grid, tiles and interpolation with a perfect test: a tile of
off-grid neurons (one output channel, tile mode's order) is interpolated when every neuron's true
error |mean of its grid neighbours - its value| is within the limit; beside it, on the same images,
SDSS's own neighbour test (max - min of the grid neighbours within the limit, i.e. delta). Limits
are tolerances x the layer's output standard deviation (rectified where a ReLU follows). The
network runs on and its top-1 is compared with dense on the same images. Per layer alone and all
of them at once: the network MAC reduction, the top-1 drop (± one standard error) and the share
interpolated. The perfect test interpolates exactly the neurons the interpolation gets right, which
no test deciding before it computes them knows: the gap between the two tests is what a better test
could win, what stays between the perfect test and dense the cost of the grid itself. A third test,
low-rank, is a candidate that decides before computing: each neuron's value is estimated as the
mean of its grid neighbours (before the ReLU) plus its interpolation error projected on the R
principal directions of the layer's errors across output channels (fitted on the first batch's
dense run); a tile passes when every estimate is within the limit of the mean SDSS would store.
It costs R x K MACs per off-grid position and R per neuron, counted in its MAC reduction.

${MODEL_HELP}

${DATA_HELP}

Headroom:
      --mechanism spet|sdss what to bound (default spet)
      --tiles LIST          tile shapes, comma-separated (SPET default 1,4,8,16,2x4,4x4; SDSS
                            default 4, runs only):
                            T = T consecutive positions of the map in row-major order, as tile
                            mode decides (1 = per neuron; the CPU kernels run 1, 2, 4 and multiples
                            of 8); RxC = aligned blocks of R rows x C columns. Sides in [1, 4096]
      --prefix F            SPET: also the bound when pass 1 still computes the first F of every
                            decided neuron's sum (a prediction that reads F of K), F in [0, 1]
      --stride S            SDSS: the grid's stride, S in [2, 64] (default 2)
      --pattern square|checkerboard
                            SDSS: where the grid samples (default square: every S-th row and
                            column; checkerboard: the positions whose row + column is even, stride
                            2 only; the pattern tile-mode profiles may choose)
      --tolerance LIST      SDSS: the limits, x the layer's output standard deviation, comma-
                            separated numbers >= 0 (default 0.5,1,2)
      --tests LIST          SDSS: the tests run, comma-separated, of perfect, neighbours and
                            low-rank (default all three)
      --rank R              SDSS: the low-rank test's principal directions per group, R >= 1 and
                            at most every listed layer's output channels per group (default 2)
      --layers LIST         SDSS: the Convolution layers measured (default: every one with
                            positions off the grid), each alone and then all at once: every
                            setting runs the whole network, so on a large model name a few
      --batch B             images per dense run, B >= 1 (default 8)
      --json FILE           also write the counts and bounds as JSON
      --benchmarks FILE     also write the table into FILE (e.g. BENCHMARKS.md), in the section
                            of this model (headroom-NAME), with the command that measured it
      --quiet               no progress bar
  -h, --help                this help`;

const DEFAULT_TILES = '1,4,8,16,2x4,4x4';
const DEFAULT_SDSS_TILES = '4';
const DEFAULT_TOLERANCES = '0.5,1,2';
const SPET_ONLY = ['prefix'] as const;
const DEFAULT_RANK = 2;
const SDSS_ONLY = ['stride', 'pattern', 'tolerance', 'layers', 'tests', 'rank'] as const;

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

/** `dyve headroom`: what SPET (saturated tiles) or SDSS (a perfect interpolation test) could at best save. */
export async function headroomCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    ...MODEL_OPTIONS, ...DATA_OPTIONS,
    mechanism: { type: 'string' }, tiles: { type: 'string' }, prefix: { type: 'string' }, stride: { type: 'string' }, pattern: { type: 'string' }, tolerance: { type: 'string' },
    layers: { type: 'string' }, tests: { type: 'string' }, rank: { type: 'string' }, batch: { type: 'string' }, json: { type: 'string' }, benchmarks: { type: 'string' }, quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(HEADROOM_HELP);
    return;
  }
  const mechanism = values.mechanism ?? 'spet';
  if (mechanism !== 'spet' && mechanism !== 'sdss') throw new DyveError(`--mechanism takes spet or sdss, found '${mechanism}'`);
  const other = (mechanism === 'spet' ? SDSS_ONLY : SPET_ONLY).find((flag) => values[flag] !== undefined);
  if (other) throw new DyveError(`--${other} belongs to --mechanism ${mechanism === 'spet' ? 'sdss' : 'spet'}`);
  const command = ['dyve', 'headroom', ...args.filter((a, i) => a !== '--benchmarks' && args[i - 1] !== '--benchmarks' && !a.startsWith('--benchmarks='))].join(' ');
  if (mechanism === 'sdss') await sdssHeadroom(values, command);
  else await spetHeadroom(values, command);
}

type HeadroomValues = FlagValues & {
  readonly tiles?: string; readonly prefix?: string; readonly stride?: string; readonly pattern?: string; readonly tolerance?: string; readonly layers?: string;
  readonly tests?: string; readonly rank?: string;
  readonly batch?: string; readonly json?: string; readonly benchmarks?: string; readonly quiet?: boolean;
};

/** The saturated share per layer and tile size, and the network bound it gives. */
async function spetHeadroom(values: HeadroomValues, command: string): Promise<void> {
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
  writeReports(values, {
    section: `headroom-${opened.label}`,
    title: `SPET headroom: ${opened.label}`,
    text: `Measured by \`${command}\` on ${today()} (${dataset.size} images of ${description}, dense). Cells: the ${what}. Last row${prefixBounds ? 's' : ''}: ${bound}${prefixBounds ? `; and the same when the prediction still computes ${prefix} of every skipped neuron's sum (pass 1)` : ''}.`,
    table: renderMarkdownTable(columns, rows),
  }, {
    model: opened.label, dataset: description, images: dataset.size, machine: machineDescription(),
    tiles: tiles.map(tileLabel),
    layers: layers.map((l) => ({ ...l, shares: l.skippable.map((s) => (l.neurons ? s / l.neurons : 0)) })),
    macReductionBound: bounds,
    ...(prefixBounds && { prefix, macReductionBoundWithPrefix: prefixBounds }),
  });
}

/** YYYY-MM-DD, as the sections date their measurements. */
function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** --benchmarks: `report` as the section of its name in that file; --json: `json`. */
function writeReports(values: HeadroomValues, report: { section: string; title: string; text: string; table: string }, json: object): void {
  if (values.benchmarks) writeSection(values.benchmarks, report.section, [`## ${report.title}`, '', report.text, '', report.table].join('\n'));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
}

/** --tolerance: numbers >= 0, comma-separated, each once. */
function tolerances(value: string): number[] {
  const items = value.split(',').map((t) => t.trim());
  const numbers = items.map(Number);
  if (items.some((t) => t === '') || numbers.some((n) => !(Number.isFinite(n) && n >= 0))) {
    throw new DyveError(`--tolerance takes numbers >= 0, comma-separated (e.g. 0.25,0.5,1); found '${value}'`);
  }
  return [...new Set(numbers)];
}

/** The low-rank test's captured error variance per layer (groups averaged), for the reports. */
function lowRankShares(headroom: SdssHeadroom, layers: readonly string[], rank: number): string {
  return layers.map((l) => {
    const c = headroom.bases.get(`${l}/${rank}`)?.captured ?? [];
    return `${l} ${percent(c.length ? c.reduce((a, b) => a + b, 0) / c.length : 0, 0)}`;
  }).join(', ');
}

/** One cell of the SDSS table: MAC reduction, top-1 drop (± SE), interpolated share; `unscored` says why a drop is missing. */
function sdssCell(r: SdssOracleResult, unscored: string): string {
  return `${r.macReduction.toFixed(2)}x, ${r.drop ? dropPP(r.drop) : unscored}, ${percent(r.interpolated, 0)}`;
}

/** SDSS with a perfect test: per layer alone and all at once, per tile size and tolerance. */
async function sdssHeadroom(values: HeadroomValues, command: string): Promise<void> {
  const stride = intFlag(values, 'stride', 2, { min: 2, max: 64 });
  const pattern = SDSS_PATTERNS.find((p) => p === (values.pattern ?? 'square'));
  if (pattern === undefined) throw new DyveError(`--pattern takes ${SDSS_PATTERNS.join(' or ')}, found '${values.pattern}'`);
  if (pattern === 'checkerboard' && stride !== 2) throw new DyveError(`--pattern checkerboard samples every other position: its stride is 2, found --stride ${stride}`);
  const sampling: SdssSampling = { stride, pattern };
  const tiles = tileShapes(values.tiles ?? DEFAULT_SDSS_TILES).map((t) => {
    if (t.kind !== 'run') throw new DyveError(`--mechanism sdss takes tiles of T consecutive positions (tile mode's), not blocks; found '${tileLabel(t)}'`);
    return t.positions;
  });
  const tols = tolerances(values.tolerance ?? DEFAULT_TOLERANCES);
  const tests = listFlag(values.tests, 'tests', SDSS_TESTS) ?? [...SDSS_TESTS];
  const rank = intFlag(values, 'rank', DEFAULT_RANK, { min: 1 });
  if (values.rank !== undefined && !tests.includes('low-rank')) throw new DyveError('--rank belongs to the low-rank test (--tests ...,low-rank)');
  const batch = intFlag(values, 'batch', 8, { min: 1 });
  dataFlags(values);
  checkOutputFiles(values, ['json', 'benchmarks']);

  const opened = await openModel(values);
  const { net } = opened;
  const eligible = sdssLayers(net, sampling).map((l) => l.name);
  const layers = values.layers === undefined ? eligible : values.layers.split(',').map((l) => l.trim());
  const wrong = layers.find((l) => !eligible.includes(l));
  if (wrong !== undefined || layers.length === 0) {
    throw new DyveError(`--layers takes Convolution layers of ${opened.label} with positions off the ${samplingLabel(sampling)} grid (${eligible.join(', ') || 'none'}); found '${wrong ?? ''}'`);
  }
  if (tests.includes('low-rank')) {
    const perGroup = Math.min(...layers.map((name) => {
      const l = net.layers.find((x) => x.name === name) as Layer;
      return l.outputShapes[0].c / convParams(l).group;
    }));
    if (rank > perGroup) throw new DyveError(`--rank takes a whole number in [1, ${perGroup}] here: the listed layers' fewest output channels per group; found ${rank}`);
  }
  const scopes = layers.length > 1 ? [...layers.map((l) => [l]), layers] : [layers];
  const settings: SdssOracleSetting[] = scopes.flatMap((layers) => tiles.flatMap((positions) => tests.flatMap((test) => tols.map((tolerance) => ({
    layers, test, positions, tolerance, ...(test === 'low-rank' && { rank }),
  })))));
  const { dataset, description } = await openDataset(opened, values);
  await initWasmKernels();
  const headroom = new SdssHeadroom(net, settings, sampling, 'wasm');
  const progress = new ProgressBar(`sdss headroom ${opened.label}`, !values.quiet);
  for (let start = 0; start < dataset.size; start += batch) {
    const n = Math.min(batch, dataset.size - start);
    const { input, labels } = await dataset.batch(start, n);
    // Seeded random weights carry no accuracy: their images are not scored.
    headroom.add(input, net.synthetic ? labels.map(() => -1) : labels, n);
    progress.update(start + n, dataset.size);
  }
  const results = headroom.result();
  const unscored = net.synthetic ? 'no accuracy (synthetic weights)' : 'no labels';

  // The one scope of several layers is every layer listed.
  const scopeLabel = (scope: readonly string[]) => (scope.length === 1 ? scope[0] : 'all at once');
  const columns = [
    { header: 'layers' }, { header: 'tiles', align: 'right' as const }, { header: 'test' },
    ...tols.map((t) => ({ header: `limit ${t} sigma`, align: 'right' as const })),
  ];
  const rows = scopes.flatMap((scope) => tiles.flatMap((positions) => tests.map((test) => [
    scopeLabel(scope), String(positions), test === 'low-rank' ? `low-rank ${rank}` : test,
    ...tols.map((tolerance) => sdssCell(results.find((r) => r.layers === scope && r.test === test && r.positions === positions && r.tolerance === tolerance) as SdssOracleResult, unscored)),
  ])));
  const sigmas = layers.map((l) => `${l} ${(headroom.sigma.get(l) ?? 0).toPrecision(3)}`).join(', ');
  const testText: Record<SdssTest, string> = {
    perfect: 'perfect = its true interpolation error |mean of its grid neighbours - value| is within the limit (what no test deciding before it computes the neuron knows)',
    neighbours: "neighbours = SDSS's own test, max - min of its grid neighbours within the limit (delta)",
    'low-rank': `low-rank ${rank} = its value estimated before computing it, as the mean of its grid neighbours before the ReLU plus its interpolation error projected on the ${rank} principal directions of the layer's errors across output channels (fitted on the first batch's dense run; captured share of that error variance: ${lowRankShares(headroom, layers, rank)}), is within the limit of the mean SDSS stores (its MACs, ${rank} x K per off-grid position and ${rank} per neuron, are counted)`,
  };
  const what = `SDSS (${pattern === 'checkerboard' ? 'checkerboard' : `stride ${stride}`}, tile mode) with ${tests.length === 1 ? 'one test' : `${tests.length} tests`}: a tile of off-grid neurons is interpolated when every neuron passes; ${tests.map((t) => testText[t]).join('; ')}; limits in units of sigma, the layer's output standard deviation (${sigmas}); cells: network MAC reduction, top-1 drop against dense on the same images (± one standard error), share of the layers' neurons interpolated`;
  console.log(`model     ${opened.label}, ${dataset.size} images of ${description}, on the WebAssembly kernels`);
  console.log(`${what}:`);
  console.log(renderTable(columns, rows));
  writeReports(values, {
    // The square grid's section keeps its name; another pattern has one of its own.
    section: `sdss-headroom-${pattern === 'square' ? '' : `${pattern}-`}${opened.label}`,
    title: `SDSS headroom${pattern === 'square' ? '' : ` (${pattern})`}: ${opened.label}`,
    text: `Measured by \`${command}\` on ${today()} (${dataset.size} images of ${description}). ${what[0].toUpperCase()}${what.slice(1)}.`,
    table: renderMarkdownTable(columns, rows),
  }, {
    model: opened.label, dataset: description, images: dataset.size, machine: machineDescription(),
    mechanism: 'sdss', stride, pattern, tests, ...(tests.includes('low-rank') && { rank, lowRankCaptured: Object.fromEntries(layers.map((l) => [l, headroom.bases.get(`${l}/${rank}`)?.captured ?? []])) }), sigma: Object.fromEntries(layers.map((l) => [l, headroom.sigma.get(l) ?? 0])), results,
  });
}
