/**
 * The WebGPU parity tests under Deno: its own WebGPU (wgpu, `navigator.gpu`) runs the built
 * library (dist/) unchanged, against the CPU reference running in Deno too. Run by `npm test`
 * through `deno task test` (see deno.json); fails, not skips, without an adapter.
 */
import { CpuBackend, runLayer } from '../src/backends/cpu/cpu-backend.ts';
import { cifar10Dataset, imageFolderDataset, type Dataset } from '../src/data/dataset.ts';
import { resolveDataDir } from '../src/data/data-dir.ts';
import { loadProfile } from '../src/effort/load-profile.ts';
import { argmax } from '../src/evaluation/top-k.ts';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.ts';
import type { Network } from '../src/ir/network.ts';
import { packageFile } from '../src/package-root.ts';
import { DYNAMIC_DECISION_TOLERANCE, PARITY_RELATIVE_TOLERANCE, relativeError } from '../test/tolerances.ts';
import { withGpu } from './gpu.ts';

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

const DATA = resolveDataDir();
const cifar = await loadNetwork(`${DATA}/caffe/cifar10_quick.prototxt`, { kind: 'file', path: `${DATA}/caffe/cifar10_quick_iter_5000.caffemodel` });
const cifarTest = await cifar10Dataset(`${DATA}/cifar10/test_batch.bin`, { channels: 'rgb', mean: await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`) }, cifar.inputShape);
const squeezenet = await loadNetwork(`${DATA}/squeezenet/SqueezeNet_deploy.prototxt`, { kind: 'file', path: `${DATA}/squeezenet/compressed_SqueezeNet.net` });
const imagenet = await imageFolderDataset(`${DATA}/imagenet-sample`,
  { resize: { width: 256, height: 256 }, crop: 227, channels: 'bgr', mean: { values: [104, 117, 123] } }, squeezenet.inputShape);

async function predictions(data: Dataset, run: (x: Float32Array, n: number) => Promise<{ output: Float32Array; macs: [number, number] }>, count: number) {
  const pred: number[] = [];
  let correct = 0;
  const macs = [0, 0];
  for (let first = 0; first < count; first += 100) {
    const { input, labels } = await data.batch(first, Math.min(100, count - first));
    const r = await run(input, labels.length);
    macs[0] += r.macs[0];
    macs[1] += r.macs[1];
    const classes = r.output.length / labels.length;
    for (let i = 0; i < labels.length; i++) {
      pred.push(argmax(r.output, i * classes, classes));
      if (pred[pred.length - 1] === labels[i]) correct++;
    }
  }
  return { pred, correct, macs };
}

const sums = (counters: readonly { macsDense: number; macsExecuted: number }[]): [number, number] =>
  counters.reduce<[number, number]>((s, c) => [s[0] + c.macsDense, s[1] + c.macsExecuted], [0, 0]);

Deno.test('Deno WebGPU: every layer of cifar10-quick and squeezenet-dc equals the CPU reference', () => withGpu(async (gpu) => {
  for (const [net, data, batch] of [[cifar, cifarTest, 4], [squeezenet, imagenet, 1]] as const) {
    const { input } = await data.batch(0, batch);
    const captured: { layer: Network['layers'][number]; inputs: Float32Array[]; outputs: Float32Array[] }[] = [];
    new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, {
      onLayer: (layer, inputs, outputs) => captured.push({ layer, inputs: inputs.map((a) => a.slice()), outputs: outputs.map((a) => a.slice()) }),
    });
    for (const c of captured) {
      const r = await gpu.runLayer(c.layer, c.inputs, batch);
      const err = relativeError(r.outputs[0], c.outputs[0]);
      check(err <= PARITY_RELATIVE_TOLERANCE, `${net.name} ${c.layer.name}: relative error ${err}`);
    }
  }
}));

Deno.test('Deno WebGPU: cifar10-quick dense top-1 equals the CPU on >= 99.9 % of 1,000 images; calibrated profile within 0.2 pp and 1 % of the MAC reduction', () => withGpu(async (gpu) => {
  const cpu = new CpuBackend();
  const a = await predictions(cifarTest, async (x, n) => { const r = await gpu.run(cifar, x, n); return { output: r.output, macs: sums(r.counters) }; }, 1000);
  const b = await predictions(cifarTest, async (x, n) => { const r = await cpu.run(cifar, x, n); return { output: r.output, macs: sums(r.counters) }; }, 1000);
  const agree = a.pred.filter((p, i) => p === b.pred[i]).length / 1000;
  check(agree >= 0.999, `dense agreement ${agree}`);

  const profile = await loadProfile(packageFile('models/cifar10-quick/effort-neuron.json'), cifar);
  const g = await predictions(cifarTest, async (x, n) => { const r = await gpu.run(cifar, x, n, { effort: profile }); return { output: r.output, macs: sums(r.counters) }; }, 1000);
  const c = await predictions(cifarTest, async (x, n) => { const r = await cpu.run(cifar, x, n, { effort: profile }); return { output: r.output, macs: sums(r.counters) }; }, 1000);
  check(Math.abs(g.correct - c.correct) / 1000 <= 0.002, `dynamic top-1 ${g.correct} vs ${c.correct} of 1000`);
  const rg = g.macs[0] / g.macs[1];
  const rc = c.macs[0] / c.macs[1];
  check(rg > 1.2 && Math.abs(rg - rc) / rc <= 0.01, `MAC reduction ${rg} (WebGPU) vs ${rc} (CPU)`);
}));

Deno.test('Deno WebGPU: the dynamic kernels take the CPU decisions on cifar10-quick conv2', () => withGpu(async (gpu) => {
  const { input } = await cifarTest.batch(0, 8);
  let conv2Inputs: Float32Array[] = [];
  new CpuBackend().runSync(cifar, input, 8, { onLayer: (layer, inputs) => { if (layer.name === 'conv2') conv2Inputs = inputs.map((a) => a.slice()); } });
  const layer = cifar.layers.find((l) => l.name === 'conv2')!;
  const effort = { spet: { mode: 'threshold' as const, fraction: 0.5, threshold: -5 }, sdss: { stride: 2, delta: 0.5 }, sfma: { epsilon: 0.5 } };
  const cpu = runLayer(layer, conv2Inputs, 8, { kernels: 'fast', effort, rectified: true });
  const g = await gpu.runLayer(layer, conv2Inputs, 8, { effort, rectified: true });
  let max = 0;
  for (const v of cpu.outputs[0]) max = Math.max(max, Math.abs(v));
  let bad = 0;
  cpu.outputs[0].forEach((v, i) => { if (!(Math.abs(g.outputs[0][i] - v) <= PARITY_RELATIVE_TOLERANCE * max)) bad++; });
  check(bad / cpu.outputs[0].length <= DYNAMIC_DECISION_TOLERANCE, `${bad} neurons differ`);
  check(g.dispatches.some((d) => d.mode === 'indirect'), 'SDSS ran no indirect dispatch');
}));

Deno.test('Deno: the dyve CLI runs unchanged, WebGPU bench with its JSON contract', async () => {
  const { main } = await import('../harness/cli.ts');
  const dir = await Deno.makeTempDir();
  const log = console.log;
  console.log = () => {};
  let code: number;
  try {
    code = await main(['bench', '--model', 'cifar10-quick', '--limit', '100', '--batch', '50', '--backend', 'webgpu', '--effort', 'calibrated', '--json', `${dir}/bench.json`, '--quiet']);
  } finally {
    console.log = log;
  }
  check(code === 0, `dyve bench exited ${code}`);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/bench.json`));
  check(json.backend === 'webgpu' && typeof json.adapter === 'string', `backend ${json.backend}, adapter ${json.adapter}`);
  // `calibrated` is the shipped tile-mode profile on WebGPU too (1.34x fewer MACs on the CPU's calibration).
  check(json.images === 100 && json.macs.dense / json.macs.executed > 1.1, `images ${json.images}, MACs ${JSON.stringify(json.macs)}`);
  check(/Deno \d/.test(json.machine), `machine ${json.machine}`);
});
