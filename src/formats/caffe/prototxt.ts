import { ModelFormatError } from '../../errors.js';

/**
 * A reader for the protobuf text format as Caffe writes it (prototxt): nested messages with `{}` or
 * `<>`, `name: value` scalars, repeated fields, `[a, b]` lists, enums as bare identifiers, quoted
 * strings with C escapes (adjacent strings concatenate), `#` comments, `,`/`;` separators.
 *
 * This module only builds a syntax tree with positions; `text-to-message.ts` checks it against the
 * schema, so both syntax and schema errors can point at a line and column.
 */

/** A position in the source text, 1-based. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** A scalar as written: a number, a quoted string, or an identifier (enum value, true, inf...). */
export interface TextScalar extends TextPosition {
  readonly kind: 'number' | 'string' | 'identifier';
  /** The number's value, the decoded string, or the identifier. */
  readonly value: number | string;
  /** For numbers: the literal as written (to tell integers from floats). */
  readonly text: string;
}

/** A `{ ... }` block. */
export interface TextMessage extends TextPosition {
  readonly kind: 'message';
  readonly fields: readonly TextField[];
}

/** One `name: value` or `name { ... }` entry. A `[a, b]` list yields one field per element. */
export interface TextField extends TextPosition {
  readonly name: string;
  readonly value: TextScalar | TextMessage;
}

type TokenKind = 'identifier' | 'number' | 'string' | 'punct' | 'eof';

interface Token extends TextPosition {
  readonly kind: TokenKind;
  readonly text: string;
  /** Decoded value for strings. */
  readonly str?: string;
}

/** Parses prototxt source into a syntax tree; throws ModelFormatError with line and column. */
export function parsePrototxt(source: string, fileName = '<prototxt>'): TextMessage {
  return new Parser(source, fileName).parseDocument();
}

/**
 * The deepest `{ }` / `< >` nesting read. Real nets nest four or five levels (layer, param, filler);
 * the parser recurses once per level, so without a bound a hostile file of 100,000 `{` would
 * overflow the call stack with a RangeError instead of a positioned error. 100 is the default
 * recursion limit of protobuf's own text parser (TextFormat::Parser), which Caffe uses.
 */
export const MAX_NESTING_DEPTH = 100;

// Sticky (`y`) expressions, matched in place at the lexer's position: no slice of the source per token.
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_.]*/y;
const NUMBER = /-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fF]?/y;
const NUMBER_START = /[0-9.]/;
const UTF8 = new TextEncoder();
const UTF8_DECODER = new TextDecoder();
/** C escapes of one character after the backslash, by the byte they stand for. */
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };

