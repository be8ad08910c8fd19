/**
 * Shared pieces of the fuzz suite (test/fuzz/*.test.ts): a fixed seed, the per-case bounds, the
 * check that a case ends in a result or a DyveError, and mutators for text and bytes.
 *
 * Every suite starts from real, valid inputs (the data directory's models, the zoo's profiles,
 * images made in the test) and applies a few random edits, so most cases get past the first bytes
 * and reach the deeper checks that a purely random input never would.
 *
 * Reproducing a failure: fast-check prints the seed and the shrunk counterexample; the runs are
 * seeded (FUZZ_SEED, or $DYVE_FUZZ_SEED to explore other seeds) so the same command fails the same
 * way. $DYVE_FUZZ_SCALE multiplies every case count for a longer local run (CI uses 1).
 * $DYVE_FUZZ_REPORT=1 prints each suite's outcome counts and times; $DYVE_FUZZ_SLOW=MS prints every
 * case slower than MS milliseconds, with its input.
 */
import fc from 'fast-check';
import { DyveError } from '../../src/errors.js';

/** The suite's fixed seed: CI runs the same cases every time. */
export const FUZZ_SEED = Number(process.env['DYVE_FUZZ_SEED'] ?? 20_160_616);

const SCALE = Number(process.env['DYVE_FUZZ_SCALE'] ?? 1);

/** `n` cases, times $DYVE_FUZZ_SCALE. */
export function fuzzRuns(n: number): number {
  return Math.max(1, Math.round(n * (Number.isFinite(SCALE) && SCALE > 0 ? SCALE : 1)));
}

/**
 * Longest one case may take. The inputs are small (a few KB; under 1 MB for the deepest nesting)
 * and the slowest case of each suite takes well under 200 ms on an idle core, so a case near this
 * is a resource bug (a header asking for gigabytes, a quadratic loop), not a slow machine.
 * JavaScript cannot pre-empt a synchronous call, so the bound is checked when the case returns:
 * a truly endless loop would hang the worker until CI's job timeout.
 */
export const CASE_TIME_LIMIT_MS = 3_000;

/** Largest resident set the worker may reach during a suite: a case allocating past it is a bug. */
export const RSS_LIMIT_BYTES = 1_536 * 2 ** 20;

/** How one case ended. */
export type Outcome = 'result' | 'rejected';

/** Counts of outcomes over a suite, to check that the mutations reach both ends. */
export class OutcomeTally {
  result = 0;
  rejected = 0;
  slowestMs = 0;
  /** Time spent inside the cases (the rest is generating and mutating inputs). */
  totalMs = 0;

  get total(): number {
    return this.result + this.rejected;
  }
}

/**
 * Runs one case: it must return, or throw a DyveError, within CASE_TIME_LIMIT_MS and RSS_LIMIT_BYTES.
 * Anything else (a TypeError, a RangeError from a stack overflow or a typed-array allocation) is
 * rethrown as a failure that names the escaped error, for fast-check to shrink and report.
 */
export function runCase(tally: OutcomeTally, run: () => unknown, describeCase?: () => string): Outcome {
  const start = performance.now();
  let outcome: Outcome;
  try {
    run();
    outcome = 'result';
  } catch (err) {
    if (!(err instanceof DyveError)) {
      const e = err as Error;
      throw new Error(`escaped as ${e?.constructor?.name ?? typeof err} (not a DyveError): ${String(e?.message ?? err)}\n${e?.stack ?? ''}`);
    }
    // A DyveError is read by a person: it must say something.
    if (err.message.trim() === '') throw new Error(`a ${err.name} with an empty message`);
    outcome = 'rejected';
  }
  const ms = performance.now() - start;
  if (process.env['DYVE_FUZZ_SLOW'] && ms > Number(process.env['DYVE_FUZZ_SLOW'])) console.log(`slow case ${ms.toFixed(0)} ms: ${describeCase?.() ?? ''}`);
  tally.slowestMs = Math.max(tally.slowestMs, ms);
  tally.totalMs += ms;
  if (ms > CASE_TIME_LIMIT_MS) throw new Error(`case took ${ms.toFixed(0)} ms (bound ${CASE_TIME_LIMIT_MS} ms), ending as ${outcome}`);
  // Reading the resident set costs a system call: every 16th case is enough to catch a leak, and
  // a single huge allocation shows in the case's time as well.
  const rss = tally.total % 16 === 0 ? process.memoryUsage.rss() : 0;
  if (rss > RSS_LIMIT_BYTES) throw new Error(`resident memory reached ${(rss / 2 ** 20).toFixed(0)} MiB (bound ${RSS_LIMIT_BYTES / 2 ** 20} MiB), ending as ${outcome}`);
  tally[outcome]++;
  return outcome;
}

