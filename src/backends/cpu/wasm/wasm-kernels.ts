/**
 * One instantiated build of the WebAssembly kernels: its exports, its memory, and the packed
 * weights of every layer it has run (packed once, reused while the layer's weight arrays are).
 */
import type { TileKernels } from '../dynamic/tile-kernels.js';
import { WasmMemory } from './wasm-memory.js';
import type { WasmBuild } from './wasm-builds.js';

/** The exports of wasm/assembly/index.ts (addresses are byte offsets in `memory`). */
export interface WasmKernelExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  tileRows(): number;
  convolutionScratchBytes(desc: number): number;
  convolution(desc: number): void;
  innerProductScratchBytes(batch: number, inSize: number, out: number): number;
  innerProduct(batch: number, x: number, y: number, inSize: number, out: number, weights: number, bias: number, scratch: number): void;
  packRowPanels(src: number, rows: number, cols: number, ld: number, dst: number): void;
  packColumnPanels(src: number, rows: number, cols: number, ld: number, dst: number): void;
  gemmScratchBytes(n: number, k: number, bMode: number): number;
  poolingScratchBytes(
    h: number, w: number, outH: number, outW: number, kernelH: number, kernelW: number, strideH: number, strideW: number, padH: number, padW: number,
  ): number;
  pooling(
    x: number, y: number, planes: number, h: number, w: number, outH: number, outW: number,
    kernelH: number, kernelW: number, strideH: number, strideW: number, padH: number, padW: number, isMax: number, scratch: number,
  ): void;
  relu(x: number, n: number, slope: number): void;
  tileConvolutionScratchBytes(desc: number): number;
  channelsLastRows(src: number, ldRow: number, m: number, nKept: number, taps: number, dst: number): void;
  tileConvolution(desc: number): void;
  gemm(
    m: number, n: number, k: number, a: number, bMode: number, bBase: number, c: number, ldc: number,
    init: number, bias: number, panel: number, edge: number,
  ): void;
}

/** Weights packed in linear memory for one layer. */
export interface PackedWeights {
  /** Address of the packed weight operand. */
  readonly weights: number;
  /** Address of the bias (zeros without one), padded as the kernel reads it. */
  readonly bias: number;
}

interface CacheEntry extends PackedWeights {
  readonly generation: number;
  /** What the packing depends on besides the arrays (layout and shape). */
  readonly key: string;
  readonly biasArray: Float32Array | undefined;
}

/** An instantiated build (see the file comment); obtained from initWasmKernels(). */
export class WasmKernels {
  readonly memory: WasmMemory;
  /** Rows of the largest micro-tile (5 plain SIMD, 6 relaxed SIMD). */
  readonly tileRows: number;
  private readonly packed = new WeakMap<Float32Array, CacheEntry>();

  /**
   * @param tiles the fast dynamic convolution's hot loops in WebAssembly (wasm/dynamic/), which
   *   the `wasm` variant's dynamic layers run.
   */
  constructor(readonly build: WasmBuild, readonly exports: WasmKernelExports, readonly tiles: TileKernels) {
    this.memory = new WasmMemory(exports.memory, exports.heapBase());
    this.tileRows = exports.tileRows();
  }

  /**
   * The packed form of `weight` (and `bias`, `biasLength` values, zero-padded to `biasPadded`),
   * from the cache when the same arrays were packed with the same `key` since the persistent
   * memory was last dropped; else `pack(src, dst)` copies them from `src` (the raw weights, copied
   * into scratch) into `dst` (`packedBytes` persistent bytes).
   */
  packedWeights(
    weight: Float32Array, bias: Float32Array | undefined, biasPadded: number, key: string, packedBytes: number,
    pack: (src: number, dst: number) => void,
  ): PackedWeights {
    const mem = this.memory;
    const hit = this.packed.get(weight);
    if (hit && hit.generation === mem.generation && hit.key === key && hit.biasArray === bias) return hit;
    // One allocation for both, so a drop of the persistent region cannot fall between them.
    const biasOffset = (packedBytes + 15) & ~15;
    const dst = mem.allocatePersistent(biasOffset + biasPadded * 4);
    const biasAddress = dst + biasOffset;
    const src = mem.scratch().take(weight.length * 4);
    const f32 = mem.f32();
    f32.set(weight, src >> 2);
    f32.fill(0, biasAddress >> 2, (biasAddress >> 2) + biasPadded);
    if (bias) f32.set(bias, biasAddress >> 2);
    pack(src, dst);
    const entry: CacheEntry = { generation: mem.generation, key, weights: dst, bias: biasAddress, biasArray: bias };
    this.packed.set(weight, entry);
    return entry;
  }
}
