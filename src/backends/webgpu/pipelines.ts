/**
 * The one owner of shader modules and compute pipelines: each kernel file is compiled once per
 * device, each (kernel, override values) pipeline created once, asynchronously, and labelled.
 * Compilation errors surface as a DyveError naming the shader file, line and column.
 */
import { DyveError } from '../../errors.js';
import { loadShader } from './shader-loader.js';

/**
 * Every kernel, by its file under shaders/ (without `.wgsl`), with its default workgroup size
 * (the `WG` override constant every kernel declares; lowered to the device's limit).
 */
export const KERNELS = {
  'convolution/dense': { workgroupSize: 64 },
  'inner-product/dense': { workgroupSize: 64 },
  'pooling/pooling': { workgroupSize: 256 },
  'normalization/lrn': { workgroupSize: 256 },
  'activation/relu': { workgroupSize: 256 },
  'softmax/softmax': { workgroupSize: 64 },
  'routing/concat': { workgroupSize: 256 },
  'dynamic/convolution': { workgroupSize: 64 },
  'dynamic/map-statistics': { workgroupSize: 64 },
  'dynamic/sfma-kernel-sums': { workgroupSize: 64 },
  'dynamic/spet-bound': { workgroupSize: 64 },
  'dynamic/sdss-decide': { workgroupSize: 256 },
  'dynamic/sdss-indirect-args': { workgroupSize: 1 },
} as const;

export type KernelName = keyof typeof KERNELS;

/** A created pipeline and the workgroup size it was specialised with. */
export interface Kernel {
  readonly name: KernelName;
  readonly pipeline: GPUComputePipeline;
  readonly workgroupSize: number;
}

/** A compilation failure of one shader, with the compiler's messages. */
export class ShaderCompilationError extends DyveError {
  override readonly name = 'ShaderCompilationError';
}

export class PipelineCache {
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  private readonly pipelines = new Map<string, Promise<Kernel>>();

  /**
   * @param workgroupSizes per kernel, a workgroup size replacing the default (tuning).
   */
  constructor(
    private readonly device: GPUDevice,
    private readonly workgroupSizes: Partial<Record<KernelName, number>> = {},
  ) {}

  /** The pipeline of `name` (compiled on first use). */
  kernel(name: KernelName): Promise<Kernel> {
    const limit = this.device.limits.maxComputeInvocationsPerWorkgroup;
    const size = Math.min(this.workgroupSizes[name] ?? KERNELS[name].workgroupSize, limit, this.device.limits.maxComputeWorkgroupSizeX);
    const key = `${name}|WG=${size}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.create(name, size);
      this.pipelines.set(key, p);
    }
    return p;
  }

  private module(name: KernelName): Promise<GPUShaderModule> {
    let m = this.modules.get(name);
    if (!m) {
      m = (async () => {
        const code = await loadShader(name);
        const module = this.device.createShaderModule({ code, label: `shaders/${name}.wgsl` });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((msg) => msg.type === 'error');
        if (errors.length > 0) {
          throw new ShaderCompilationError(
            `WGSL compilation failed in shaders/${name}.wgsl:\n${errors.map((e) => `  ${e.lineNum}:${e.linePos} ${e.message}`).join('\n')}`,
          );
        }
        return module;
      })();
      this.modules.set(name, m);
    }
    return m;
  }

  private async create(name: KernelName, workgroupSize: number): Promise<Kernel> {
    const module = await this.module(name);
    const constants: Record<string, number> = name === 'dynamic/sdss-indirect-args' ? {} : { WG: workgroupSize };
    try {
      const pipeline = await this.device.createComputePipelineAsync({
        label: `${name} (WG ${workgroupSize})`, layout: 'auto', compute: { module, entryPoint: 'main', constants },
      });
      return { name, pipeline, workgroupSize };
    } catch (err) {
      throw new ShaderCompilationError(`cannot create the pipeline of shaders/${name}.wgsl: ${(err as Error).message}`);
    }
  }
}
