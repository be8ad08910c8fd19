#!/usr/bin/env node
/**
 * The arm64 check (scripts/arm64-check.sh runs it; README "Testing"): the CPU path as a Raspberry
 * Pi runs it, on an arm64 Node under user-mode QEMU, against the same code on this machine's Node.
 *
 *   node scripts/arm64-check.mjs parity
 *       Kernel parity on the Node that runs it: every layer of cifar10-quick (4 CIFAR-10 test
 *       images) on the fast TypeScript kernels and on each WebAssembly build this Node validates,
 *       against the float64 reference on the reference run's inputs, then the whole network; the
 *       dynamic kernels with the shipped per-neuron profile (fast driver against its reference:
 *       same decisions and MACs; its WebAssembly loops bit for bit the TypeScript ones) and the
 *       calibrated tile-mode profile (WebAssembly float32 against the float64 tile reference).
 *       Prints one digest per kernel variant (a hash of every output it produced), so two
 *       machines can tell whether they computed the same bits. Exits 1 on a failed check.
 *
 *   node scripts/arm64-check.mjs all --arm64 'qemu-aarch64-static -L /usr/aarch64-linux-gnu NODE'
 *       Runs `parity` on both Nodes (both must pass; the digests must agree, see EXACT_VARIANTS),
 *       then every bench of BENCHES with `dyve bench --json --predictions` on both, and compares
 *       top-1, top-5, every image's prediction, executed and dense MACs, total ops and each
 *       layer's counts: any difference fails, printing both values. DYVE_ARM64_IMAGES (default
 *       200) sets the images of each bench, DYVE_ARM64_LANES (default 2) how many emulated runs
 *       go side by side.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Images of each bench (the first N of the CIFAR-10 test batch) and the runs compared; `cpu`
 * seconds under emulation measured on one x86 core (2026-12-03), to start the longest first.
 */
const IMAGES = Number(process.env.DYVE_ARM64_IMAGES ?? 200);
const PARITY_CPU_SECONDS = 50;
const BENCHES = [
  { name: 'wasm dense', args: ['--backend', 'wasm'], images: IMAGES, cpu: 36 },
  // A non-dense profile runs dense on the same batches too (agreement, dense top-1 and ops compared).
  { name: 'wasm calibrated', args: ['--backend', 'wasm', '--effort', 'calibrated'], images: IMAGES, cpu: 65 },
  { name: 'cpu dense', args: ['--backend', 'cpu'], images: IMAGES, cpu: 59 },
  // The CPU backend's tile mode is the float64 tile reference: slow under emulation.
  { name: 'cpu calibrated', args: ['--backend', 'cpu', '--effort', 'calibrated'], images: Math.min(IMAGES, 40), cpu: 65 },
];

/** Same relative-error bar as the parity tests (test/tolerances.ts). */
const PARITY_RELATIVE_TOLERANCE = 1e-4;
/** Largest fraction of neurons whose tile decision may differ from float64 (test/tolerances.ts). */
const DYNAMIC_DECISION_TOLERANCE = 1e-3;
/**
 * Variants whose outputs must be bit for bit the same on both machines. The relaxed-SIMD build
 * may fuse multiply-adds where the hardware has FMA and not elsewhere: within tolerance, but its
 * digest is only reported.
 */
const EXACT_VARIANTS = ['reference', 'fast', 'wasm simd', 'neuron fast', 'neuron wasm', 'tile reference', 'tile wasm'];

