import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { probeAdapter } from '../src/backends/webgpu/gpu-context.js';
import { cifar10Dataset } from '../src/data/dataset.js';
import { argmax } from '../src/evaluation/top-k.js';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.js';
import { shapeSize } from '../src/ir/network.js';
import type { BenchGpuJson } from '../harness/commands/bench-gpu.js';
import { dyve } from './helpers/cli.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, DATA } from './helpers/files.js';

/** This machine's adapter: a software one here and on CI (lavapipe), where the command refuses to run without --allow-software. */
const adapter = await probeAdapter();

const tmp = () => mkdtempSync(join(tmpdir(), 'dyve-bench-gpu-'));

/** Top-1 of the plain CPU reference on CIFAR-10 test images `from` .. `to - 1`. */
async function referenceTop1(from: number, to: number): Promise<number> {
  const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
  const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
  const data = await cifar10Dataset(`${DATA}/cifar10/test_batch.bin`, { channels: 'rgb', mean }, net.inputShape);
  const batch = await data.batch(from, to - from);
  const { output } = await new CpuBackend({ kernels: 'reference' }).run(net, batch.input, to - from);
  const classes = shapeSize(net.blobShapes.get(net.outputName)!);
  let correct = 0;
  for (let i = 0; i < to - from; i++) if (argmax(output, i * classes, classes) === batch.labels[i]) correct++;
  return correct / (to - from);
}

// npm run ... --allow-software puts this in the environment; the tests say what they want.
const NPM_FLAG = 'npm_config_allow_software';
let saved: string | undefined;
beforeEach(() => {
  saved = process.env[NPM_FLAG];
  delete process.env[NPM_FLAG];
});
afterEach(() => {
  if (saved === undefined) delete process.env[NPM_FLAG];
  else process.env[NPM_FLAG] = saved;
});

