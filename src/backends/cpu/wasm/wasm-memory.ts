/**
 * The linear memory of a WebAssembly kernel instance, owned by the host: the module has no
 * allocator (wasm/assembly/index.ts). Above the module's static data come the PERSISTENT
 * allocations (packed weights, cached per layer), then each kernel call's SCRATCH (its
 * descriptor, input, output and work buffers), taken afresh by every call above the persistent
 * top. The memory grows on demand (memory.grow), which detaches earlier views: `f32()` / `i32()`
 * always return views of the current buffer.
 *
 * Persistent allocations are never freed one by one (weights live as long as their network);
 * when they would pass PERSISTENT_LIMIT_BYTES the whole region is dropped at once and its
 * `generation` bumped, so every cached packing is rebuilt on next use (a long session that loads
 * many networks stays bounded).
 */
import { DyveError } from '../../../errors.js';
import { blobPool } from '../blob-pool.js';

const PAGE_BYTES = 65536;
/** Persistent bytes after which the cache of packed weights is dropped and rebuilt. */
export const PERSISTENT_LIMIT_BYTES = 512 * 1024 * 1024;
/**
 * Bytes left free after every allocation: kernels may read a few bytes past a buffer's end (the
 * stride-2 im2col loads 16 values for 8 even ones), never past this.
 */
const SLACK_BYTES = 64;

function align16(n: number): number {
  return (n + 15) & ~15;
}

/** A run of scratch allocations for one kernel call (see WasmMemory.scratch). */
export interface ScratchAllocator {
  /** A 16-byte aligned address of `bytes` free bytes (growing the memory if needed). */
  take(bytes: number): number;
}

/** Host-side management of one instance's linear memory (see the file comment). */
export class WasmMemory {
  private persistentTop: number;
  private generationValue = 0;
  private f32View: Float32Array;
  private i32View: Int32Array;

  /** `base`: first free byte (the module's heapBase()). */
  constructor(private readonly memory: WebAssembly.Memory, private readonly base: number) {
    this.persistentTop = align16(base);
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
  }

  /** Increases each time the persistent region is dropped; cached entries record the one they belong to. */
  get generation(): number {
    return this.generationValue;
  }

  /** Current size of the linear memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** A float32 view of the whole memory (valid until the memory next grows). */
  f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  /** A copy of `length` float32 values at `address`, in an array of the blob pool (blob-pool.ts). */
  copyOut(address: number, length: number): Float32Array {
    const out = blobPool.take(length);
    out.set(this.f32().subarray(address >> 2, (address >> 2) + length));
    return out;
  }

  /** An int32 view of the whole memory (valid until the memory next grows). */
  i32(): Int32Array {
    if (this.i32View.buffer !== this.memory.buffer) this.i32View = new Int32Array(this.memory.buffer);
    return this.i32View;
  }

  /**
   * A persistent allocation of `bytes`. Drops the whole persistent region first (bumping
   * `generation`) when it would pass PERSISTENT_LIMIT_BYTES. Call before `scratch()` in a kernel
   * call: scratch lives above the persistent top.
   */
  allocatePersistent(bytes: number): number {
    if (this.persistentTop + bytes - this.base > PERSISTENT_LIMIT_BYTES) {
      this.persistentTop = align16(this.base);
      this.generationValue++;
    }
    const address = this.persistentTop;
    this.persistentTop = align16(address + bytes + SLACK_BYTES);
    this.ensure(this.persistentTop);
    return address;
  }

  /** A fresh run of scratch allocations above the persistent region; earlier runs' memory is reused. */
  scratch(): ScratchAllocator {
    let top = this.persistentTop;
    return {
      take: (bytes: number): number => {
        const address = top;
        top = align16(address + bytes + SLACK_BYTES);
        this.ensure(top);
        return address;
      },
    };
  }

  /** Grows the memory to at least `bytes`; a DyveError when the engine refuses (over 4 GiB, or out of memory). */
  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    // Grow geometrically, so a batch that grows step by step does not grow on every call.
    const want = Math.max(bytes, Math.min(have * 2, have + 256 * 1024 * 1024));
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE_BYTES));
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      try {
        this.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
      } catch {
        throw new DyveError(
          `the WebAssembly kernels need ${bytes} bytes of linear memory and the engine refuses to grow it past ${have} (4 GiB at most): use a smaller --batch`,
        );
      }
    }
  }
}
