/**
 * Command-line values checked in one place, before a command runs anything: numbers against their
 * allowed range (the message says the range) and `--threads` against the cores there are. The
 * paths a command writes are checked by output-paths.ts.
 */
import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DyveError } from '../src/errors.js';

/** Flag values as node's parseArgs returns them. */
export type FlagValues = { readonly [key: string]: string | boolean | undefined };

/** Option definitions, as node's parseArgs takes them. */
type Options = NonNullable<ParseArgsConfig['options']>;

/** A token that is a negative number (`-1`, `-0.5`, `-.5`, `-1e3`, `-104,-117,-123`, `-Infinity`). */
const NEGATIVE_NUMBER = /^-(\d|\.\d|inf)/i;

/**
 * The arguments with a negative number after a string option joined to it (`--limit -1` becomes
 * `--limit=-1`). Node's parseArgs takes `-1` for an option and stops with "argument is ambiguous";
 * joined, the value reaches the range check, which says what is allowed. Tokens after `--` are
 * left alone.
 */
export function withNegativeValues(args: readonly string[], options: Options): string[] {
  const shorts = new Map(Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i];
    if (token === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = token.startsWith('--') ? token.slice(2) : /^-[^-]$/.test(token) ? shorts.get(token.slice(1)) : undefined;
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}

/** What {@link parseFlags} returns for options `O`: parseArgs' result, `values` typed per option. */
export type ParsedFlags<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>;

/**
 * Node's parseArgs (strict: an unknown option is an error) on {@link withNegativeValues}' arguments,
 * so that `--limit -1` reaches the range check instead of stopping as "ambiguous".
 */
export function parseFlags<const O extends Options>(args: readonly string[], options: O): ParsedFlags<O> {
  return parseArgs({ args: withNegativeValues(args, options), options, strict: true, allowPositionals: false });
}

function stringValue(values: FlagValues, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

/** The allowed range of a numeric flag. */
export interface Range {
  /** Smallest value allowed (inclusive unless `above`). */
  readonly min?: number;
  /** The value must be strictly greater than `min`. */
  readonly above?: boolean;
  /** Largest value allowed (inclusive). */
  readonly max?: number;
}

/** The range in words: `>= 1`, `> 0`, `in [0, 100]`. */
function describeRange(range: Range): string {
  const { min, max, above } = range;
  if (min !== undefined && max !== undefined) return above ? `in (${min}, ${max}]` : `in [${min}, ${max}]`;
  if (min !== undefined) return `${above ? '>' : '>='} ${min}`;
  if (max !== undefined) return `<= ${max}`;
  return '';
}

function inRange(n: number, range: Range): boolean {
  if (range.min !== undefined && (range.above ? !(n > range.min) : !(n >= range.min))) return false;
  return range.max === undefined || n <= range.max;
}

/** What a flag takes, in words: `a whole number >= 1`. */
function rule(kind: 'whole number' | 'finite number', range: Range): string {
  const r = describeRange(range);
  return `a ${kind}${r ? ` ${r}` : ''}`;
}

/** `v` as a whole number written in decimal digits, or null. */
function wholeNumber(v: string): number | null {
  const n = Number(v.trim());
  return /^\s*[-+]?\d+\s*$/.test(v) && Number.isSafeInteger(n) ? n : null;
}

/**
 * Parses a whole-number flag (decimal digits only: `1e3` and `0x10` are not taken for counts).
 *
 * @returns `fallback` when the flag is absent.
 * @throws DyveError naming the flag, its allowed range and what was found.
 */
export function intFlag(values: FlagValues, key: string, fallback: number, range: Range): number;
export function intFlag(values: FlagValues, key: string, fallback: undefined, range: Range): number | undefined;
export function intFlag(values: FlagValues, key: string, fallback: number | undefined, range: Range): number | undefined {
  const v = stringValue(values, key);
  if (v === undefined) return fallback;
  const n = wholeNumber(v);
  if (n === null || !inRange(n, range)) throw new DyveError(`--${key} takes ${rule('whole number', range)}, found '${v}'`);
  return n;
}

/**
 * Parses a number flag: finite (`NaN`, `Infinity` and `1e400`, which overflows to Infinity, are
 * refused) and within `range`.
 *
 * @returns `fallback` when the flag is absent.
 * @throws DyveError naming the flag, its allowed range and what was found.
 */
export function numberFlag(values: FlagValues, key: string, fallback: number, range: Range): number;
export function numberFlag(values: FlagValues, key: string, fallback: undefined, range: Range): number | undefined;
export function numberFlag(values: FlagValues, key: string, fallback: number | undefined, range: Range): number | undefined {
  const v = stringValue(values, key);
  if (v === undefined) return fallback;
  const n = v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(n) || !inRange(n, range)) throw new DyveError(`--${key} takes ${rule('finite number', range)}, found '${v}'`);
  return n;
}

/** The cores this process may run on: the most worker threads that can run at once. */
export function availableCores(): number {
  return availableParallelism();
}

/**
 * Parses `--threads`: a whole number >= 1. A request above the available cores runs on that many
 * (more threads than cores only add memory, one heap per worker, and contention) and says so in one
 * line through `notice`.
 *
 * @returns `fallback` when the flag is absent (not capped: callers default to the cores or 1).
 */
export function threadsFlag(values: FlagValues, fallback: number, notice?: (line: string) => void): number;
export function threadsFlag(values: FlagValues, fallback: undefined, notice?: (line: string) => void): number | undefined;
export function threadsFlag(values: FlagValues, fallback: number | undefined, notice: (line: string) => void = (line) => console.error(line)): number | undefined {
  const cores = availableCores();
  const v = stringValue(values, 'threads');
  if (v === undefined) return fallback;
  const n = wholeNumber(v);
  if (n === null || n < 1) {
    throw new DyveError(`--threads takes a whole number >= 1 (up to the ${cores} core${cores === 1 ? '' : 's'} available here), found '${v}'`);
  }
  if (n > cores) {
    notice(`dyvedeep: --threads ${n} is more than the ${cores} core${cores === 1 ? '' : 's'} available: running ${cores} thread${cores === 1 ? '' : 's'}`);
    return cores;
  }
  return n;
}

/**
 * A comma-separated subset of `allowed` (`--models a,b`), in `allowed`'s order; undefined when the
 * flag is absent.
 *
 * @throws DyveError naming the flag and what it takes, for an unknown item or an empty list.
 */
export function listFlag<T extends string>(value: string | boolean | undefined, flag: string, allowed: readonly T[]): T[] | undefined {
  if (typeof value !== 'string') return undefined;
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of list) if (!(allowed as readonly string[]).includes(item)) throw new DyveError(`--${flag} takes a list of ${allowed.join(', ')}; found '${item}'`);
  if (list.length === 0) throw new DyveError(`--${flag} takes a list of ${allowed.join(', ')}; found '${value}'`);
  return allowed.filter((a) => list.includes(a));
}
