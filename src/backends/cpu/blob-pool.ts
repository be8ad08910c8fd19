/**
 * Recycled memory for the blobs of CPU runs. Every layer writes a fresh output array, and a run
 * drops each blob after its last reader; arrays of megabytes allocated and dropped per layer are
 * mapped and unmapped by the allocator again and again, each first touch of a page faulting, as
 * much or as little as the allocator's state of the moment decides (measured: passes of the same
 * tile-mode run of cifar10-quick took 0.61-0.93 s without the pool, 0.62-0.64 s with it; dense
 * squeezenet-dc runs 1.23x faster with it). The kernels take their output arrays here, and a run
 * gives back the blobs it drops (RunBlobs). The last memory given back is the first taken, by any blob it can
 * hold, so a chain of layers keeps reusing the memory it just read, still in the caches.
 *
 * Only memory this pool handed out comes back into it, never twice, and only while the free
 * memory stays under a byte limit; what a caller keeps (a run's output, kept or observed blobs)
 * is never given back.
 */

/** A blob reuses free memory up to this many times its size. */
const MAX_WASTE = 4;
/** Free buffers searched per request, most recently given first. */
const SEARCH = 16;

export class BlobPool {
  /** Free buffers, the most recently given last. */
  private readonly free: ArrayBuffer[] = [];
  private readonly issued = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  /** @param limitBytes the most bytes the free buffers hold; memory given beyond it is dropped. */
  constructor(readonly limitBytes: number) {}

  /** An array of `length` values whose contents are undefined (the caller writes all of them). */
  take(length: number): Float32Array {
    return this.recycled(length) ?? this.fresh(length);
  }

  /** An array of `length` zeros. */
  zeros(length: number): Float32Array {
    return this.recycled(length)?.fill(0) ?? this.fresh(length);
  }

  /** Free memory for `length` values, the most recently given that fits, or undefined. */
  private recycled(length: number): Float32Array | undefined {
    const bytes = length * 4;
    for (let i = this.free.length - 1; i >= Math.max(0, this.free.length - SEARCH); i--) {
      const buffer = this.free[i];
      if (buffer.byteLength < bytes || buffer.byteLength > MAX_WASTE * bytes) continue;
      this.free.splice(i, 1);
      this.freeBytes -= buffer.byteLength;
      return new Float32Array(buffer, 0, length);
    }
    return undefined;
  }

  private fresh(length: number): Float32Array {
    const array = new Float32Array(length);
    this.issued.add(array.buffer);
    return array;
  }

  /** Gives back the memory of an array that nothing reads any more (ignored unless `take` made it). */
  give(array: Float32Array): void {
    const { buffer } = array;
    if (!(buffer instanceof ArrayBuffer) || !this.issued.has(buffer) || this.free.includes(buffer)) return;
    if (this.freeBytes + buffer.byteLength > this.limitBytes) return;
    this.free.push(buffer);
    this.freeBytes += buffer.byteLength;
  }

  /** Bytes held by the free buffers. */
  get bytes(): number {
    return this.freeBytes;
  }
}

/** The pool of this thread's CPU runs: SqueezeNet's blobs of a few images fit in its limit. */
export const blobPool = new BlobPool(128 * 1024 * 1024);
