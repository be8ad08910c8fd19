/**
 * The parallel CPU backend under Deno: Deno's Web Workers run the TypeScript sources directly.
 * Outputs equal what one thread computes for the same slices of the batch (dense, the per-neuron
 * profile on one image split across threads, the tile-mode profile).
 */
import { CpuBackend } from '../src/backends/cpu/cpu-backend.ts';
import { cifar10Dataset } from '../src/data/dataset.ts';
import { resolveDataDir } from '../src/data/data-dir.ts';
import { loadMeanBinaryproto, loadNetwork } from '../src/formats/load-network.ts';
import { loadProfile } from '../src/effort/load-profile.ts';
import { packageFile } from '../src/package-root.ts';
import { ParallelBackend } from '../src/threads/parallel-backend.ts';

Deno.test('ParallelBackend on 2 Deno workers equals one thread on the same slices, on one image split across them, and with the tile-mode profile', async () => {
  const DATA = resolveDataDir();
  const net = await loadNetwork(`${DATA}/caffe/cifar10_quick.prototxt`, { kind: 'file', path: `${DATA}/caffe/cifar10_quick_iter_5000.caffemodel` });
  const mean = await loadMeanBinaryproto(`${DATA}/cifar10/mean.binaryproto`);
  const data = await cifar10Dataset(`${DATA}/cifar10/test_batch.bin`, { channels: 'rgb', mean }, net.inputShape);
  const { input } = await data.batch(0, 20);
  const parallel = await ParallelBackend.create({ threads: 2 });
  try {
    const r = await parallel.run(net, input, 20);
    const cpu = new CpuBackend();
    const a = await cpu.run(net, input.slice(0, 10 * 3072), 10);
    const b = await cpu.run(net, input.slice(10 * 3072), 10);
    const expected = new Float32Array([...a.output, ...b.output]);
    if (r.output.length !== expected.length || r.output.some((v, i) => v !== expected[i])) throw new Error('parallel output differs from one thread');
    // One image: the calibrated profile's dynamic layers split by output channels between this
    // thread and a worker (shared memory), with the same outputs and decisions.
    const options = { effort: await loadProfile(packageFile('models/cifar10-quick/effort-neuron.json'), net), traceDecisions: true };
    const one = input.slice(0, 3072);
    const split = await parallel.run(net, one, 1, options);
    const whole = await cpu.run(net, one, 1, options);
    if (parallel.threadsUsed !== 2) throw new Error(`one image used ${parallel.threadsUsed} threads`);
    if (split.output.some((v, i) => v !== whole.output[i])) throw new Error('split image output differs from one thread');
    if (JSON.stringify(split.decisions) !== JSON.stringify(whole.decisions)) throw new Error('split image decisions differ from one thread');
    // The shipped tile-mode profile on the TypeScript tile-mode kernels: the workers give what one
    // thread gives on the same slices, and skip work.
    const tile = { effort: await loadProfile(packageFile('models/cifar10-quick/effort.json'), net) };
    const t = await parallel.run(net, input, 20, tile);
    const ta = await cpu.run(net, input.slice(0, 10 * 3072), 10, tile);
    const tb = await cpu.run(net, input.slice(10 * 3072), 10, tile);
    const tiled = new Float32Array([...ta.output, ...tb.output]);
    if (t.output.some((v, i) => v !== tiled[i])) throw new Error('tile-mode parallel output differs from one thread');
    const executed = t.counters.reduce((n, c) => n + c.macsExecuted, 0);
    const dense = t.counters.reduce((n, c) => n + c.macsDense, 0);
    if (!(executed < dense)) throw new Error(`the tile-mode profile executed ${executed} of ${dense} MACs`);
  } finally {
    await parallel.close();
  }
});