class Parser {
  private pos = 0;
  private line = 1;
  private column = 1;
  private peeked: Token | undefined;
  /** Open `{`/`<` blocks around the current token (see MAX_NESTING_DEPTH). */
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly fileName: string,
  ) {}

  parseDocument(): TextMessage {
    const fields = this.parseFields('eof');
    return { kind: 'message', fields, line: 1, column: 1 };
  }

  private parseFields(end: 'eof' | '}' | '>'): TextField[] {
    const fields: TextField[] = [];
    for (;;) {
      const tok = this.peek();
      if (end === 'eof' && tok.kind === 'eof') return fields;
      if (tok.kind === 'punct' && tok.text === end) {
        this.next();
        return fields;
      }
      if (tok.kind === 'eof') throw this.error(tok, `unexpected end of file: missing '${end}'`);
      if (tok.kind !== 'identifier') {
        throw this.error(tok, `expected a field name, found ${describe(tok)}`);
      }
      this.next();
      this.parseFieldValue(tok, fields);
      const sep = this.peek();
      if (sep.kind === 'punct' && (sep.text === ',' || sep.text === ';')) this.next();
    }
  }

  private parseFieldValue(nameTok: Token, out: TextField[]): void {
    let tok = this.peek();
    let colon = false;
    if (tok.kind === 'punct' && tok.text === ':') {
      colon = true;
      this.next();
      tok = this.peek();
    }
    if (tok.kind === 'punct' && (tok.text === '{' || tok.text === '<')) {
      this.next();
      const fields = this.parseBlock(tok);
      out.push({ name: nameTok.text, line: nameTok.line, column: nameTok.column,
        value: { kind: 'message', fields, line: tok.line, column: tok.column } });
      return;
    }
    if (!colon) throw this.error(tok, `expected ':' or '{' after field name '${nameTok.text}', found ${describe(tok)}`);
    if (tok.kind === 'punct' && tok.text === '[') {
      this.next();
      if (this.peekIs(']')) {
        this.next();
        return;
      }
      for (;;) {
        const el = this.peek();
        if (el.kind === 'punct' && (el.text === '{' || el.text === '<')) {
          this.next();
          const fields = this.parseBlock(el);
          out.push({ name: nameTok.text, line: nameTok.line, column: nameTok.column,
            value: { kind: 'message', fields, line: el.line, column: el.column } });
        } else {
          out.push({ name: nameTok.text, line: nameTok.line, column: nameTok.column, value: this.parseScalar() });
        }
        const sep = this.next();
        if (sep.kind === 'punct' && sep.text === ']') return;
        if (!(sep.kind === 'punct' && sep.text === ',')) {
          throw this.error(sep, `expected ',' or ']' in the list of '${nameTok.text}', found ${describe(sep)}`);
        }
      }
    }
    out.push({ name: nameTok.text, line: nameTok.line, column: nameTok.column, value: this.parseScalar() });
  }

  /** The fields of a block whose opening `{` or `<` (`open`) was just read, up to its closing bracket. */
  private parseBlock(open: Token): TextField[] {
    if (this.depth >= MAX_NESTING_DEPTH) {
      throw this.error(open, `blocks nested more than ${MAX_NESTING_DEPTH} deep (at this '${open.text}'); a Caffe net nests a few levels: is a '${open.text === '{' ? '}' : '>'}' missing?`);
    }
    this.depth++;
    const fields = this.parseFields(open.text === '{' ? '}' : '>');
    this.depth--;
    return fields;
  }

  private parseScalar(): TextScalar {
    const tok = this.next();
    const at = { line: tok.line, column: tok.column };
    if (tok.kind === 'string') {
      let value = tok.str ?? '';
      while (this.peek().kind === 'string') value += this.next().str ?? '';
      return { kind: 'string', value, text: tok.text, ...at };
    }
    if (tok.kind === 'number') {
      return { kind: 'number', value: numberValue(tok.text), text: tok.text, ...at };
    }
    if (tok.kind === 'identifier') {
      return { kind: 'identifier', value: tok.text, text: tok.text, ...at };
    }
    if (tok.kind === 'punct' && tok.text === '-') {
      // `- inf` / `-inf`: a sign before an identifier.
      const id = this.next();
      if (id.kind === 'identifier' && /^(inf|infinity)$/i.test(id.text)) {
        return { kind: 'number', value: -Infinity, text: `-${id.text}`, ...at };
      }
      if (id.kind === 'identifier' && /^nan$/i.test(id.text)) {
        return { kind: 'number', value: NaN, text: `-${id.text}`, ...at };
      }
      throw this.error(id, `expected a number after '-', found ${describe(id)}`);
    }
    throw this.error(tok, `expected a value, found ${describe(tok)}`);
  }

  private peekIs(punct: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === punct;
  }

  private peek(): Token {
    this.peeked ??= this.lex();
    return this.peeked;
  }

  private next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  /** Moves over `n` characters that hold no newline (a token, a comment's text). */
  private skipInLine(n: number): void {
    this.pos += n;
    this.column += n;
  }

  private skipSpaceAndComments(): void {
    const src = this.src;
    while (this.pos < src.length) {
      const ch = src[this.pos];
      if (ch === '\n') {
        this.pos++;
        this.line++;
        this.column = 1;
      } else if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') {
        this.skipInLine(1);
      } else if (ch === '#') {
        const eol = src.indexOf('\n', this.pos);
        this.skipInLine((eol < 0 ? src.length : eol) - this.pos);
      } else {
        return;
      }
    }
  }

  private lex(): Token {
    this.skipSpaceAndComments();
    const line = this.line;
    const column = this.column;
    if (this.pos >= this.src.length) return { kind: 'eof', text: '', line, column };
    const ch = this.src[this.pos];
    IDENTIFIER.lastIndex = this.pos;
    const id = IDENTIFIER.exec(this.src);
    if (id) {
      this.skipInLine(id[0].length);
      return { kind: 'identifier', text: id[0], line, column };
    }
    if (NUMBER_START.test(ch) || (ch === '-' && NUMBER_START.test(this.src[this.pos + 1] ?? ''))) {
      NUMBER.lastIndex = this.pos;
      const m = NUMBER.exec(this.src);
      if (!m) throw new ModelFormatError(`${this.fileName}:${line}:${column}: malformed number`);
      const after = this.src[this.pos + m[0].length];
      if (after !== undefined && /[A-Za-z_0-9]/.test(after)) {
        throw new ModelFormatError(`${this.fileName}:${line}:${column}: malformed number '${m[0]}${after}'`);
      }
      this.skipInLine(m[0].length);
      return { kind: 'number', text: m[0], line, column };
    }
    if (ch === '"' || ch === "'") return this.lexString(ch, line, column);
    if ('{}<>[]:,;-'.includes(ch)) {
      this.skipInLine(1);
      return { kind: 'punct', text: ch, line, column };
    }
    throw new ModelFormatError(`${this.fileName}:${line}:${column}: unexpected character '${ch}'`);
  }

  private lexString(quote: string, line: number, column: number): Token {
    const start = this.pos;
    this.skipInLine(1);
    const bytes: number[] = [];
    let escaped = false;
    for (;;) {
      // Plain characters are taken a run at once (one TextEncoder call per character made a 10 KB
      // prototxt spend most of its parse time here). No newline in a run: only the column moves.
      let end = this.pos;
      while (end < this.src.length && this.src[end] !== quote && this.src[end] !== '\\' && this.src[end] !== '\n') end++;
      const run = this.src.slice(this.pos, end);
      this.skipInLine(end - this.pos);
      if (this.pos >= this.src.length || this.src[this.pos] === '\n') {
        throw new ModelFormatError(`${this.fileName}:${line}:${column}: unterminated string`);
      }
      if (this.src[this.pos] === quote && !escaped) {
        // The common case, no escapes: the string is its source text.
        this.skipInLine(1);
        return { kind: 'string', text: this.src.slice(start, this.pos), str: run, line, column };
      }
      for (const b of UTF8.encode(run)) bytes.push(b);
      if (this.src[this.pos] === quote) {
        this.skipInLine(1);
        break;
      }
      // Escapes may make bytes that are not UTF-8: the string is decoded from bytes at the end.
      escaped = true;
      const esc = this.src[this.pos + 1];
      if (esc !== undefined && Object.hasOwn(SIMPLE_ESCAPES, esc)) {
        bytes.push(SIMPLE_ESCAPES[esc]);
        this.skipInLine(2);
      } else if (esc === 'x' || esc === 'X') {
        const m = /^[0-9a-fA-F]{1,2}/.exec(this.src.slice(this.pos + 2, this.pos + 4));
        if (!m) throw new ModelFormatError(`${this.fileName}:${this.line}:${this.column}: bad \\x escape`);
        bytes.push(parseInt(m[0], 16));
        this.skipInLine(2 + m[0].length);
      } else if (esc !== undefined && /[0-7]/.test(esc)) {
        const m = /^[0-7]{1,3}/.exec(this.src.slice(this.pos + 1, this.pos + 4)) as RegExpExecArray;
        bytes.push(parseInt(m[0], 8) & 0xff);
        this.skipInLine(1 + m[0].length);
      } else {
        throw new ModelFormatError(`${this.fileName}:${this.line}:${this.column}: unknown escape '\\${esc ?? ''}' in string`);
      }
    }
    return { kind: 'string', text: this.src.slice(start, this.pos), str: UTF8_DECODER.decode(new Uint8Array(bytes)), line, column };
  }

  private error(tok: Token, message: string): ModelFormatError {
    return new ModelFormatError(`${this.fileName}:${tok.line}:${tok.column}: ${message}`);
  }
}

function describe(tok: Token): string {
  if (tok.kind === 'eof') return 'end of file';
  if (tok.kind === 'string') return `string ${tok.text}`;
  return `'${tok.text}'`;
}

function numberValue(text: string): number {
  const t = text.replace(/[fF]$/, '');
  if (/^-?0[xX]/.test(t)) return t.startsWith('-') ? -parseInt(t.slice(3), 16) : parseInt(t.slice(2), 16);
  return Number(t);
}
