import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { limit } from '../../src/data/dataset.js';
import { calibrate, CALIBRATION_MODES, checkTilePositions, OBJECTIVES, type CalibrationMode, type Objective } from '../../src/calibration/calibration.js';
import { TILE_POSITIONS_RULE } from '../../src/effort/knob-rules.js';
import { MECHANISMS, type Mechanism } from '../../src/effort/profile.js';
import { DyveError } from '../../src/errors.js';
import { machineDescription } from '../machine.js';
import { intFlag, numberFlag, parseFlags } from '../flags.js';
import { DATA_HELP, DATA_OPTIONS, dataFlags, MODEL_HELP, MODEL_OPTIONS, openDataset, openModel, seedFlag } from '../model-options.js';
import { checkOutputFile, checkOutputFiles } from '../output-paths.js';
import { ProgressBar } from '../terminal/progress.js';
import { dropPP } from '../terminal/format.js';
import { FallbackBackend, openBackend } from '../../src/select-backend.js';
import type { Backend } from '../../src/backends/backend.js';
import { WebGpuBackend } from '../../src/backends/webgpu/webgpu-backend.js';
import { wasmTimer, type LayerTimer } from '../../src/calibration/layer-timer.js';
import { webgpuTimer } from '../../src/calibration/webgpu-layer-timer.js';

export const CALIBRATE_HELP = `dyve calibrate --model NAME|FILE.prototxt|FILE.onnx --out PROFILE.json [--budget PP] [--calib N] [options]

Searches the DyVEDeep knobs of every layer (SPET, SDSS, SFMA) that cut the most executed MACs
while top-1 on the CALIBRATION set stays within --budget percentage points of dense. Never uses
the test set: CIFAR-10 models calibrate on data_batch_1.bin, ImageNet samples on the even
positions (the odd ones evaluate).

How: (1) on --probe images drawn with --seed, every candidate setting of every layer runs that
layer alone on its dense inputs: what it saves vs output error, logged as each layer's Pareto
front; (2) one trade-off number picks a setting per layer, bisected over --steps evaluations of
the whole calibration set to the most aggressive profile within the budget; (3) --refine single
layers move one setting further while the budget holds; (4) --knob-steps bisect each chosen
layer's SDSS delta and SFMA epsilon toward 1.5x, into the gaps of the grid. With --objective
macs, same seed, same profile; with --objective time the savings are measured on this machine
(logged, and recorded in the profile with the machine), so a rerun may pick differently where
timings are close.

      --out FILE            the profile to write (required; its folder must exist)
      --budget PP           top-1 drop allowed, percentage points in [0, 100] (default 0.5)
      --calib N             calibration images, N >= 1 (default: all of the calibration set)
      --mechanisms LIST     search only these (default spet,sdss,sfma)
      --mode MODE           tile (default): every Convolution candidate decides per tile of
                            one output channel x --tile positions, on a grid widened for tile
                            decisions (SPET fractions 0.125-0.5 and thresholds up to 1.5 x the
                            pre-activation's std, SDSS deltas up to the output's RMS);
                            InnerProduct layers keep per-neuron SPET. neuron: the paper's
                            per-neuron decisions, the per-neuron grid
      --tile LIST           tile mode: positions per tile, ${TILE_POSITIONS_RULE}
                            (1: per-neuron decisions); a comma list (e.g. 2,8) searches the
                            tile size too (default 8)
      --objective OBJ       time (default): a candidate is credited with the time its layer
                            saves, timed alone against the dense layer on the probe images
                            (median of --repeats interleaved runs): wall time on the wasm
                            kernels, or where the calibration set runs on WebGPU the GPU time
                            the layer's dispatches span on that device (its profile for it). A
                            mechanism that does not pay for its extra pass leaves its layer
                            dense; the log keeps the ops too. macs: credited with executed ops
      --repeats N           --objective time: timed runs per candidate and dense, N >= 1
                            (default 5)
      --probe N             images the layer sensitivities are measured on, N >= 1 (default 64)
      --seed N              seed of the probe draw (and of synthetic weights), a whole number
                            in [0, 4294967295] (default 1)
      --steps N             bisection steps, one calibration-set evaluation each, N >= 0
                            (default 8)
      --refine N            then single-layer refinement steps, one evaluation each, N >= 0
                            (default 4)
      --knob-steps N        then per chosen layer, bisection steps of its SDSS delta and SFMA
                            epsilon (up to 1.5x), one evaluation each, N >= 0 (default 3)
      --batch B             images per run, B >= 1 (default 16)
      --backend NAME        where the calibration set is evaluated: auto (default: what
                            'dyve bench' picks, with its notice), cpu, wasm, webgpu; the layer
                            sensitivities' ops and errors come from the wasm kernels (the fast
                            TypeScript ones for --mode neuron --objective macs), their times
                            from the device when this is WebGPU (see --objective)
      --log FILE            also write the search log
      --quiet               no progress bars (the log still goes to stderr)

${MODEL_HELP}

${DATA_HELP.replace(/\n *--limit N .*/, '')}`;

