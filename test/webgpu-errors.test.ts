import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { FallbackBackend, openBackend } from '../src/select-backend.js';
import { DeviceLostError, probeAdapter } from '../src/backends/webgpu/gpu-context.js';
import { parseTuning, ShaderCompilationError } from '../src/backends/webgpu/pipelines.js';
import { setShaderLoader } from '../src/backends/webgpu/shader-loader.js';
import { loadNetwork } from '../src/formats/load-network.js';
import { validateProfile } from '../src/effort/profile.js';
import { packageFile } from '../src/package-root.js';
import { main } from '../harness/cli.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT } from './helpers/files.js';
import { openTestGpu } from './helpers/gpu.js';

const run = promisify(execFile);

/** The CLI in a child process, so its environment (here: no Vulkan driver at all) is its own. */
async function dyveProcess(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [packageFile('bin/dyve.js'), ...args], { env: { ...process.env, ...env } });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

/** A machine without any adapter: the Vulkan loader finds no driver. */
const NO_ADAPTER = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };

afterEach(() => {
  vi.restoreAllMocks();
  setShaderLoader(undefined);
});

describe('WebGPU failures are clear', () => {
  it('without an adapter, --backend auto runs WebAssembly on every core, with a one-line notice', async () => {
    const r = await dyveProcess(NO_ADAPTER, 'bench', '--model', 'cifar10-quick', '--limit', '20', '--backend', 'auto', '--quiet');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/backend\s+wasm, batch 256, \d+ threads?, effort dense — chosen by auto: no WebGPU adapter/);
    const notices = r.err.split('\n').filter((l) => l.startsWith('dyvedeep:'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^dyvedeep: auto chose wasm, \d+ threads?, batch 256 \(no WebGPU adapter\)/);
  });

  // CI has Mesa's lavapipe; a machine with a GPU (an NVIDIA H200 ran this suite) takes the other branch.
  it('auto passes a software adapter (lavapipe) over for WebAssembly and says why, takes a hardware one; --backend webgpu takes either', async () => {
    const probe = await probeAdapter();
    expect(probe, 'this suite needs a WebGPU adapter').not.toBeNull();
    const r = await dyveProcess({}, 'bench', '--model', 'cifar10-quick', '--limit', '20', '--threads', '1', '--batch', '10', '--quiet');
    expect(r.code, r.err).toBe(0);
    const notices = r.err.split('\n').filter((l) => l.startsWith('dyvedeep:'));
    expect(notices).toHaveLength(1);
    const { name, software } = probe!;
    const expected = software
      ? `dyvedeep: auto chose wasm, 1 thread, batch 10 (the WebGPU adapter '${name}' is a software one, slower than WebAssembly here)`
      : `dyvedeep: auto chose webgpu, batch 10 (hardware WebGPU adapter: ${name})`;
    expect(notices[0].startsWith(expected), notices[0]).toBe(true);
    const gpu = await dyveProcess({}, 'bench', '--model', 'cifar10-quick', '--limit', '20', '--backend', 'webgpu', '--quiet');
    expect(gpu.code, gpu.err).toBe(0);
    expect(gpu.out).toContain(`webgpu (${name}`);
    expect(gpu.err).not.toMatch(/^dyvedeep:/m);
  });

  it('without an adapter, --backend webgpu fails with a clear error', async () => {
    const r = await dyveProcess(NO_ADAPTER, 'bench', '--model', 'cifar10-quick', '--limit', '20', '--backend', 'webgpu', '--quiet');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/no WebGPU adapter found/);
    // One sentence of ours (the Vulkan loader prints its own warnings before it), no JS stack.
    expect(r.err.split('\n').filter((l) => l.startsWith('dyve bench:'))).toHaveLength(1);
    expect(r.err).not.toMatch(/\s+at .*\.js:\d+/);
  });

  it('a shader compilation error names the shader file, line and column', async () => {
    setShaderLoader(async (name) => {
      const code = readFileSync(packageFile(`shaders/${name}.wgsl`), 'utf8');
      return name === 'convolution/dense' ? code.replace('a0 += va.x * wv;', 'a0 += undefined_value + va.x * wv;') : code;
    });
    const gpu = await openTestGpu();
    try {
      const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
      const error = await gpu.run(net, new Float32Array(3 * 32 * 32), 1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ShaderCompilationError);
      expect((error as Error).message).toMatch(/failed in shaders\/convolution\/dense\.wgsl:\n\s+shaders\/convolution\/dense\.wgsl:\d+:\d+ .*undefined_value/);
    } finally {
      gpu.destroy();
    }
  });

  it('a lost device: webgpu throws DeviceLostError, auto falls back to the CPU with one notice', async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    const input = new Float32Array(2 * 3 * 32 * 32).map((_, i) => Math.sin(i));
    const gpu = await openTestGpu();
    const notices: string[] = [];
    const auto = new FallbackBackend(gpu, new CpuBackend(), (line) => notices.push(line));
    const before = await auto.run(net, input, 2);
    expect(auto.name).toBe('webgpu');
    gpu.device.destroy(); // what a driver reset looks like to the page
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(gpu.run(net, input, 2)).rejects.toBeInstanceOf(DeviceLostError);
    const after = await auto.run(net, input, 2);
    expect(auto.name).toBe('cpu');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/device was lost.*falling back to the CPU/);
    const cpu = await new CpuBackend().run(net, input, 2);
    expect(after.output).toEqual(cpu.output);
    expect(before.output.length).toBe(after.output.length);
  });

  it('--tune sets override constants per kernel, and names what it does not know', async () => {
    expect(parseTuning('dynamic/convolution:WG=16,PX=2; convolution/dense:PX=4')).toEqual({
      'dynamic/convolution': { WG: 16, PX: 2 }, 'convolution/dense': { PX: 4 },
    });
    expect(() => parseTuning('conv:WG=8')).toThrow(/unknown kernel 'conv' \(kernels: convolution\/dense, /);
    expect(() => parseTuning('pooling/pooling:PX=2')).toThrow(/pooling\/pooling has no constant 'PX' \(it has: WG\)/);
    expect(() => parseTuning('dynamic/convolution:WG=0')).toThrow(/WG must be a positive integer/);
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const err: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    expect(await main(['bench', '--model', 'cifar10-quick', '--limit', '8', '--backend', 'webgpu', '--tune', 'dynamic/convolution:PX=9', '--effort', 'neuron', '--quiet'])).toBe(1);
    expect(err.join('\n')).toMatch(/PX must be an integer from 1 to 8, got 9/);
    expect(await main(['bench', '--model', 'cifar10-quick', '--limit', '8', '--backend', 'webgpu', '--tune', 'dynamic/convolution:WG=16,PX=2', '--effort', 'neuron', '--quiet'])).toBe(0);
  });

  it('tile mode on WebGPU: tiles over 16 positions fail naming the layer; dyve bench --effort calibrated runs the tile profile', async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    const gpu = await openTestGpu();
    const effort = validateProfile({ layers: { conv2: { sdss: { stride: 2, delta: 1 }, tile: { positions: 32 } } } }, net);
    await expect(gpu.run(net, new Float32Array(3 * 32 * 32), 1, { effort })).rejects.toThrow(/layer 'conv2': the WebGPU backend runs tiles of at most 16 positions, the profile asks for 32/);
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { err.push(String(chunk)); return true; });
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    expect(await main(['bench', '--model', 'cifar10-quick', '--limit', '4', '--backend', 'webgpu', '--effort', 'calibrated', '--quiet'])).toBe(0);
    expect(err.join('')).not.toMatch(/neuron-mode profile/);
    expect(out.join('\n')).toMatch(/effort calibrated/);
  });

  it('openBackend names the available backends', async () => {
    await expect(openBackend('tpu')).rejects.toThrow(/unknown backend 'tpu' \(available: cpu, cpu-reference, wasm, webgpu, auto\)/);
  });
});

