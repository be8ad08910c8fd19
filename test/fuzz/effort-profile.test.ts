/**
 * Fuzz: mutated effort profiles end in a validated profile or a DyveError, never another
 * exception. Two kinds of mutation of the shipped models/* effort files: textual (the JSON text
 * edited, through parseProfile) and structural (the parsed value edited: fields deleted, renamed,
 * replaced by other JSON values or non-finite numbers, through validateProfile, which a caller
 * may give any value).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProfile, validateProfile } from '../../src/effort/profile.js';
import { parseNetwork } from '../../src/formats/parse-network.js';
import type { Network } from '../../src/ir/network.js';
import { packageFile } from '../../src/package-root.js';
import { DATA } from '../helpers/files.js';
import { applyTextEdits, fuzzParameters, fuzzRuns, OutcomeTally, report, runCase, textEdits } from './fuzz-kit.js';

const NETWORKS = {
  'cifar10-quick': join(DATA, 'caffe/cifar10_quick.prototxt'),
  'squeezenet-dc': join(DATA, 'squeezenet/SqueezeNet_deploy.prototxt'),
} as const;

interface Seed {
  readonly path: string;
  readonly text: string;
  readonly json: unknown;
  readonly net: Network;
}

function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const [model, prototxt] of Object.entries(NETWORKS)) {
    const net = parseNetwork(readFileSync(prototxt, 'utf8'), prototxt, { kind: 'none' });
    for (const file of ['effort.json', 'effort-neuron.json', 'effort-exact.json']) {
      let text: string;
      try {
        text = readFileSync(packageFile(`models/${model}/${file}`), 'utf8');
      } catch {
        continue;
      }
      const path = `models/${model}/${file}`;
      // The shipped profiles are valid: the mutations start from valid input.
      parseProfile(text, net, path);
      out.push({ path, text, json: JSON.parse(text), net });
    }
  }
  return out;
}

const SEEDS = seeds();
const LAYER_NAMES = [...new Set(SEEDS.flatMap((s) => s.net.layers.map((l) => l.name)))];
const KEYS = [
  'format', 'model', 'description', 'calibration', 'layers', '$schema', 'spet', 'sdss', 'sfma', 'tile', 'mode', 'fraction',
  'threshold', 'thresholds', 'inputScale', 'stride', 'delta', 'epsilon', 'positions', '__proto__', 'constructor', 'toString',
  'hasOwnProperty', '', 'x',
];

/** Values a field may be replaced with: every JSON kind, the edges of each knob's range, numbers JSON.parse can make (1e400 is Infinity). */
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(0, -0, 1, -1, 0.5, 1.0000001, 2, 7, 8, 9, 16, 255, 256, 257, 2 ** 31, 2 ** 53 + 2, 1e308,
    -1e308, 5e-324, Infinity, -Infinity, NaN, null, true, false, '', 'threshold', 'exact', 'dyvedeep-effort/1', 'dyvedeep-effort/2', '__proto__',
    [], {}, [1], [NaN], { positions: 8 }, { stride: 2, delta: 0 }, { epsilon: 0 }, { mode: 'exact', fraction: 0.5 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.double(), fc.integer()), { maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom(...LAYER_NAMES) },
);

/** One edit of the parsed profile; `path` picks a node (each step an index into its keys, modulo their count). */
type JsonEdit =
  | { readonly kind: 'set'; readonly path: number[]; readonly value: unknown }
  | { readonly kind: 'delete'; readonly path: number[] }
  | { readonly kind: 'add'; readonly path: number[]; readonly key: string; readonly value: unknown }
  | { readonly kind: 'rename'; readonly path: number[]; readonly key: string }
  | { readonly kind: 'nest'; readonly path: number[]; readonly depth: number; readonly array: boolean };

const path = fc.array(fc.nat(), { maxLength: 6 });
const key = fc.oneof(fc.constantFrom(...KEYS), fc.constantFrom(...LAYER_NAMES), fc.string({ maxLength: 8 }));
const jsonEdits: fc.Arbitrary<JsonEdit[]> = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), path, value }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('add' as const), path, key, value }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('rename' as const), path, key }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('nest' as const), path, depth: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 10_000, max: 30_000 })), array: fc.boolean() }) },
  ),
  { minLength: 1, maxLength: 4 },
);