/** What `--mode`, `--tile`, `--objective` and `--repeats` ask of the search. */
export interface SearchSettings {
  readonly mode: CalibrationMode;
  /** Tile sizes searched, ascending (empty in neuron mode). */
  readonly tilePositions: readonly number[];
  readonly objective: Objective;
  readonly repeats: number;
}

/**
 * Reads the search options of `dyve calibrate` (defaults: tile mode, tile 8, objective time, 5
 * repeats).
 *
 * @throws DyveError naming the option on a bad value, or on --tile with --mode neuron.
 */
export function searchSettings(values: { mode?: string; tile?: string; objective?: string; repeats?: string }): SearchSettings {
  const mode = (values.mode ?? 'tile') as CalibrationMode;
  if (!CALIBRATION_MODES.includes(mode)) throw new DyveError(`--mode takes ${CALIBRATION_MODES.join(' or ')}, found '${values.mode}'`);
  const objective = (values.objective ?? 'time') as Objective;
  if (!OBJECTIVES.includes(objective)) throw new DyveError(`--objective takes ${OBJECTIVES.join(' or ')}, found '${values.objective}'`);
  if (mode === 'neuron' && values.tile !== undefined) throw new DyveError('--tile applies to --mode tile (per-neuron decisions have no tiles)');
  let tilePositions: number[] = [];
  if (mode === 'tile') {
    const rule = `--tile takes positions per tile, each ${TILE_POSITIONS_RULE}, comma-separated (e.g. 2,8)`;
    const items = (values.tile ?? '8').split(',').map((t) => t.trim());
    if (items.some((t) => !/^\d+$/.test(t))) throw new DyveError(`${rule}, found '${values.tile}'`);
    try {
      tilePositions = checkTilePositions(items.map(Number));
    } catch {
      throw new DyveError(`${rule}, found '${values.tile}'`);
    }
  }
  const repeats = intFlag(values, 'repeats', 5, { min: 1 });
  return { mode, tilePositions, objective, repeats };
}

/** Objective time's clock: the device where the calibration set runs on WebGPU, else the wasm kernels. */
function timerFor(backend: Backend): LayerTimer {
  const gpu = backend instanceof WebGpuBackend ? backend : backend instanceof FallbackBackend && backend.name === 'webgpu' ? backend.gpu : null;
  return gpu ? webgpuTimer(gpu) : wasmTimer();
}