describe('dyve bench-gpu (npm run bench:gpu)', () => {
  const tiny = ['--runtimes', 'node', '--models', 'cifar10-quick', '--images', '2', '--large-batch', '2', '--min-seconds', '0', '--quiet'];

  it.runIf(adapter?.software === true)('stops on a software adapter, naming it, unless --allow-software', async () => {
    const r = await dyve('bench-gpu', ...tiny, '--json', join(tmp(), 'out.json'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Node \(Dawn\): software adapter .+: these numbers would measure the CPU; pass --allow-software to run anyway/);
  });

  it('writes every engine\'s rows at batch 1 and the large batch, top-1 as the CPU reference', async () => {
    const json = join(tmp(), 'gpu.json');
    const r = await dyve('bench-gpu', ...tiny, '--allow-software', '--json', json);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchGpuJson;
    expect(report.machine).toContain('cores');
    expect(report.allowSoftware).toBe(true);
    expect(report.runtimes).toHaveLength(1);
    const [node] = report.runtimes;
    expect(node.runtime).toBe('node');
    expect(node.software).toBe(adapter?.software);
    expect(node.adapter).toBe(adapter?.name);
    expect(report.rows.map((row) => `${row.engine}@${row.batch}`)).toEqual([
      'dyvedeep-webgpu-dense@1', 'dyvedeep-webgpu-dense@2', 'dyvedeep-webgpu-dynamic@1', 'dyvedeep-webgpu-dynamic@2',
    ]);
    for (const row of report.rows) {
      expect(row).toMatchObject({ runtime: 'node', adapter: node.adapter, model: 'cifar10-quick', images: 2, submitsPerInference: 1 });
      expect(row.msPerImage).toBeGreaterThan(0);
      expect(row.imagesPerSecond).toBeCloseTo(1000 / row.msPerImage, 6);
      expect(row.coldStartMs).toBeGreaterThan(0);
      expect(Number.isInteger(row.dispatchesPerInference) && row.dispatchesPerInference > 0).toBe(true);
      // lavapipe has timestamp queries: GPU time per image, the layers' times adding up to it.
      const layers = Object.values(row.gpuMsPerImageByLayer ?? {});
      expect(layers).toHaveLength(10);
      expect(layers.every((ms) => Number.isFinite(ms) && ms >= 0)).toBe(true);
      expect(row.gpuMsPerImage).toBeCloseTo(layers.reduce((a, b) => a + b, 0), 9);
      expect(row.gpuMsPerImage).toBeGreaterThan(0);
    }
    const [dense1, dense2, dynamic1, dynamic2] = report.rows;
    // Batch 1 times images 1 and 2 (image 0 was the cold run); the large batch images 0 and 1.
    expect(dense1.top1).toBe(await referenceTop1(1, 3));
    expect(dense2.top1).toBe(await referenceTop1(0, 2));
    // The same kernels per inference whatever the batch; DyVEDeep adds its dynamic passes.
    expect(dense2.dispatchesPerInference).toBe(dense1.dispatchesPerInference);
    expect(dynamic1.dispatchesPerInference).toBeGreaterThan(dense1.dispatchesPerInference);
    expect(dynamic2.dispatchesPerInference).toBeGreaterThan(dense2.dispatchesPerInference);
    expect(dense1.coldStartMs).toBe(dense2.coldStartMs);
    expect(r.out).toContain('dyvedeep-webgpu-dynamic');
    expect(r.out).toContain(`wrote ${json}`);
    expect(r.out).toMatch(/ran: node cifar10-quick: cold start \+ 2 images at batch 1 \+ 1 batch of 2 \(/);
  }, 30_000);

  it('--min-seconds goes over the images again until each phase has run that long; top-1 stays the first pass\'s', async () => {
    const json = join(tmp(), 'gpu.json');
    const r = await dyve('bench-gpu', ...tiny.filter((a) => a !== '--min-seconds' && a !== '0'), '--min-seconds', '1', '--allow-software', '--json', json);
    expect(r.code, r.err).toBe(0);
    const [dense1, dense2, dynamic1, dynamic2] = (JSON.parse(readFileSync(json, 'utf8')) as BenchGpuJson).rows;
    // lavapipe runs an image in a few ms: a second's phase takes many passes over 2 images.
    for (const row of [dense1, dense2, dynamic1, dynamic2]) expect(row.images).toBeGreaterThan(2);
    expect(dense1.images).toBe(dynamic1.images);
    expect(dense2.images).toBe(dynamic2.images);
    expect(dense1.top1).toBe(await referenceTop1(1, 3));
    expect(dense2.top1).toBe(await referenceTop1(0, 2));
    const passes = r.out.match(/cold start \+ (\d+) images \(([\d.]+) passes over 2\) at batch 1 \+ (\d+) batches of 2 \(([\d.]+) passes over 1\)/);
    expect(passes, r.out).not.toBeNull();
    expect(Number(passes![1])).toBe(dense1.images);
    expect(Number(passes![3]) * 2).toBe(dense2.images);
  }, 60_000);

  it('takes --allow-software from npm\'s environment (npm run bench:gpu --allow-software)', async () => {
    process.env[NPM_FLAG] = 'true';
    const json = join(tmp(), 'gpu.json');
    const r = await dyve('bench-gpu', '--runtimes', 'node', '--models', 'cifar10-quick', '--images', '1', '--large-batch', '1', '--quiet', '--json', json);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(readFileSync(json, 'utf8')) as BenchGpuJson).rows).toHaveLength(4);
  }, 30_000);

  it('checks its flags and output path before probing', async () => {
    expect((await dyve('bench-gpu', '--runtimes', 'node,cuda')).err).toContain("--runtimes takes a list of node, deno, chromium; found 'cuda'");
    expect((await dyve('bench-gpu', '--images', '0')).err).toContain('--images takes a whole number >= 1');
    expect((await dyve('bench-gpu', '--min-seconds', '-1')).err).toContain('--min-seconds');
    expect((await dyve('bench-gpu', '--json', join(tmp(), 'missing', 'x.json'))).err).toContain('does not exist');
  });
});
