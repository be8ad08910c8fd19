import { DataError } from '../errors.js';

/** ImageNet synsets in class-index order (Caffe's `synset_words.txt`: line i = class i). */
export interface Synsets {
  /** WordNet ids (`n01440764`), by class index. */
  readonly ids: string[];
  /** The words after each id (`tench, Tinca tinca`), by class index. */
  readonly names: string[];
  /** Class index of a WordNet id. */
  readonly indexOf: ReadonlyMap<string, number>;
}

const SYNSET_LINE = /^(n\d{8})\s+(.*)$/;
const SYNSET_PREFIX = /^(n\d{8})(?![0-9])/;

/**
 * Parses `synset_words.txt` text: one `nXXXXXXXX words` line per class, blank lines ignored.
 *
 * @throws DataError naming the file and line of a malformed or repeated entry.
 */
export function parseSynsets(text: string, file: string): Synsets {
  const ids: string[] = [];
  const names: string[] = [];
  const indexOf = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const m = SYNSET_LINE.exec(line);
    if (!m) throw new DataError(`${file}:${i + 1}: expected 'nXXXXXXXX words', got '${line}'`);
    if (indexOf.has(m[1])) throw new DataError(`${file}:${i + 1}: synset ${m[1]} is listed twice`);
    indexOf.set(m[1], ids.length);
    ids.push(m[1]);
    names.push(m[2]);
  }
  if (ids.length === 0) throw new DataError(`${file} lists no synsets`);
  return { ids, names, indexOf };
}

/** The WordNet id an ImageNet file name starts with (`n01440764_tench.JPEG` -> `n01440764`). */
export function synsetIdOf(fileName: string): string | undefined {
  return SYNSET_PREFIX.exec(fileName)?.[1];
}
