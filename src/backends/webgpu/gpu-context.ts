/**
 * WebGPU device acquisition in every host: `navigator.gpu` in browsers and Deno, the npm `webgpu`
 * package (Dawn) in Node. Fallback (software) adapters are accepted; limits are requested from the
 * adapter, so a device gets what its adapter offers, not the spec's defaults.
 */
import { DyveError } from '../../errors.js';

/** No WebGPU adapter in this host, or it could not give a device. */
export class NoAdapterError extends DyveError {
  override readonly name = 'NoAdapterError';
}

/** The device lost mid-run (driver reset, out of memory, destroyed). */
export class DeviceLostError extends DyveError {
  override readonly name = 'DeviceLostError';
}

/** An opened WebGPU device and what it is. */
export interface GpuContext {
  /** The GPU entry point; held so that Dawn's instance (Node) lives as long as the device. */
  readonly gpu: GPU;
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  /** Human-readable adapter: vendor, architecture, device, description (and "fallback"). */
  readonly adapterName: string;
  /** A fallback adapter: software, or otherwise far slower than a GPU (tuning picks other tiles). */
  readonly isFallback: boolean;
  /** Settles when the device is lost (never for a healthy device); `destroy()` also settles it. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  /** Releases the device (and, in Node, lets the process exit). */
  destroy(): void;
}

/** Options of {@link openGpu}. */
export interface OpenGpuOptions {
  /** Prefer a high-performance or low-power adapter where the host has several. */
  readonly powerPreference?: GPUPowerPreference;
  /** Dawn (Node) instance toggles, e.g. `['backend=opengles']`. */
  readonly dawnOptions?: readonly string[];
}

interface NodeWebGpu {
  create(options: string[]): GPU;
  globals: object;
}

/** The host's GPU entry point, or undefined when it has none. */
async function hostGpu(options: OpenGpuOptions): Promise<GPU | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const host = (globalThis as { process?: { versions?: { node?: string } } }).process;
  const isNode = host?.versions?.node !== undefined && !('Deno' in globalThis);
  if (!isNode) return undefined;
  let mod: NodeWebGpu;
  try {
    // A specifier in a variable: browser bundlers must not try to bundle Dawn's Node addon.
    const dawn = 'webgpu';
    mod = (await import(/* @vite-ignore */ dawn)) as NodeWebGpu;
  } catch (err) {
    throw new NoAdapterError(`the npm package 'webgpu' (Dawn for Node) could not be loaded: ${(err as Error).message}`);
  }
  // Dawn's classes (GPUBufferUsage, ...) become globals, as in a browser.
  Object.assign(globalThis, mod.globals);
  return mod.create(dawnToggles(options.dawnOptions ?? []));
}

/**
 * Dawn's options with its timestamp quantization off (a browser's guard against timing attacks:
 * it rounds every timestamp to 65.5 µs, more than a whole small layer on a GPU), added to any
 * disable-dawn-features list the caller gave.
 */
export function dawnToggles(options: readonly string[]): string[] {
  const key = 'disable-dawn-features=';
  const given = options.find((o) => o.startsWith(key));
  if (!given) return [...options, `${key}timestamp_quantization`];
  return options.map((o) => (o === given ? `${o},timestamp_quantization` : o));
}

function isFallbackAdapter(adapter: GPUAdapter): boolean {
  return ((adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter) === true;
}

function describe(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s !== undefined && s !== '');
  // Runtimes repeat one string in several fields: keep each once, and drop those another contains.
  const unique = parts.filter((s, i) => parts.indexOf(s) === i && !parts.some((t, j) => j !== i && t.length > s.length && t.includes(s)));
  return `${unique.join(', ') || 'unnamed adapter'}${isFallbackAdapter(adapter) ? ' (fallback adapter)' : ''}`;
}

/**
 * Software rasterisers that WebGPU runtimes expose as adapters (Chromium's SwiftShader, Mesa's
 * lavapipe / llvmpipe, Windows' WARP): on these machines they run compute at WebAssembly speed
 * or slower (BENCHMARKS.md), so `auto` does not pick them.
 */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp|basic render/i;

/** Whether an adapter is a software one: flagged as a fallback adapter, or named as one of the above. */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info;
  return isFallbackAdapter(adapter) || SOFTWARE_ADAPTER.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

/** What {@link probeAdapter} found. */
export interface AdapterProbe {
  /** The adapter in words (as GpuContext.adapterName). */
  readonly name: string;
  /** A software adapter (see isSoftwareAdapter). */
  readonly software: boolean;
}

/**
 * Asks the host for its adapter without opening a device (~0.1 s with Dawn): what `auto` needs to
 * choose. Null when the host has no WebGPU or no adapter.
 */
export async function probeAdapter(options: OpenGpuOptions = {}): Promise<AdapterProbe | null> {
  let gpu: GPU | undefined;
  try {
    gpu = await hostGpu(options);
  } catch (err) {
    if (err instanceof NoAdapterError) return null;
    throw err;
  }
  // A runtime whose adapter request fails has no usable adapter, as one that answers null.
  const adapter = await gpu?.requestAdapter({ powerPreference: options.powerPreference }).catch(() => null);
  return adapter ? { name: describe(adapter), software: isSoftwareAdapter(adapter) } : null;
}

/** The adapter limits worth raising above the defaults for this engine. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
] as const;

/**
 * Opens a WebGPU device. Throws a {@link NoAdapterError} saying why when the host has no WebGPU,
 * no adapter, or the adapter refuses a device.
 */
export async function openGpu(options: OpenGpuOptions = {}): Promise<GpuContext> {
  const gpu = await hostGpu(options);
  if (!gpu) throw new NoAdapterError('this host has no WebGPU (navigator.gpu is undefined)');
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) {
    throw new NoAdapterError(
      'no WebGPU adapter found (on Linux without a GPU install Mesa >= 25 lavapipe: apt-get install -t bookworm-backports mesa-vulkan-drivers)',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  let device: GPUDevice;
  try {
    // Timestamp queries where the adapter has them: RunOptions.timeDispatches times each dispatch.
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'dyvedeep' });
  } catch (err) {
    throw new NoAdapterError(`the WebGPU adapter '${describe(adapter)}' refused a device: ${(err as Error).message}`);
  }
  return {
    gpu,
    device,
    adapter,
    adapterName: describe(adapter),
    isFallback: isFallbackAdapter(adapter),
    lost: device.lost,
    destroy: () => device.destroy(),
  };
}
