/**
 * The memory limit a network's weights and blobs are checked against before anything is allocated
 * (see memory-need.ts): where it comes from, and how it is written.
 */
import { DyveError } from '../errors.js';

/** A limit in bytes, with where it came from, for error messages. */
export interface MemoryLimit {
  readonly bytes: number;
  /** `DYVE_MEMORY_LIMIT=8G`, `a quarter of this machine's 23.5 GiB`, ... */
  readonly source: string;
}

/** The variable that overrides the default limit in Node and Deno. */
export const MEMORY_LIMIT_VARIABLE = 'DYVE_MEMORY_LIMIT';

/**
 * The share of the machine's memory allowed by default. The check counts a lower bound (the
 * weights plus the blobs of the one layer that reads and writes the most); scratch buffers, the
 * data set's batch and a weights file's decoding copies come on top, often as much again, so a
 * quarter keeps the whole process near half the machine: short of swapping and of the OOM killer.
 * It is also the JVM's default heap limit, a share long found to suit a default.
 */
const MACHINE_SHARE = 4;

/**
 * The limit where the machine's memory cannot be read (browsers): a 64-bit browser lets a tab's
 * ArrayBuffers grow to a few GiB and a 32-bit WebAssembly memory addresses 4 GiB; half of that
 * still holds VGG16 (528 MiB of weights) with a batch of dozens of images.
 */
const FIXED_DEFAULT_BYTES = 2 * 2 ** 30;

let override: MemoryLimit | undefined;

/** What a host exposes of Node's `process`, read without importing a Node built-in (browser bundles). */
interface HostProcess {
  readonly env?: Readonly<Record<string, string | undefined>>;
  getBuiltinModule?(id: string): unknown;
}

function hostProcess(): HostProcess | undefined {
  return (globalThis as { process?: HostProcess }).process;
}

/**
 * Reads an environment variable in Node or Deno; `undefined` in a browser, or where Deno runs
 * without --allow-env (reading then throws, which must not stop a load).
 */
export function environmentVariable(name: string): string | undefined {
  try {
    return hostProcess()?.env?.[name];
  } catch {
    return undefined;
  }
}

/** The machine's physical memory in bytes, where the host says (Node >= 20.16, Deno). */
function machineMemory(): number | undefined {
  try {
    const os = hostProcess()?.getBuiltinModule?.('node:os') as { totalmem?: () => number } | undefined;
    const total = os?.totalmem?.();
    return typeof total === 'number' && total > 0 ? total : undefined;
  } catch {
    return undefined;
  }
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * Parses a size: a number of bytes, or a number with a binary unit K, M, G or T (optionally
 * followed by B or iB: `8G`, `512MiB`, `1.5GB` all count powers of 1024, as `docker -m` does).
 *
 * @returns `undefined` when the text is not such a size or is not positive.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]);
  return bytes > 0 && Number.isFinite(bytes) ? bytes : undefined;
}

/** `3.81 GiB`, `977 MiB`, `4 GiB`, `512 B`: up to three significant digits, binary units. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value >= 100 ? value.toFixed(0) : Number(value.toPrecision(3))} ${units[unit]}`;
}

/**
 * Replaces the memory limit for this process (the API's way; a browser has no environment), or
 * with `undefined` goes back to the default. It takes precedence over DYVE_MEMORY_LIMIT.
 *
 * @param bytes a positive number of bytes; `Infinity` turns the check off.
 * @throws DyveError when `bytes` is not positive.
 */
export function setMemoryLimit(bytes: number | undefined): void {
  if (bytes === undefined) {
    override = undefined;
    return;
  }
  if (!(bytes > 0)) throw new DyveError(`the memory limit must be a positive number of bytes, found ${bytes}`);
  override = { bytes, source: 'set by setMemoryLimit()' };
}

/**
 * The limit that a network's weights and blobs must fit in, in this order: the one given to
 * {@link setMemoryLimit}; the environment variable DYVE_MEMORY_LIMIT (`8G`, `512M`, a number of
 * bytes); a quarter of the machine's memory (Node, Deno); 2 GiB where that is unknown (browsers).
 *
 * @throws DyveError when DYVE_MEMORY_LIMIT is set but is not a size.
 */
export function memoryLimit(): MemoryLimit {
  if (override) return override;
  const env = environmentVariable(MEMORY_LIMIT_VARIABLE);
  if (env !== undefined && env.trim() !== '') {
    const bytes = parseByteSize(env);
    if (bytes === undefined) {
      throw new DyveError(`${MEMORY_LIMIT_VARIABLE} takes a size such as 8G, 512M or a number of bytes, found '${env}'`);
    }
    return { bytes, source: `${MEMORY_LIMIT_VARIABLE}=${env.trim()}` };
  }
  const total = machineMemory();
  if (total !== undefined) {
    return { bytes: Math.floor(total / MACHINE_SHARE), source: `a quarter of this machine's ${formatBytes(total)}` };
  }
  return { bytes: FIXED_DEFAULT_BYTES, source: 'the default where the machine\'s memory is unknown' };
}