/** With $DYVE_FUZZ_REPORT=1, prints a suite's outcome counts and times (for sizing the suites). */
export function report(suite: string, tally: OutcomeTally): void {
  if (process.env['DYVE_FUZZ_REPORT'] !== '1') return;
  console.log(`${suite}: ${tally.total} cases, ${tally.result} results, ${tally.rejected} DyveErrors; ` +
    `${tally.totalMs.toFixed(0)} ms inside the cases, slowest ${tally.slowestMs.toFixed(1)} ms`);
}

/** fast-check parameters of every suite: seeded, no time-based interruption (the case count is the bound). */
export function fuzzParameters(numRuns: number, seedOffset: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED + seedOffset, numRuns: fuzzRuns(numRuns), endOnFailure: false };
}

// ---------------------------------------------------------------------------------------------
// Text mutations

/** Numbers a parser must survive: huge, negative, non-finite, malformed, beyond 32 and 53 bits. */
export const NASTY_NUMBERS = [
  '0', '-0', '1', '-1', '2', '3', '7', '8', '255', '256', '65535', '65536',
  '2147483647', '2147483648', '-2147483648', '-2147483649', '4294967295', '4294967296',
  '9007199254740991', '9007199254740993', '99999999999999999999999', '-99999999999999999999999',
  '1e308', '1e309', '-1e309', '1e-400', '4.9e-324', '1.5', '-0.5', '0.0001', '.5', '5.', '1e', '1e+', '--1', '- 1',
  '0x7fffffff', '0xffffffff', '0x1ffffffffffff', '-0x80000000', '0x', '1f', '1.0f', '0777',
  'nan', 'NaN', '-nan', 'inf', '-inf', 'Infinity', '-Infinity', 'infinity',
] as const;

/** One edit of a text. Positions are taken modulo the text's length, so every value is valid. */
export type TextEdit =
  | { readonly kind: 'replaceChar'; readonly at: number; readonly char: string }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'insert'; readonly at: number; readonly token: string }
  | { readonly kind: 'duplicateLine'; readonly line: number; readonly to: number }
  | { readonly kind: 'swapLines'; readonly a: number; readonly b: number }
  | { readonly kind: 'renumber'; readonly which: number; readonly value: string }
  | { readonly kind: 'reword'; readonly which: number; readonly word: string }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'nest'; readonly at: number; readonly depth: number; readonly open: string; readonly close: boolean };

/**
 * Arbitrary edits of a text in some language: `tokens` are its punctuation and keywords (inserted
 * at random places), `words` the identifiers a `reword` edit puts in place of an existing one.
 */
export function textEdits(tokens: readonly string[], words: readonly string[], maxEdits = 4): fc.Arbitrary<TextEdit[]> {
  const at = fc.nat();
  const number = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
    { weight: 1, arbitrary: fc.double().map(String) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String) },
    { weight: 1, arbitrary: fc.integer({ min: -10, max: 300 }).map(String) },
  );
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...tokens) },
    { weight: 2, arbitrary: number },
    { weight: 1, arbitrary: fc.constantFrom(...words) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'binary' }) },
  );
  const edit: fc.Arbitrary<TextEdit> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('replaceChar' as const), at, char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, token }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicateLine' as const), line: fc.nat(), to: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('renumber' as const), which: fc.nat(), value: number }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('reword' as const), which: fc.nat(), word: fc.constantFrom(...words) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('nest' as const), at,
        // Around a limit of 100 (the prototxt parser's), past the stack depth of a recursive
        // reader, and rarely (the texts get large) far past it.
        depth: fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) },
          { weight: 3, arbitrary: fc.integer({ min: 90, max: 130 }) },
          { weight: 2, arbitrary: fc.integer({ min: 1000, max: 12_000 }) },
          { weight: 1, arbitrary: fc.integer({ min: 12_000, max: 30_000 }) },
        ),
        // Tokens that leave a block open, so that repeating them nests.
        open: fc.constantFrom(...tokens.filter((t) => /[{[<]\s*$/.test(t)), 'x {', 'layer {', 'a: ['),
        close: fc.boolean(),
      }),
    },
  );
  return fc.array(edit, { minLength: 1, maxLength: maxEdits });
}

const NUMBER_IN_TEXT = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g;
const WORD_IN_TEXT = /[A-Za-z_][A-Za-z0-9_]*/g;

/** The `which`-th (modulo the count) match of global `re` in `text`, or undefined when none. */
function nthMatch(text: string, re: RegExp, which: number): RegExpExecArray | undefined {
  // Counting with match() first allocates strings only, not one match object per number.
  const count = text.match(re)?.length ?? 0;
  if (count === 0) return undefined;
  re.lastIndex = 0;
  for (let k = which % count; ; k--) {
    const m = re.exec(text) as RegExpExecArray;
    if (k === 0) return m;
  }
}