function relativeError(a, ref) {
  if (a.length !== ref.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  return maxDiff / Math.max(1e-6, maxRef);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function parity() {
  // Node 20 validates relaxed SIMD only behind this flag (as test/wasm-kernels.test.ts sets it).
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const dist = (p) => import(join(ROOT, 'dist/src', p));
  const { CpuBackend, runLayer } = await dist('backends/cpu/cpu-backend.js');
  const { initWasmKernels, WASM_BUILDS, wasmBuildSupported } = await dist('backends/cpu/wasm/wasm-loader.js');
  const { loadNetwork, loadMeanBinaryproto } = await dist('formats/load-network.js');
  const { cifar10Dataset } = await dist('data/dataset.js');
  const { resolveDataDir } = await dist('data/data-dir.js');
  const { loadProfile } = await dist('effort/load-profile.js');
  const { planNetwork } = await dist('plan/execution-plan.js');

  const data = resolveDataDir();
  const net = await loadNetwork(join(data, 'caffe/cifar10_quick.prototxt'), { kind: 'file', path: join(data, 'caffe/cifar10_quick_iter_5000.caffemodel') });
  const mean = await loadMeanBinaryproto(join(data, 'cifar10/mean.binaryproto'));
  const test = await cifar10Dataset(join(data, 'cifar10/test_batch.bin'), { channels: 'rgb', mean }, net.inputShape);
  const batch = 4;
  const { input } = await test.batch(0, batch);

  const failures = [];
  const check = (ok, what) => {
    if (!ok) failures.push(what);
  };
  const digests = new Map();
  const digest = (variant, ...arrays) => {
    let h = digests.get(variant);
    if (!h) digests.set(variant, (h = createHash('sha256')));
    for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  const copies = (arrays) => arrays.map((a) => a.slice());

  // Dense: every layer on the reference run's inputs, then the whole network.
  const captured = [];
  const ref = new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, {
    onLayer: (layer, inputs, outputs) => captured.push({ layer, inputs: copies(inputs), outputs: copies(outputs) }),
  });
  digest('reference', ref.output, ...captured.flatMap((c) => c.outputs));
  const builds = WASM_BUILDS.filter(wasmBuildSupported);
  check(builds.includes('simd'), `WebAssembly SIMD does not validate on ${process.arch}`);
  const variants = [['fast', 'fast', null], ...builds.map((b) => [`wasm ${b}`, 'wasm', b])];
  let worst = 0;
  for (const [label, kernels, build] of variants) {
    if (build) await initWasmKernels(build);
    for (const c of captured) {
      const r = runLayer(c.layer, copies(c.inputs), batch, { kernels });
      c.outputs.forEach((expected, i) => {
        const err = relativeError(r.outputs[i], expected);
        worst = Math.max(worst, err);
        check(err <= PARITY_RELATIVE_TOLERANCE, `${label}: layer ${c.layer.name} top ${i}: relative error ${err} > ${PARITY_RELATIVE_TOLERANCE}`);
      });
      check(r.counters.macsExecuted === r.counters.macsDense, `${label}: layer ${c.layer.name}: ${r.counters.macsExecuted} MACs executed, ${r.counters.macsDense} dense`);
      digest(label, ...r.outputs);
    }
    const whole = await new CpuBackend({ kernels }).run(net, input, batch);
    const err = relativeError(whole.output, ref.output);
    worst = Math.max(worst, err);
    check(err <= PARITY_RELATIVE_TOLERANCE, `${label}: whole network: relative error ${err}`);
    check(same(whole.counters.map((c) => c.macsExecuted), ref.counters.map((c) => c.macsExecuted)), `${label}: whole network: MACs differ from the reference`);
    digest(label, whole.output);
  }
  console.log(`dense: ${captured.length} layers x ${variants.length} variants (${variants.map((v) => v[0]).join(', ')}), worst relative error ${worst.toExponential(2)}`);

  // Dynamic: the shipped profiles, each layer with knobs on the inputs the profile's reference run gave it.
  await initWasmKernels('simd');
  for (const [mode, file] of [['neuron', 'effort-neuron.json'], ['tile', 'effort.json']]) {
    const profile = await loadProfile(join(ROOT, 'models/cifar10-quick', file), net);
    const plan = planNetwork(net, profile);
    const steps = new Map(plan.steps.filter((s) => s.effort).map((s) => [s.layer.name, s]));
    const inputs = new Map();
    new CpuBackend({ kernels: 'reference' }).runSync(net, input, batch, {
      effort: profile,
      onLayer: (layer, ins) => {
        if (steps.has(layer.name)) inputs.set(layer.name, copies(ins));
      },
    });
    let skipped = 0;
    let differ = 0;
    let neurons = 0;
    for (const [name, step] of steps) {
      const run = (kernels) => runLayer(step.layer, copies(inputs.get(name)), batch, { kernels, effort: step.effort, rectified: step.rectified, trace: true });
      const r = run('reference');
      const what = `${mode} ${name}`;
      const m = r.counters.mechanisms ?? {};
      skipped += (m.spet?.terminated ?? 0) + (m.sdss?.interpolated ?? 0) + (m.sfma?.approximated ?? 0);
      if (mode === 'neuron') {
        // The fast driver on TypeScript loops against the reference, then on WebAssembly loops.
        const fast = run('fast');
        const wasm = run('wasm');
        const err = relativeError(fast.outputs[0], r.outputs[0]);
        worst = Math.max(worst, err);
        check(err <= PARITY_RELATIVE_TOLERANCE, `${what}: fast relative error ${err}`);
        check(same(fast.counters, r.counters), `${what}: fast counters ${JSON.stringify(fast.counters)}, reference ${JSON.stringify(r.counters)}`);
        check(same(Array.from(wasm.outputs[0]), Array.from(fast.outputs[0])), `${what}: WebAssembly loops differ from the TypeScript ones`);
        check(same(wasm.counters, fast.counters), `${what}: WebAssembly counters ${JSON.stringify(wasm.counters)}, TypeScript ${JSON.stringify(fast.counters)}`);
        digest('neuron fast', fast.outputs[0]);
        digest('neuron wasm', wasm.outputs[0]);
      } else {
        // The WebAssembly float32 tile kernels against the float64 tile reference.
        const wasm = run('wasm');
        const a = r.decisions?.neurons ?? new Uint8Array(0);
        const b = wasm.decisions?.neurons ?? new Uint8Array(0);
        let d = 0;
        let maxDiff = 0;
        let maxRef = 0;
        for (let i = 0; i < r.outputs[0].length; i++) {
          maxRef = Math.max(maxRef, Math.abs(r.outputs[0][i]));
          if (a[i] !== b[i]) {
            d++;
            continue;
          }
          const diff = Math.abs(r.outputs[0][i] - wasm.outputs[0][i]);
          if (!(diff <= maxDiff)) maxDiff = Number.isNaN(diff) ? Infinity : diff;
        }
        differ += d;
        neurons += r.outputs[0].length;
        check(d / r.outputs[0].length <= DYNAMIC_DECISION_TOLERANCE, `${what}: ${d} of ${r.outputs[0].length} neurons decided differently`);
        if (d === 0) {
          const err = maxDiff / Math.max(1e-6, maxRef);
          worst = Math.max(worst, err);
          check(err <= PARITY_RELATIVE_TOLERANCE, `${what}: wasm relative error ${err}`);
          check(same(wasm.counters, r.counters), `${what}: wasm counters ${JSON.stringify(wasm.counters)}, reference ${JSON.stringify(r.counters)}`);
        }
        digest('tile reference', r.outputs[0], a);
        digest('tile wasm', wasm.outputs[0], b);
      }
    }
    check(skipped > 0, `${mode}: the profile skipped no work on these images (the check would be vacuous)`);
    console.log(`${mode} profile: ${steps.size} layers (${[...steps.keys()].join(', ')}), ${skipped} neurons / maps skipped${mode === 'tile' ? `, ${differ} of ${neurons} tile decisions differ from float64` : ''}`);
  }
  console.log(`worst relative error ${worst.toExponential(2)} (bar ${PARITY_RELATIVE_TOLERANCE})`);
  for (const [variant, h] of digests) console.log(`digest ${variant.padEnd(15)} ${h.digest('hex').slice(0, 16)}`);
  for (const f of failures) console.error(`FAIL ${f}`);
  console.log(failures.length === 0 ? `parity ${process.arch}: ok` : `parity ${process.arch}: ${failures.length} failure(s)`);
  return failures.length === 0 ? 0 : 1;
}

/** Runs a command; resolves with its stdout (stderr passes through) and exit code. */
function exec(argv, label) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, seconds: (performance.now() - t0) / 1000, label }));
  });
}