/** `dyve calibrate`. */
export async function calibrateCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    ...MODEL_OPTIONS, ...DATA_OPTIONS, out: { type: 'string' }, budget: { type: 'string' }, calib: { type: 'string' },
    mechanisms: { type: 'string' }, mode: { type: 'string' }, tile: { type: 'string' }, objective: { type: 'string' }, repeats: { type: 'string' }, probe: { type: 'string' }, seed: { type: 'string' }, steps: { type: 'string' }, refine: { type: 'string' }, 'knob-steps': { type: 'string' }, batch: { type: 'string' }, backend: { type: 'string' }, log: { type: 'string' }, quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(CALIBRATE_HELP);
    return;
  }
  // Every flag and output path checked before the model opens and the search starts.
  if (values.out === undefined) throw new DyveError('--out PROFILE.json is required');
  checkOutputFile('--out', values.out);
  checkOutputFiles(values, ['log']);
  if (values.limit !== undefined) throw new DyveError('--limit does not apply to calibrate: --calib N takes the first N calibration images');
  const budgetPP = numberFlag(values, 'budget', 0.5, { min: 0, max: 100 });
  const mechanisms = (values.mechanisms ?? MECHANISMS.join(',')).split(',') as Mechanism[];
  for (const m of mechanisms) if (!MECHANISMS.includes(m)) throw new DyveError(`--mechanisms: unknown mechanism '${m}' (known: ${MECHANISMS.join(', ')})`);
  const search = searchSettings(values);
  const probe = intFlag(values, 'probe', 64, { min: 1 });
  const seed = seedFlag(values);
  const n = intFlag(values, 'calib', undefined, { min: 1 });
  const batch = intFlag(values, 'batch', 16, { min: 1 });
  const steps = intFlag(values, 'steps', 8, { min: 0 });
  const refine = intFlag(values, 'refine', 4, { min: 0 });
  const knobSteps = intFlag(values, 'knob-steps', 3, { min: 0 });
  dataFlags(values);

  const opened = await openModel(values);
  // The named sets (given or the zoo's default) calibrate on their calibration split, never on
  // the test images; a file or folder given by path is taken as it is.
  const named = typeof values.dataset === 'string' ? values.dataset : opened.entry?.dataset;
  const split = named === 'cifar10' ? { dataset: join(opened.dataDir, 'cifar10', 'data_batch_1.bin') } : {};
  const positions = values.positions ?? (named === 'imagenet-sample' ? 'even' : undefined);
  let { dataset } = await openDataset(opened, { ...values, ...split, positions, limit: undefined });
  if (n !== undefined) dataset = limit(dataset, n);

  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.error(line);
  };
  const machine = machineDescription();
  log(`calibrating ${opened.label} on ${dataset.name} (${dataset.size} images), budget ${budgetPP} pp, mechanisms ${mechanisms.join(',')}`);
  log(`machine: ${machine}`);
  const bars = new Map<string, ProgressBar>();
  const onProgress = (step: string, done: number, total: number): void => {
    if (values.quiet) return;
    let bar = bars.get(step);
    if (!bar) bars.set(step, (bar = new ProgressBar(`  ${step}`, true, process.stderr, step === 'sensitivity' ? 'layer' : 'img')));
    bar.update(done, total);
  };
  const { backend, close } = await openBackend(typeof values.backend === 'string' ? values.backend : 'auto');
  const result = await calibrate(opened.net, dataset, backend, {
    budgetPP, batch, mechanisms, log, onProgress,
    probe, seed, steps,
    refine, knobSteps, mode: search.mode, objective: search.objective, repeats: search.repeats, timer: timerFor(backend),
    ...(search.mode === 'tile' && { tilePositions: search.tilePositions }),
  }).finally(close);
  const profile = {
    ...result.profile,
    model: opened.label,
    calibration: {
      command: `dyve calibrate ${args.join(' ')}`,
      dataset: dataset.name,
      images: dataset.size,
      budgetPP,
      denseTop1: result.denseTop1,
      top1: result.top1,
      ...(result.drop && { top1DropPP: result.drop.dropPP, top1DropStandardErrorPP: result.drop.standardErrorPP }),
      macReduction: result.macReduction,
      opsReduction: result.opsReduction,
      lambda: result.lambda,
      evaluations: result.evaluations,
      mode: result.mode,
      ...(result.mode === 'tile' && { tilePositions: result.tilePositions }),
      objective: result.objective,
      ...(result.objective === 'time' && { repeats: search.repeats, probeSeconds: result.probeSeconds, clock: result.clock, timedOn: result.timedOn }),
      seed,
      probe,
      machine,
    },
  };
  writeFileSync(values.out, `${JSON.stringify(profile, null, 2)}\n`);
  if (values.log) writeFileSync(values.log, `${lines.join('\n')}\n`);
  console.log(`wrote ${values.out}: ${result.macReduction.toFixed(2)}x fewer MACs, ${result.opsReduction.toFixed(2)}x fewer ops, top-1 ${(100 * result.top1).toFixed(2)} % vs dense ${(100 * result.denseTop1).toFixed(2)} % on the calibration set${
    result.drop ? ` (drop ${dropPP(result.drop)})` : ''}`);
}