/** Applies edits in order. */
export function applyTextEdits(base: string, edits: readonly TextEdit[]): string {
  let text = base;
  for (const e of edits) {
    const n = text.length;
    switch (e.kind) {
      case 'replaceChar': {
        const i = e.at % Math.max(1, n);
        text = text.slice(0, i) + e.char + text.slice(i + 1);
        break;
      }
      case 'delete': {
        const i = e.at % Math.max(1, n);
        text = text.slice(0, i) + text.slice(i + e.length);
        break;
      }
      case 'insert': {
        const i = e.at % (n + 1);
        text = `${text.slice(0, i)} ${e.token} ${text.slice(i)}`;
        break;
      }
      case 'duplicateLine': {
        const lines = text.split('\n');
        const line = lines[e.line % lines.length];
        lines.splice(e.to % (lines.length + 1), 0, line);
        text = lines.join('\n');
        break;
      }
      case 'swapLines': {
        const lines = text.split('\n');
        const a = e.a % lines.length;
        const b = e.b % lines.length;
        [lines[a], lines[b]] = [lines[b], lines[a]];
        text = lines.join('\n');
        break;
      }
      case 'renumber': {
        const m = nthMatch(text, NUMBER_IN_TEXT, e.which);
        if (m) text = text.slice(0, m.index) + e.value + text.slice(m.index + m[0].length);
        break;
      }
      case 'reword': {
        const m = nthMatch(text, WORD_IN_TEXT, e.which);
        if (m) text = text.slice(0, m.index) + e.word + text.slice(m.index + m[0].length);
        break;
      }
      case 'truncate':
        text = text.slice(0, e.at % (n + 1));
        break;
      case 'nest': {
        const i = e.at % (n + 1);
        const close = e.open.includes('{') ? '}' : e.open.includes('[') ? ']' : '>';
        text = text.slice(0, i) + ` ${e.open} `.repeat(e.depth) + (e.close ? ` ${close} `.repeat(e.depth) : '') + text.slice(i);
        break;
      }
    }
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Byte mutations

/** Values for 32-bit fields (counts, lengths, dimensions) that sit at the edges. */
export const NASTY_U32 = [0, 1, 2, 3, 7, 8, 15, 16, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff] as const;

/** One edit of a byte string. Positions are taken modulo the length (or a region's length). */
export type ByteEdit =
  | { readonly kind: 'flipBit'; readonly at: number; readonly bit: number; readonly inHeader: boolean }
  | { readonly kind: 'setByte'; readonly at: number; readonly value: number; readonly inHeader: boolean }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'duplicate'; readonly from: number; readonly length: number; readonly to: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'append'; readonly bytes: Uint8Array }
  | { readonly kind: 'setU32'; readonly at: number; readonly value: number; readonly littleEndian: boolean; readonly inHeader: boolean };

/**
 * Arbitrary byte edits. `headerBytes` is the length of the region where the format keeps its
 * counts and dimensions: half of the point edits land there, where they change what the decoder
 * allocates and loops over rather than only the values it reads.
 */
export function byteEdits(maxEdits = 4, minEdits = 1): fc.Arbitrary<ByteEdit[]> {
  const at = fc.nat();
  const inHeader = fc.boolean();
  const edit: fc.Arbitrary<ByteEdit> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flipBit' as const), at, bit: fc.integer({ min: 0, max: 7 }), inHeader }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('setByte' as const), at, value: fc.oneof(fc.constantFrom(0, 0x7f, 0x80, 0xff), fc.integer({ min: 0, max: 255 })), inHeader }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), from: at, length: fc.integer({ min: 1, max: 128 }), to: at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('setU32' as const), at,
        value: fc.oneof(fc.constantFrom(...NASTY_U32), fc.nat({ max: 0xffffffff })),
        littleEndian: fc.boolean(), inHeader,
      }),
    },
  );
  return fc.array(edit, { minLength: minEdits, maxLength: maxEdits });
}

