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

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.]/;
const NUMBER = /^-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fF]?/;

class Parser {
  private pos = 0;
  private line = 1;
  private column = 1;
  private peeked: Token | undefined;

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
      const fields = this.parseFields(tok.text === '{' ? '}' : '>');
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
          const fields = this.parseFields(el.text === '{' ? '}' : '>');
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

  private advance(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.src[this.pos] === '\n') {
        this.line++;
        this.column = 1;
      } else {
        this.column++;
      }
      this.pos++;
    }
  }

  private skipSpaceAndComments(): void {
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos];
      if (ch === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance(1);
      } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v') {
        this.advance(1);
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
    const rest = this.src.slice(this.pos, this.pos + 64);
    if (IDENT_START.test(ch)) {
      let end = this.pos + 1;
      while (end < this.src.length && IDENT_PART.test(this.src[end])) end++;
      const text = this.src.slice(this.pos, end);
      this.advance(end - this.pos);
      return { kind: 'identifier', text, line, column };
    }
    if (/[0-9.]/.test(ch) || (ch === '-' && /^-[0-9.]/.test(rest))) {
      const m = NUMBER.exec(this.src.slice(this.pos, this.pos + 512));
      if (!m) throw new ModelFormatError(`${this.fileName}:${line}:${column}: malformed number`);
      const after = this.src[this.pos + m[0].length];
      if (after !== undefined && /[A-Za-z_0-9]/.test(after)) {
        throw new ModelFormatError(`${this.fileName}:${line}:${column}: malformed number '${m[0]}${after}'`);
      }
      this.advance(m[0].length);
      return { kind: 'number', text: m[0], line, column };
    }
    if (ch === '"' || ch === "'") return this.lexString(ch, line, column);
    if ('{}<>[]:,;-'.includes(ch)) {
      this.advance(1);
      return { kind: 'punct', text: ch, line, column };
    }
    throw new ModelFormatError(`${this.fileName}:${line}:${column}: unexpected character '${ch}'`);
  }

  private lexString(quote: string, line: number, column: number): Token {
    const start = this.pos;
    this.advance(1);
    const bytes: number[] = [];
    const encoder = new TextEncoder();
    for (;;) {
      if (this.pos >= this.src.length || this.src[this.pos] === '\n') {
        throw new ModelFormatError(`${this.fileName}:${line}:${column}: unterminated string`);
      }
      const ch = this.src[this.pos];
      if (ch === quote) {
        this.advance(1);
        break;
      }
      if (ch === '\\') {
        const esc = this.src[this.pos + 1];
        const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
        if (esc !== undefined && esc in simple) {
          bytes.push(simple[esc]);
          this.advance(2);
        } else if (esc === 'x' || esc === 'X') {
          const m = /^[0-9a-fA-F]{1,2}/.exec(this.src.slice(this.pos + 2, this.pos + 4));
          if (!m) throw new ModelFormatError(`${this.fileName}:${this.line}:${this.column}: bad \\x escape`);
          bytes.push(parseInt(m[0], 16));
          this.advance(2 + m[0].length);
        } else if (esc !== undefined && /[0-7]/.test(esc)) {
          const m = /^[0-7]{1,3}/.exec(this.src.slice(this.pos + 1, this.pos + 4)) as RegExpExecArray;
          bytes.push(parseInt(m[0], 8) & 0xff);
          this.advance(1 + m[0].length);
        } else {
          throw new ModelFormatError(`${this.fileName}:${this.line}:${this.column}: unknown escape '\\${esc ?? ''}' in string`);
        }
        continue;
      }
      const cp = this.src.codePointAt(this.pos) as number;
      const s = String.fromCodePoint(cp);
      for (const b of encoder.encode(s)) bytes.push(b);
      this.advance(s.length);
    }
    const str = new TextDecoder().decode(new Uint8Array(bytes));
    return { kind: 'string', text: this.src.slice(start, this.pos), str, line, column };
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
