/**
 * Where `dyve bench-gpu` measures: this process (Node with Dawn, or Deno when the command runs
 * under Deno), Deno as a child process (its binary from the `deno` dev dependency), and headless
 * Chromium (the demo's vite server, Debian's Chromium). Each runtime is probed for its adapter
 * before anything is measured, and then measures the models with harness/bench-gpu/measure.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DyveError } from '../../src/errors.js';
import { loadProfile } from '../../src/effort/load-profile.js';
import { probeAdapter } from '../../src/backends/webgpu/gpu-context.js';
import type { WebGpuBackend } from '../../src/backends/webgpu/webgpu-backend.js';
import { packageFile } from '../../src/package-root.js';
import { openBackend } from '../../src/select-backend.js';
import { openDataset, openModel } from '../model-options.js';
import { measureModel, type ModelResult } from './measure.js';

export const RUNTIMES = ['node', 'deno', 'chromium'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** What one runtime is, its adapter, and whether it measured. */
export interface RuntimeInfo {
  runtime: RuntimeName;
  /** Its name and version, e.g. `Node v20.20.2`, `headless Chromium 156.0.8078.108`. */
  version: string;
  /** The adapter in words, or null when it has none. */
  adapter: string | null;
  software: boolean;
  /** Why it did not run, when it did not. */
  skipped?: string;
}

/** One model to measure and its counts. */
export interface ModelPlan {
  readonly model: string;
  readonly largeBatch: number;
  readonly maxImages: number;
  readonly maxLargeImages: number;
  /** Each phase goes over its images again until it has run this long (a fast GPU is done in a blink). */
  readonly minSeconds: number;
  /** Evaluate on the odd positions of the data set (squeezenet-dc: its profile was calibrated on the even ones). */
  readonly odd: boolean;
}

/** The images a plan needs: the cold run's, the batch-1 ones, and whole large batches. */
export function imagesNeeded(plan: ModelPlan): number {
  return Math.max(plan.maxImages + 1, plan.largeBatch * Math.max(1, Math.floor(plan.maxLargeImages / plan.largeBatch)));
}

/** The runtime this process is. */
export function hostRuntime(): RuntimeName {
  return 'Deno' in globalThis ? 'deno' : 'node';
}

function hostVersion(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? `Deno ${deno.version.deno}` : `Node ${process.version}`;
}

/** Probes this process's adapter (Dawn in Node, wgpu in Deno). */
export async function probeHere(): Promise<RuntimeInfo> {
  const probe = await probeAdapter();
  return { runtime: hostRuntime(), version: hostVersion(), adapter: probe?.name ?? null, software: probe?.software ?? false };
}

/** Measures one model in this process. */
export async function measureHere(plan: ModelPlan, budgetMs: number, data: string | undefined, onProgress: (d: number, t: number) => void): Promise<ModelResult> {
  const opened = await openModel({ model: plan.model, data });
  if (!opened.entry) throw new DyveError(`bench-gpu measures zoo models; '${plan.model}' is not one`);
  const { dataset } = await openDataset(opened, { limit: String(imagesNeeded(plan)), ...(plan.odd && { positions: 'odd' }) });
  const images = await dataset.batch(0, dataset.size);
  const dynamic = await loadProfile(join(opened.entry.folder, 'effort.json'), opened.net);
  return measureModel({
    runtime: hostRuntime(), model: plan.model, net: opened.net, input: images.input, labels: images.labels, dynamic,
    largeBatch: plan.largeBatch, maxImages: plan.maxImages, maxLargeImages: plan.maxLargeImages, minPhaseMs: 1000 * plan.minSeconds, budgetMs, onProgress,
    open: async () => {
      const o = await openBackend('webgpu');
      const gpu = o.backend as WebGpuBackend;
      return { backend: gpu, device: gpu.device, adapter: o.adapter ?? gpu.adapterName, close: () => o.close() };
    },
  });
}

/** The Deno binary of the `deno` dev dependency, or null when it is not installed. */
export function denoBinary(): string | null {
  const path = packageFile('node_modules/deno/deno');
  return existsSync(path) && existsSync(packageFile('bin/dyve.deno.ts')) ? path : null;
}

/** What a Deno child wrote to its --json file. */
export interface ChildReport {
  runtimes: RuntimeInfo[];
  rows?: ModelResult['rows'];
  runs?: string[];
}

/**
 * Runs `dyve bench-gpu ARGS --runtimes deno --json TMP` under Deno (the TypeScript sources, as
 * `deno task dyve` does) and returns what it wrote. Its stderr (progress, notices) is passed on.
 * On Linux Deno runs on Vulkan only (scripts/deno-test.mjs says why).
 */
export async function runDenoChild(args: readonly string[]): Promise<{ report: ChildReport | null; status: string }> {
  const deno = denoBinary();
  if (!deno) return { report: null, status: 'no Deno binary (node_modules/deno/deno: npm install)' };
  const dir = mkdtempSync(join(tmpdir(), 'dyve-bench-gpu-'));
  const json = join(dir, 'deno.json');
  const env = { ...process.env };
  if (process.platform === 'linux' && env['DENO_WEBGPU_BACKEND'] === undefined) env['DENO_WEBGPU_BACKEND'] = 'vulkan';
  try {
    const code = await new Promise<number | string>((resolve, reject) => {
      const child = spawn(deno, ['run', '--allow-read', '--allow-env', '--allow-sys', '--allow-write', 'bin/dyve.deno.ts', 'bench-gpu', ...args, '--runtimes', 'deno', '--json', json], {
        cwd: packageFile('.'), env, stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.on('error', reject);
      child.on('close', (c, signal) => resolve(c ?? signal ?? 'unknown'));
    });
    const report = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as ChildReport) : null;
    return { report, status: code === 0 ? 'ok' : `the Deno process exited with ${code}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