function compareBench(bench, dir) {
  const read = (arch) => ({
    json: JSON.parse(readFileSync(join(dir, `${bench.slug}-${arch}.json`), 'utf8')),
    predictions: readFileSync(join(dir, `${bench.slug}-${arch}.txt`), 'utf8').trim().split('\n').map(Number),
  });
  const x = read('x64');
  const a = read('arm64');
  const problems = [];
  const field = (what, vx, va) => {
    if (!same(vx, va)) problems.push(`${what}: x64 ${JSON.stringify(vx)}, arm64 ${JSON.stringify(va)}`);
  };
  field('images', x.json.images, a.json.images);
  field('top-1', x.json.top1, a.json.top1);
  field('top-5', x.json.top5, a.json.top5);
  field('MACs', x.json.macs, a.json.macs);
  field('total ops', x.json.ops, a.json.ops);
  field('agreement with dense', x.json.agreement, a.json.agreement);
  field('dense on the same images', x.json.dense, a.json.dense);
  const counts = (j) => j.layers.map(({ name, macsExecuted, otherOps, spet, sdss, sfma }) => ({ name, macsExecuted, otherOps, spet, sdss, sfma }));
  counts(x.json).forEach((l, i) => field(`layer ${l.name}`, l, counts(a.json)[i]));
  const differing = x.predictions.flatMap((p, i) => (p === a.predictions[i] ? [] : [`image ${i}: x64 ${p}, arm64 ${a.predictions[i]}`]));
  if (x.predictions.length !== a.predictions.length || x.predictions.length !== x.json.images) {
    problems.push(`predictions: x64 ${x.predictions.length}, arm64 ${a.predictions.length}, images ${x.json.images}`);
  }
  if (differing.length > 0) problems.push(`${differing.length} predictions differ: ${differing.slice(0, 10).join('; ')}`);
  const pct = (v) => (v === null ? 'n/a' : `${(100 * v).toFixed(2)} %`);
  const status = problems.length === 0 ? 'equal' : 'DIFFER';
  console.log(`${bench.name.padEnd(16)} ${String(x.json.images).padStart(4)} images  top-1 x64 ${pct(x.json.top1)} arm64 ${pct(a.json.top1)}  `
    + `predictions ${differing.length === 0 ? 'equal' : 'DIFFER'}  MACs executed x64 ${x.json.macs.executed} arm64 ${a.json.macs.executed}  `
    + `(arm64 ${bench.seconds.toFixed(0)} s): ${status}`);
  for (const p of problems) console.error(`FAIL ${bench.name}: ${p}`);
  return problems.length === 0;
}

