/**
 * `dyve benchmarks --compare-webgpu`: `dyve compare --webgpu` on both zoo models, written as the
 * `compare-webgpu` section of BENCHMARKS.md (regenerated whole by the same command).
 */
import { writeFileSync } from 'node:fs';
import { machineDescription } from '../machine.js';
import { writeSection } from '../report/sections.js';
import { compareWebGpuMarkdown, runCompareWebGpu, type WebGpuCompareJson } from './compare-webgpu.js';

/** Per model: the command's defaults, with a budget per engine that keeps the whole run to minutes on a software adapter. */
const MODELS: readonly { model: string; budget: string }[] = [
  { model: 'cifar10-quick', budget: '60' },
  { model: 'squeezenet-dc', budget: '90' },
];

/** Whether dyvedeep's dense WebGPU is at least as fast as TF.js WebGPU at every batch of every runtime where both ran, and starts no slower than the fastest GPU peer. */
function verdicts(r: WebGpuCompareJson): string[] {
  const lines: string[] = [];
  for (const runtime of new Set(r.rows.map((row) => row.runtime))) {
    const ours = r.rows.filter((row) => row.runtime === runtime && row.engine === 'dyvedeep-webgpu-dense');
    for (const row of ours) {
      const tfjs = r.rows.find((t) => t.runtime === runtime && t.engine === 'tfjs-webgpu' && t.batch === row.batch);
      if (tfjs) lines.push(`${r.model}, ${runtime}, batch ${row.batch}: dyvedeep-webgpu-dense ${(row.imagesPerSecond / tfjs.imagesPerSecond).toFixed(2)}x tfjs-webgpu`);
    }
    const peers = r.rows.filter((row) => row.runtime === runtime && (row.engine === 'tfjs-webgpu' || row.engine === 'onnxruntime-web-webgpu'));
    if (ours[0] && peers.length > 0) {
      const fastest = Math.min(...peers.map((p) => p.coldStartMs));
      lines.push(`${r.model}, ${runtime}: cold start ${ours[0].coldStartMs.toFixed(0)} ms, the fastest GPU peer's ${fastest.toFixed(0)} ms`);
    }
  }
  return lines;
}

/** The section for the models measured so far (written after each model, so a crash keeps what ran). */
function section(results: readonly WebGpuCompareJson[], args: readonly string[]): string {
  const s = (r: WebGpuCompareJson) => r.setup;
  const tables = results.map((r) =>
    `### ${r.model}\n\n${r.setup.dataset}; batch 1: up to ${s(r).imagesBatch1} images, batch ${s(r).largeBatch}: up to ${s(r).imagesLarge}; ` +
    `budget ${s(r).engineBudgetSeconds} s per engine (\`dyve compare --webgpu --model ${r.model} --engine-budget ${s(r).engineBudgetSeconds}\`)\n\n${compareWebGpuMarkdown(r)}`);
  return `## WebGPU peers: dyvedeep vs TensorFlow.js WebGPU and onnxruntime-web WebGPU (same adapter, images and weights)

Written by \`dyve benchmarks${args.length ? ` ${args.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${machineDescription()}.
No GPU here: Chromium's adapter is SwiftShader and Node's (Dawn) is Mesa's lavapipe, both running
the shaders on the CPU (a shared 2-core machine: expect noise of tens of percent between runs), so
these numbers rank the engines' kernels and dispatch structure on a software adapter, not on a
GPU (\`npm run bench:gpu\` on a GPU machine for that).

Engines, one after the other in each runtime: dyvedeep-webgpu-dense, dyvedeep-webgpu-dynamic (the
zoo model's shipped profile; the per-neuron \`effort-neuron.json\` where the WebGPU backend refuses
tile mode, as the row says), TensorFlow.js 4.22 WebGPU on a graph built from our IR
(tfjs-webgpu), onnxruntime-web 1.30 with the \`webgpu\` execution provider on \`dyve export\`'s ONNX
graph (onnxruntime-web-webgpu), and the WebAssembly rows on one thread for reference. Cold start:
engine creation to the end of its first one-image inference (device, shader and pipeline
compilation, weight upload). Batch 1 image by image; the large batch after one untimed batch.
Dispatches and submissions per inference are counted at GPUComputePassEncoder.dispatchWorkgroups
and GPUQueue.submit for every engine alike. "agrees with CPU": timed images whose class equals
dyvedeep's CPU reference backend's, run dense, on the same image (DyVEDeep's rows show its own
approximation there); "vs tfjs-webgpu": images/s ratio at the same batch in the same runtime.

${results.flatMap(verdicts).map((l) => `- ${l}`).join('\n')}

${tables.join('\n\n')}
`;
}

export async function compareWebGpuBenchmarks(values: Record<string, string | boolean | undefined>, args: readonly string[]): Promise<void> {
  const out = typeof values.out === 'string' ? values.out : 'BENCHMARKS.md';
  const results: WebGpuCompareJson[] = [];
  let report = '';
  for (const { model, budget } of MODELS) {
    console.error(`# ${model}`);
    results.push(await runCompareWebGpu({ model, 'engine-budget': budget, data: values.data }, (line) => console.error(line)));
    report = section(results, args);
    writeSection(out, 'compare-webgpu', report);
    if (typeof values.json === 'string') writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  }
  console.log(report);
  console.error(`wrote ${out}`);
}