type Container = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/** Follows `path` from the root: the node reached and its parent and key (none for the root). */
function locate(root: unknown, steps: readonly number[]): { node: unknown; parent?: Container; key?: string } {
  let node = root;
  let parent: Container | undefined;
  let key: string | undefined;
  for (const step of steps) {
    if (!isContainer(node)) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[step % keys.length];
    node = (node as Record<string, unknown>)[key];
  }
  return { node, parent, key };
}

/** Applies edits to a deep copy of `json`; returns the edited value (the root itself may be replaced). */
function applyJsonEdits(json: unknown, edits: readonly JsonEdit[]): unknown {
  let root = structuredClone(json);
  for (const e of edits) {
    const { node, parent, key: at } = locate(root, e.path);
    const replace = (v: unknown) => {
      if (parent === undefined || at === undefined) root = v;
      // defineProperty, not assignment: a '__proto__' key must become an own field, as JSON.parse makes it.
      else Object.defineProperty(parent, at, { value: v, enumerable: true, configurable: true, writable: true });
    };
    switch (e.kind) {
      case 'set':
        replace(e.value);
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(Number(at), 1);
        else if (parent && at !== undefined) delete parent[at];
        break;
      case 'add': {
        const target = isContainer(node) && !Array.isArray(node) ? node : parent && !Array.isArray(parent) ? parent : undefined;
        if (target) Object.defineProperty(target, e.key, { value: e.value, enumerable: true, configurable: true, writable: true });
        break;
      }
      case 'rename':
        if (parent && !Array.isArray(parent) && at !== undefined) {
          const v = parent[at];
          delete parent[at];
          Object.defineProperty(parent, e.key, { value: v, enumerable: true, configurable: true, writable: true });
        }
        break;
      case 'nest': {
        let v: unknown = node;
        for (let i = 0; i < e.depth; i++) v = e.array ? [v] : { x: v };
        replace(v);
        break;
      }
    }
  }
  return root;
}

const JSON_TOKENS = [
  '{', '}', '[', ']', ':', ',', '"', '\\', 'null', 'true', 'false', '"spet"', '"sdss"', '"sfma"', '"tile"', '"layers"', '"__proto__"',
  '"tile": {"positions": 8}', '"sdss": {"stride": 2, "delta": 0}', '"sfma": {"epsilon": 0}', '"spet": {"mode": "exact", "fraction": 0.5}',
  '"conv1": {}', '1e400', '-1e400', 'NaN', 'Infinity', '"\\u0000"', '"\\ud800"', '"\\x41"', '[[[[', ']]]]', '{"a": {"b": {',
];
const JSON_WORDS = ['threshold', 'exact', 'fraction', 'mode', 'positions', 'stride', 'delta', 'epsilon', 'null', 'true', 'NaN', 'conv1', 'conv2', 'ip1', '__proto__'];

describe('fuzz: effort profile JSON', () => {
  it('10,000 textually mutated profiles end in a profile or a DyveError', () => {
    const tally = new OutcomeTally();
    fc.assert(
      fc.property(fc.nat({ max: SEEDS.length - 1 }), textEdits(JSON_TOKENS, JSON_WORDS), (i, edits) => {
        const text = applyTextEdits(SEEDS[i].text, edits);
        runCase(tally, () => parseProfile(text, SEEDS[i].net, SEEDS[i].path));
      }),
      fuzzParameters(10_000, 6),
    );
    report('effort profile (text)', tally);
    expect(tally.total).toBe(fuzzRuns(10_000));
    expect(tally.result).toBeGreaterThan(tally.total * 0.02);
    expect(tally.rejected).toBeGreaterThan(tally.total * 0.2);
  });

  it('10,000 structurally mutated profiles end in a profile or a DyveError', () => {
    const tally = new OutcomeTally();
    fc.assert(
      fc.property(fc.nat({ max: SEEDS.length - 1 }), jsonEdits, (i, edits) => {
        const json = applyJsonEdits(SEEDS[i].json, edits);
        runCase(tally, () => validateProfile(json, SEEDS[i].net, SEEDS[i].path));
      }),
      fuzzParameters(10_000, 7),
    );
    report('effort profile (structure)', tally);
    expect(tally.total).toBe(fuzzRuns(10_000));
    expect(tally.result).toBeGreaterThan(tally.total * 0.02);
    expect(tally.rejected).toBeGreaterThan(tally.total * 0.2);
  });
});