describe('dyve bench --backend webgpu', () => {
  it('writes the CPU JSON contract plus the adapter, and a trace of every layer\'s dispatches', async () => {
    const dir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/dyve-gpu-`);
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    // The per-neuron profile: its conv2 runs SDSS, whose failing neurons take an indirect dispatch.
    const code = await main(['bench', '--model', 'cifar10-quick', '--limit', '64', '--batch', '32', '--backend', 'webgpu', '--effort', 'neuron',
      '--compare', 'dense', '--json', `${dir}/gpu.json`, '--trace', `${dir}/trace.json`, '--quiet']);
    expect(code).toBe(0);
    // The CPU named: auto takes WebGPU on a hardware adapter.
    const codeCpu = await main(['bench', '--model', 'cifar10-quick', '--limit', '64', '--batch', '32', '--backend', 'wasm', '--effort', 'neuron', '--json', `${dir}/cpu.json`, '--quiet']);
    expect(codeCpu).toBe(0);
    const gpu = JSON.parse(readFileSync(`${dir}/gpu.json`, 'utf8'));
    const cpu = JSON.parse(readFileSync(`${dir}/cpu.json`, 'utf8'));
    for (const key of Object.keys(cpu)) expect(gpu, key).toHaveProperty(key);
    expect(gpu.backend).toBe('webgpu');
    expect(typeof gpu.adapter).toBe('string');
    expect(cpu.adapter).toBeNull();
    expect(gpu.compare.speedup).toBeGreaterThan(0);
    expect(gpu.layers.find((l: { name: string }) => l.name === 'conv2').sdss.interpolated).toBeGreaterThan(0);
    const trace = JSON.parse(readFileSync(`${dir}/trace.json`, 'utf8'));
    expect(trace.adapter).toBe(gpu.adapter);
    const conv2 = trace.dispatches.filter((d: { layer: string }) => d.layer === 'conv2');
    expect(conv2.map((d: { kernel: string; mode: string }) => `${d.kernel}:${d.mode}`)).toContain('dynamic/convolution:indirect');
    expect(conv2.every((d: { dispatches: number }) => d.dispatches > 0 && d.dispatches % 2 === 0)).toBe(true); // two batches of 32
    const macs = trace.dispatches.reduce((s: number, d: { macs: number }) => s + d.macs, 0);
    expect(macs).toBe(gpu.macs.executed);
    // Dispatches per run (one batch), dense and DyVEDeep: the profile's are the trace's over its 2 runs.
    const total = trace.dispatches.reduce((s: number, d: { dispatches: number }) => s + d.dispatches, 0);
    expect(gpu.dispatchesPerRun).toBe(total / 2);
    expect(trace.dispatchesPerRun).toBe(gpu.dispatchesPerRun);
    expect(gpu.denseDispatchesPerRun).toBe(trace.denseDispatchesPerRun);
    expect(gpu.denseDispatchesPerRun).toBeGreaterThan(0);
    expect(gpu.dispatchesPerRun).toBeGreaterThan(gpu.denseDispatchesPerRun);
    expect(cpu).not.toHaveProperty('dispatchesPerRun');
    // Per layer of the profile: its layers' dispatches in the trace, per run and per layer.
    const profiled = new Set(Object.keys(JSON.parse(readFileSync(packageFile('models/cifar10-quick/effort-neuron.json'), 'utf8')).layers));
    const ofProfile = trace.dispatches.filter((d: { layer: string }) => profiled.has(d.layer)).reduce((s: number, d: { dispatches: number }) => s + d.dispatches, 0);
    expect(gpu.dispatchesPerDynamicLayer).toBeCloseTo(ofProfile / 2 / profiled.size, 9);
    expect(cpu).not.toHaveProperty('dispatchesPerDynamicLayer');
    // GPU time (lavapipe has timestamp queries): per dispatch in the trace, dense's too, per run in the JSON.
    expect(trace.gpuTime).toBe('timestamp queries, one compute pass per dispatch');
    type Timed = { dispatches: number; gpuMs: number };
    const dense: Timed[] = trace.denseDispatches;
    expect(dense.reduce((s, d) => s + d.dispatches, 0)).toBe(2 * gpu.denseDispatchesPerRun);
    for (const d of [...trace.dispatches, ...dense] as Timed[]) expect(Number.isFinite(d.gpuMs) && d.gpuMs >= 0).toBe(true);
    const perRun = (list: Timed[]) => list.reduce((s, d) => s + d.gpuMs, 0) / 2;
    expect(gpu.gpuMsPerRun).toBeCloseTo(perRun(trace.dispatches), 6);
    expect(gpu.denseGpuMsPerRun).toBeCloseTo(perRun(dense), 6);
    expect(gpu.gpuMsPerRun).toBeGreaterThan(0);
    expect(cpu).not.toHaveProperty('gpuMsPerRun');
    // Per layer (a fused ReLU has no dispatch of its own, so no time): the layers add up to the run.
    type Layer = { name: string; gpuMsPerRun?: number; denseGpuMsPerRun?: number };
    const layers: Layer[] = gpu.layers;
    const sum = (k: 'gpuMsPerRun' | 'denseGpuMsPerRun') => layers.reduce((s, l) => s + (l[k] ?? 0), 0);
    expect(sum('gpuMsPerRun')).toBeCloseTo(gpu.gpuMsPerRun, 6);
    expect(sum('denseGpuMsPerRun')).toBeCloseTo(gpu.denseGpuMsPerRun, 6);
    expect(layers.find((l) => l.name === 'conv2')).toMatchObject({ gpuMsPerRun: expect.any(Number), denseGpuMsPerRun: expect.any(Number) });
    expect(layers.find((l) => l.name === 'relu2')).not.toHaveProperty('gpuMsPerRun');
    expect(cpu.layers.some((l: Layer) => 'gpuMsPerRun' in l)).toBe(false);
  });
});
