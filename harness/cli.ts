import { DyveError } from '../src/errors.js';
import { BENCH_HELP, benchCommand } from './commands/bench.js';
import { BENCH_GPU_HELP, benchGpuCommand } from './commands/bench-gpu.js';
import { ABLATION_HELP, ablationCommand } from './commands/ablation.js';
import { BENCHMARKS_HELP, benchmarksCommand } from './commands/benchmarks.js';
import { BROWSER_BENCH_HELP, browserBenchCommand } from './commands/browser-bench.js';
import { CALIBRATE_HELP, calibrateCommand } from './commands/calibrate.js';
import { COMPARE_HELP, compareCommand } from './commands/compare.js';
import { EXPORT_HELP, exportCommand } from './commands/export.js';
import { HEADROOM_HELP, headroomCommand } from './commands/headroom.js';
import { INFO_HELP, infoCommand } from './commands/info.js';
import { MODELS_HELP, modelsCommand } from './commands/models.js';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<void> | void; help: string; summary: string }> = {
  ablation: { run: ablationCommand, help: ABLATION_HELP, summary: 'mechanism ablation report: table, JSON, SVG charts' },
  bench: { run: benchCommand, help: BENCH_HELP, summary: 'accuracy, ops and speed of a model over a dataset' },
  'bench-gpu': { run: benchGpuCommand, help: BENCH_GPU_HELP, summary: 'WebGPU rows of the zoo in Node, Deno and Chromium (npm run bench:gpu)' },
  'browser-bench': { run: browserBenchCommand, help: BROWSER_BENCH_HELP, summary: 'the benchmark inside headless Chromium (WebGPU)' },
  calibrate: { run: calibrateCommand, help: CALIBRATE_HELP, summary: 'search DyVEDeep knobs within an accuracy budget' },
  compare: { run: compareCommand, help: COMPARE_HELP, summary: 'dyvedeep vs onnxruntime and TensorFlow.js, same images, side by side' },
  export: { run: exportCommand, help: EXPORT_HELP, summary: 'write a model with its weights as an ONNX file' },
  headroom: { run: headroomCommand, help: HEADROOM_HELP, summary: 'the most SPET (saturated tiles) or SDSS (a perfect test) could save' },
  info: { run: infoCommand, help: INFO_HELP, summary: 'layers, shapes, parameters and MACs of a model' },
  models: { run: modelsCommand, help: MODELS_HELP, summary: 'the model zoo' },
  benchmarks: { run: benchmarksCommand, help: BENCHMARKS_HELP, summary: 'measure the zoo and write BENCHMARKS.md' },
};

const USAGE = `dyve — dynamic variable effort inference for Caffe CNNs

Usage: dyve <command> [options]     (dyve <command> --help for its options)

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`).join('\n')}`;

/** Entry point of the `dyve` command. Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(rest[0] && COMMANDS[rest[0]] ? COMMANDS[rest[0]].help : USAGE);
    return 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    console.error(`dyve: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  try {
    await entry.run(rest);
    return 0;
  } catch (err) {
    // Our own errors and bad flags are the user's to fix: one clear line, no stack.
    const code = (err as { code?: string }).code;
    if (err instanceof DyveError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`dyve ${command}: ${(err as Error).message}`);
      return 1;
    }
    throw err;
  }
}
