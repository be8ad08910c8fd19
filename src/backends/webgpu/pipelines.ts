/**
 * The one owner of shader modules and compute pipelines: each kernel file is compiled once per
 * device, each (kernel, override values) pipeline created once, asynchronously, and labelled.
 * Compilation errors surface as a DyveError naming the shader file, line and column.
 */
import { DyveError } from '../../errors.js';
import { loadShader } from './shader-loader.js';

/**
 * Every kernel, by its file under shaders/ (without `.wgsl`), with the default values of its
 * override constants: `WG` (workgroup size, lowered to the device's limit) in every kernel but the
 * single-invocation one, `PX` (positions per invocation, at most 8) in the convolutions. Constants
 * that select what a kernel computes are listed apart, in {@link SPECIALISATION_CONSTANTS}.
 */
export const KERNELS = {
  'convolution/dense': { WG: 64, PX: 8 },
  'inner-product/dense': { WG: 64 },
  'pooling/pooling': { WG: 256 },
  'normalization/lrn': { WG: 256 },
  'activation/relu': { WG: 256 },
  'activation/pointwise': { WG: 256 },
  'activation/prelu': { WG: 256 },
  'elementwise/scale': { WG: 256 },
  'elementwise/eltwise': { WG: 256 },
  'softmax/softmax': { WG: 64 },
  'routing/concat': { WG: 256 },
  'dynamic/convolution': { WG: 64, PX: 4 },
  'dynamic/map-statistics': { WG: 64 },
  'dynamic/sfma-kernel-sums': { WG: 64 },
  'dynamic/spet-bound': { WG: 64 },
  'dynamic/sdss-decide': { WG: 256 },
  'dynamic/sdss-indirect-args': {},
  // 64 rather than 256: 256 re-packs more of SDSS's failing tiles per workgroup (lavapipe, batch
  // 100: ~1.08x -> 1.14x dense) but loses at batch 1 (SwiftShader 0.89x against 1.13-1.16x).
  'dynamic/tile-convolution': { WG: 64 },
} as const satisfies Record<string, { WG?: number; PX?: number }>;

export type KernelName = keyof typeof KERNELS;

/**
 * Override constants an encoder sets per layer (`PipelineCache.kernel(name, { KIND: 1 })`), each
 * specialisation created once: those that choose what a kernel computes (not tuning: `--tune`
 * cannot set them), and the dense convolution's PX, which its encoder lowers below the tuned
 * value for maps with few positions.
 */
export const SPECIALISATION_CONSTANTS: Partial<Record<KernelName, readonly string[]>> = {
  'activation/pointwise': ['KIND'],
  'elementwise/eltwise': ['OP'],
  'dynamic/tile-convolution': ['TP'],
  'convolution/dense': ['PX'],
};

/** The override constants of one pipeline specialisation (see {@link SPECIALISATION_CONSTANTS}). */
export type KernelSpecialisation = Readonly<Record<string, number>>;

/** Override constants replacing the defaults, per kernel (tuning per device). */
export type KernelTuning = Partial<Record<KernelName, { readonly WG?: number; readonly PX?: number }>>;

/**
 * Parses `KERNEL:WG=N,PX=N;KERNEL:...` (e.g. `dynamic/convolution:WG=32,PX=4`) into a tuning;
 * throws a DyveError naming the unknown kernel or constant.
 */
export function parseTuning(text: string): KernelTuning {
  const tuning: Record<string, Record<string, number>> = {};
  for (const part of text.split(';').map((p) => p.trim()).filter((p) => p !== '')) {
    const [name, values = ''] = part.split(':');
    if (!(name in KERNELS)) throw new DyveError(`--tune: unknown kernel '${name}' (kernels: ${Object.keys(KERNELS).join(', ')})`);
    const allowed = Object.keys(KERNELS[name as KernelName]);
    for (const pair of values.split(',').filter((v) => v !== '')) {
      const [key, value] = pair.split('=');
      if (!allowed.includes(key)) throw new DyveError(`--tune: kernel ${name} has no constant '${key}' (it has: ${allowed.join(', ') || 'none'})`);
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new DyveError(`--tune: ${name} ${key} must be a positive integer, got '${value}'`);
      (tuning[name] ??= {})[key] = n;
    }
  }
  return tuning as KernelTuning;
}

/** A created pipeline and the override constants it was specialised with. */
export interface Kernel {
  readonly name: KernelName;
  readonly pipeline: GPUComputePipeline;
  /** `WG` (1 for a kernel without it). */
  readonly workgroupSize: number;
  /** `PX` (1 for a kernel without it). */
  readonly positionsPerInvocation: number;
}

/** A compilation failure of one shader, with the compiler's messages. */
export class ShaderCompilationError extends DyveError {
  override readonly name = 'ShaderCompilationError';
}

export class PipelineCache {
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  private readonly pipelines = new Map<string, Promise<Kernel>>();

  /**
   * @param tuning per kernel, override constants replacing the defaults.
   */
  constructor(
    private readonly device: GPUDevice,
    private readonly tuning: KernelTuning = {},
  ) {}

  /** The pipeline of `name` (compiled on first use), specialised with `specialisation`'s constants. */
  kernel(name: KernelName, specialisation: KernelSpecialisation = {}): Promise<Kernel> {
    const allowed = SPECIALISATION_CONSTANTS[name] ?? [];
    for (const key of Object.keys(specialisation)) {
      if (!allowed.includes(key)) throw new DyveError(`kernel ${name} has no specialisation constant '${key}' (it has: ${allowed.join(', ') || 'none'})`);
    }
    const constants: Record<string, number> = { ...KERNELS[name], ...this.tuning[name], ...specialisation };
    if (constants.WG !== undefined) {
      constants.WG = Math.min(constants.WG, this.device.limits.maxComputeInvocationsPerWorkgroup, this.device.limits.maxComputeWorkgroupSizeX);
    }
    if (constants.PX !== undefined && !(Number.isInteger(constants.PX) && constants.PX >= 1 && constants.PX <= 8)) {
      throw new DyveError(`kernel ${name}: PX must be an integer from 1 to 8, got ${constants.PX}`);
    }
    const key = `${name}|${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.create(name, constants);
      this.pipelines.set(key, p);
    }
    return p;
  }

  private module(name: KernelName): Promise<GPUShaderModule> {
    let m = this.modules.get(name);
    if (!m) {
      m = (async () => {
        const code = await loadShader(name);
        const file = `shaders/${name}.wgsl`;
        const module = this.device.createShaderModule({ code, label: file });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((msg) => msg.type === 'error');
        if (errors.length > 0) {
          throw new ShaderCompilationError(
            `WGSL compilation failed in ${file}:\n${errors.map((e) => `  ${file}:${e.lineNum}:${e.linePos} ${e.message}`).join('\n')}`,
          );
        }
        return module;
      })();
      this.modules.set(name, m);
    }
    return m;
  }

  private async create(name: KernelName, constants: Record<string, number>): Promise<Kernel> {
    const module = await this.module(name);
    try {
      const pipeline = await this.device.createComputePipelineAsync({
        label: `${name} ${JSON.stringify(constants)}`, layout: 'auto', compute: { module, entryPoint: 'main', constants },
      });
      return { name, pipeline, workgroupSize: constants.WG ?? 1, positionsPerInvocation: constants.PX ?? 1 };
    } catch (err) {
      throw new ShaderCompilationError(`cannot create the pipeline of shaders/${name}.wgsl: ${(err as Error).message}`);
    }
  }
}