/** Applies edits in order; `headerBytes` bounds the positions of edits marked `inHeader`. */
export function applyByteEdits(base: Uint8Array, edits: readonly ByteEdit[], headerBytes: number): Uint8Array {
  let bytes = Uint8Array.from(base);
  const pos = (at: number, header: boolean, extra = 0) => at % Math.max(1, (header ? Math.min(headerBytes, bytes.length) : bytes.length) + extra);
  const splice = (start: number, remove: number, insert: Uint8Array = new Uint8Array()) => {
    const out = new Uint8Array(bytes.length - remove + insert.length);
    out.set(bytes.subarray(0, start));
    out.set(insert, start);
    out.set(bytes.subarray(start + remove), start + insert.length);
    bytes = out;
  };
  for (const e of edits) {
    switch (e.kind) {
      case 'flipBit':
        if (bytes.length > 0) bytes[pos(e.at, e.inHeader)] ^= 1 << e.bit;
        break;
      case 'setByte':
        if (bytes.length > 0) bytes[pos(e.at, e.inHeader)] = e.value;
        break;
      case 'delete': {
        const i = pos(e.at, false);
        splice(i, Math.min(e.length, bytes.length - i));
        break;
      }
      case 'insert':
        splice(pos(e.at, false, 1), 0, e.bytes);
        break;
      case 'duplicate': {
        const from = pos(e.from, false);
        splice(pos(e.to, false, 1), 0, bytes.slice(from, from + e.length));
        break;
      }
      case 'truncate':
        bytes = bytes.slice(0, pos(e.at, false, 1));
        break;
      case 'append':
        splice(bytes.length, 0, e.bytes);
        break;
      case 'setU32': {
        if (bytes.length < 4) break;
        const at = Math.min(pos(e.at, e.inHeader), bytes.length - 4);
        new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, e.value >>> 0, e.littleEndian);
        break;
      }
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Protobuf wire format: where the length prefixes are, so a mutation can rewrite them.

/** A varint in a protobuf message: its offset, its encoded size, and whether it is a length prefix. */
export interface WireVarint {
  readonly offset: number;
  readonly size: number;
  readonly isLength: boolean;
}

export function readVarint(bytes: Uint8Array, at: number): { value: number; size: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && at + i < bytes.length; i++) {
    value += (bytes[at + i] & 0x7f) * 2 ** (7 * i);
    if ((bytes[at + i] & 0x80) === 0) return { value, size: i + 1 };
  }
  return undefined;
}

/**
 * The tags' and lengths' varints of a valid protobuf message, recursing into length-delimited
 * fields that parse as messages themselves (packed floats usually do not, and are then skipped).
 */
export function wireVarints(bytes: Uint8Array, start = 0, end = bytes.length): WireVarint[] | undefined {
  const out: WireVarint[] = [];
  let at = start;
  while (at < end) {
    const tag = readVarint(bytes, at);
    if (!tag || tag.value === 0) return undefined;
    out.push({ offset: at, size: tag.size, isLength: false });
    at += tag.size;
    const wire = tag.value % 8;
    if (wire === 0) {
      const v = readVarint(bytes, at);
      if (!v) return undefined;
      out.push({ offset: at, size: v.size, isLength: false });
      at += v.size;
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else if (wire === 2) {
      const len = readVarint(bytes, at);
      if (!len) return undefined;
      out.push({ offset: at, size: len.size, isLength: true });
      at += len.size;
      if (at + len.value > end) return undefined;
      const inner = len.value > 0 ? wireVarints(bytes, at, at + len.value) : [];
      if (inner) out.push(...inner);
      at += len.value;
    } else {
      return undefined;
    }
  }
  return at === end ? out : undefined;
}

/** Encodes a non-negative integer (up to 2^53) as a protobuf varint. */
export function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  do {
    const low = v % 128;
    v = Math.floor(v / 128);
    out.push(v > 0 ? low | 0x80 : low);
  } while (v > 0);
  return Uint8Array.from(out);
}

/** A new value for a varint: relative to the one written there, or absolute. */
export type VarintChange = { readonly delta: number } | { readonly absolute: number };

/** Rewrites the varint at `site` (the message grows or shrinks with its new size). */
export function rewriteVarint(bytes: Uint8Array, site: WireVarint, change: VarintChange): Uint8Array {
  const old = readVarint(bytes, site.offset)?.value ?? 0;
  const enc = encodeVarint('delta' in change ? Math.max(0, old + change.delta) : change.absolute);
  const out = new Uint8Array(bytes.length - site.size + enc.length);
  out.set(bytes.subarray(0, site.offset));
  out.set(enc, site.offset);
  out.set(bytes.subarray(site.offset + site.size), site.offset + enc.length);
  return out;
}

/** Varint values to write: off by one from the original, zero, and huge (32, 53 and 64 bits). */
export const varintChange: fc.Arbitrary<VarintChange> = fc.oneof<fc.Arbitrary<VarintChange>[]>(
  fc.constant({ delta: -1 }), fc.constant({ delta: 1 }), fc.constant({ delta: 7 }),
  fc.constantFrom(0, 1, 0x7f, 0x80, 0x3fff, 0x7fffffff, 0xffffffff, 2 ** 35, Number.MAX_SAFE_INTEGER).map((absolute) => ({ absolute })),
  fc.nat({ max: 4096 }).map((absolute) => ({ absolute })),
);