async function all(arm64) {
  if (!arm64) throw new Error("all: give the arm64 Node's command line with --arm64 'qemu-aarch64-static -L ... node'");
  const arm = arm64.split(/\s+/).filter(Boolean);
  const x64 = [process.execPath];
  const dir = mkdtempSync(join(tmpdir(), 'dyve-arm64-'));
  const t0 = performance.now();
  try {
    const version = await exec([...arm, '-p', 'process.arch + " " + process.version'], 'version');
    const arch = version.out.trim();
    if (version.code !== 0 || !arch.startsWith('arm64 ')) throw new Error(`the arm64 Node did not start (exit ${version.code}, printed '${arch}')`);
    console.log(`arm64 Node: ${arch} (${arm.join(' ')}); x64 Node: ${process.arch} ${process.version}`);

    const benchArgv = (node, bench, arch) => [...node, 'bin/dyve.js', 'bench', '--model', 'cifar10-quick', '--limit', String(bench.images),
      '--batch', '20', '--threads', '1', '--quiet', ...bench.args,
      '--json', join(dir, `${bench.slug}-${arch}.json`), '--predictions', join(dir, `${bench.slug}-${arch}.txt`)];
    for (const b of BENCHES) b.slug = b.name.replace(/\W+/g, '-');

    // x64 first (seconds), then the arm64 runs on two lanes: the machine's cores run them side by side.
    const parityX64 = await exec([...x64, 'scripts/arm64-check.mjs', 'parity'], 'parity x64');
    for (const b of BENCHES) {
      const r = await exec(benchArgv(x64, b, 'x64'), `${b.name} x64`);
      if (r.code !== 0) throw new Error(`${b.name} on x64 failed (exit ${r.code}):\n${r.out}`);
    }
    const jobs = [{ cpu: PARITY_CPU_SECONDS, run: () => exec([...arm, 'scripts/arm64-check.mjs', 'parity'], 'parity arm64') },
      ...BENCHES.map((b) => ({ cpu: b.cpu, run: () => exec(benchArgv(arm, b, 'arm64'), b.name) }))].sort((p, q) => q.cpu - p.cpu);
    const results = new Map();
    const lanes = Math.max(1, Number(process.env.DYVE_ARM64_LANES ?? 2));
    await Promise.all(Array.from({ length: lanes }, async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const r = await job.run();
        results.set(r.label, r);
        console.log(`  ${r.label}: ${r.seconds.toFixed(0)} s under emulation${r.code === 0 ? '' : `, exit ${r.code}`}`);
      }
    }));

    let ok = true;
    const parityArm = results.get('parity arm64');
    console.log(`\nparity on x64:\n${parityX64.out.trimEnd()}\n\nparity on arm64 (emulated):\n${parityArm.out.trimEnd()}\n`);
    if (parityX64.code !== 0 || parityArm.code !== 0) ok = false;
    const digests = (out) => new Map([...out.matchAll(/^digest (.+?)\s+([0-9a-f]{16})$/gm)].map((m) => [m[1], m[2]]));
    const dx = digests(parityX64.out);
    const da = digests(parityArm.out);
    for (const [variant, hx] of dx) {
      const ha = da.get(variant);
      const exact = EXACT_VARIANTS.includes(variant);
      const verdict = hx === ha ? 'bit-identical' : exact ? 'DIFFER' : 'differ (allowed: FMA)';
      console.log(`outputs ${variant.padEnd(15)} x64 ${hx} arm64 ${ha ?? 'missing'}: ${verdict}`);
      if (exact && hx !== ha) ok = false;
    }
    console.log('');
    for (const b of BENCHES) {
      const r = results.get(b.name);
      b.seconds = r.seconds;
      if (r.code !== 0) {
        console.error(`FAIL ${b.name} on arm64 exited ${r.code}:\n${r.out}`);
        ok = false;
        continue;
      }
      if (!compareBench(b, dir)) ok = false;
    }
    console.log(`arm64 check: ${ok ? 'ok' : 'FAILED'} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    return ok ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [command, ...rest] = process.argv.slice(2);
const flag = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
if (command === 'parity') process.exitCode = await parity();
else if (command === 'all') process.exitCode = await all(flag('--arm64'));
else {
  console.error('usage: node scripts/arm64-check.mjs parity | all --arm64 "qemu-aarch64-static -L /usr/aarch64-linux-gnu NODE"');
  process.exitCode = 2;
}
