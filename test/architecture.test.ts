/**
 * The layers of src/, lowest first, and the one rule between them: a file imports only from its
 * own unit or from a lower layer — never upward, never sideways into another unit of its layer —
 * and no files import each other in a circle (type-only imports count: they tie the code as
 * much). Data flows load -> IR -> plan -> execute -> report; ARCHITECTURE.md draws the picture.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Units (folders or single files under src/), grouped in layers from the bottom up. */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts'], // the error classes every layer throws
  ['package-root.ts', 'read-file.ts', 'generated'], // files of the package; embedded shaders and kernels
  ['ir', 'records'], // the network IR and its layer registry; what a run counts and decides
  ['formats', 'data', 'effort'], // Caffe / ONNX files <-> IR; images and data sets; knobs and profiles
  ['plan'], // the execution plan every executor reads
  ['mechanisms'], // SPET, SDSS, SFMA: what every backend shares
  ['backends/backend.ts'], // the backend interface
  ['backends/cpu', 'backends/webgpu'], // the CPU backend (TypeScript and WebAssembly kernels), the WebGPU backend
  ['threads', 'evaluation'], // the CPU backend on several threads; accuracy over a data set
  ['calibration', 'zoo', 'select-backend.ts'], // effort search; the model zoo; opening a backend by name
  ['browser.ts'], // the portable public API
  ['index.ts'], // the Node public API
];

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [relative(SRC, path)] : [];
  });
}

/** The unit a file belongs to (the longest matching entry) and its layer. */
function unitOf(file: string): { readonly unit: string; readonly layer: number } | null {
  let best: { unit: string; layer: number } | null = null;
  LAYERS.forEach((units, layer) => {
    for (const unit of units) {
      const matches = file === unit || file.startsWith(`${unit}/`);
      if (matches && (!best || unit.length > best.unit.length)) best = { unit, layer };
    }
  });
  return best;
}

/** The src/ files a file imports (relative specifiers of import / export ... from / import()). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s+'(\.[^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g),
  ].map((m) => m[1]);
  return specifiers.map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, '.ts')).filter((t) => !t.startsWith('..'));
}

const files = sourceFiles(SRC);
const edges = new Map(files.map((f) => [f, importsOf(f)]));

/** Strongly connected components of more than one file (or a file importing itself). */
function circles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

describe('the layers of src/', () => {
  it('places every source file in a unit of the layer list', () => {
    expect(files.filter((f) => !unitOf(f)), 'add these files\' folder to LAYERS').toEqual([]);
  });

  it('imports only downward, or within a unit', () => {
    const wrong: string[] = [];
    for (const [file, targets] of edges) {
      const from = unitOf(file)!;
      for (const target of targets) {
        const to = unitOf(target);
        if (!to) {
          wrong.push(`${file} imports ${target}, which is not a source file`);
          continue;
        }
        if (to.unit === from.unit || to.layer < from.layer) continue;
        const how = to.layer > from.layer ? 'up' : 'sideways';
        wrong.push(`${file} (${from.unit}) imports ${how} into ${target} (${to.unit})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no circle of files importing each other', () => {
    expect(circles()).toEqual([]);
  });

  it('reads the imports it checks (a sanity check of the walker itself)', () => {
    expect(edges.get('backends/cpu/cpu-backend.ts')).toContain('plan/execution-plan.ts');
    expect(edges.get('index.ts')).toContain('browser.ts');
  });
});
