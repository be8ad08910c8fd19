/**
 * Each kernel's uniform block is declared twice, once as a WGSL struct (shaders/) and once in
 * src/backends/webgpu/uniforms.ts, which the encoders pack from. This suite parses every .wgsl
 * file and checks the two agree field by field, in order, with no GPU. Padding fields (named
 * `_...`) must appear in both and must not be read by the shader.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { f32Bits } from '../src/backends/webgpu/encode-context.js';
import { KERNELS } from '../src/backends/webgpu/pipelines.js';
import { packUniforms, UNIFORM_LAYOUTS, type UniformLayout } from '../src/backends/webgpu/uniforms.js';
import { packageFile } from '../src/package-root.js';

const SHADERS = packageFile('shaders');

/** Every .wgsl file under `dir`, as kernel name (path under shaders/ without `.wgsl`) and source. */
function shaderFiles(dir: string): { name: string; source: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return shaderFiles(path);
    if (!e.name.endsWith('.wgsl')) return [];
    return [{ name: relative(SHADERS, path).split('\\').join('/').replace(/\.wgsl$/, ''), source: readFileSync(path, 'utf8') }];
  });
}

/** WGSL without comments (block comments nest in WGSL). */
function stripComments(source: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const two = source.slice(i, i + 2);
    if (two === '/*') { depth++; i++; continue; }
    if (depth > 0) {
      if (two === '*/') { depth--; i++; }
      continue;
    }
    if (two === '//') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    out += source[i];
  }
  return out;
}

interface UniformDecl {
  readonly attributes: string;
  readonly variable: string;
  readonly fields: { readonly name: string; readonly type: string }[];
}

/** The `var<uniform>` declarations of a shader, each with its struct's fields in order. */
function uniformDecls(source: string): UniformDecl[] {
  const code = stripComments(source);
  return [...code.matchAll(/((?:@\w+\s*(?:\([^)]*\))?\s*)*)var\s*<\s*uniform\s*>\s*(\w+)\s*:\s*(\w+)\s*;/g)].map((m) => {
    const [, attributes, variable, structName] = m;
    const struct = new RegExp(`struct\\s+${structName}\\s*\\{([^}]*)\\}`).exec(code);
    if (!struct) throw new Error(`no struct ${structName} for var<uniform> ${variable}`);
    const fields = struct[1].split(',').map((f) => f.trim()).filter((f) => f !== '').map((f) => {
      // Attributes (@align, @size) or vector types would break the one-word-per-field packing.
      const field = /^(\w+)\s*:\s*(\w+)$/.exec(f);
      if (!field) throw new Error(`struct ${structName}: field '${f}' is not a plain 'name: scalar'`);
      return { name: field[1], type: field[2] };
    });
    return { attributes: attributes.replace(/\s+/g, ' ').trim(), variable, fields };
  });
}

const show = (fields: readonly { readonly name: string; readonly type: string }[]) => fields.map((f) => `${f.name}: ${f.type}`);

const files = shaderFiles(SHADERS);
const layouts: Readonly<Record<string, UniformLayout>> = UNIFORM_LAYOUTS;

describe('WebGPU uniform blocks', () => {
  it('finds the shaders', () => {
    expect(files.map((f) => f.name).sort()).toEqual(Object.keys(KERNELS).sort());
  });

  for (const { name, source } of files) {
    it(`${name}.wgsl: its uniform struct is the one in uniforms.ts`, () => {
      const decls = uniformDecls(source);
      if (decls.length === 0) {
        expect(layouts[name], 'a layout for a shader without var<uniform>').toBeUndefined();
        return;
      }
      expect(decls, 'one var<uniform> per kernel').toHaveLength(1);
      const [decl] = decls;
      // The encoders bind the block first.
      expect(decl.attributes).toBe('@group(0) @binding(0)');
      const layout = layouts[name];
      expect(layout, `uniforms.ts has no layout for ${name}`).toBeDefined();
      expect(show(layout)).toEqual(show(decl.fields));
      const code = stripComments(source);
      for (const f of decl.fields.filter((x) => x.name.startsWith('_'))) {
        expect(code, `padding field ${f.name} is read by the shader`).not.toMatch(new RegExp(`\\b${decl.variable}\\s*\\.\\s*${f.name}\\b`));
      }
    });
  }

  it('has no layout without a shader', () => {
    const names = new Set(files.map((f) => f.name));
    expect(Object.keys(UNIFORM_LAYOUTS).filter((k) => !names.has(k))).toEqual([]);
  });

  it('has no duplicate field names', () => {
    for (const [name, layout] of Object.entries(layouts)) expect(new Set(layout.map((f) => f.name)).size, name).toBe(layout.length);
  });
});

describe('packUniforms', () => {
  it('packs by name in the struct order, f32 as bits, padding 0', () => {
    expect(packUniforms('activation/relu', { total: 7, slope: -0.5 })).toEqual([7, f32Bits(-0.5), 0, 0]);
    expect(packUniforms('softmax/softmax', { C: 10, hw: 1, total: 3 })).toEqual([10, 1, 3, 0]);
  });

  it('writes booleans as 1 and 0', () => {
    const words = packUniforms('inner-product/dense', { inSize: 4, outC: 3, quads: 1, relu: true, slope: 0, outOffset: 0 });
    expect(words).toEqual([4, 3, 1, 1, 0, 0, 0, 0]);
  });

  it('pads to a multiple of 16 bytes past the struct', () => {
    // dynamic/sfma-kernel-sums: 12 fields, 3 of them padding.
    const values = Object.fromEntries(UNIFORM_LAYOUTS['dynamic/sfma-kernel-sums'].filter((f) => !f.name.startsWith('_')).map((f, i) => [f.name, i + 1]));
    const words = packUniforms('dynamic/sfma-kernel-sums', values as Parameters<typeof packUniforms<'dynamic/sfma-kernel-sums'>>[1]);
    expect(words).toHaveLength(12);
    expect(words.slice(8)).toEqual([9, 0, 0, 0]);
    // dynamic/tile-convolution: 48 fields, none of them padding, 48 words; delta (field 24) is an f32.
    const tileValues = Object.fromEntries(UNIFORM_LAYOUTS['dynamic/tile-convolution'].map((f, i) => [f.name, i + 1]));
    const tileWords = packUniforms('dynamic/tile-convolution', tileValues as Parameters<typeof packUniforms<'dynamic/tile-convolution'>>[1]);
    expect(tileWords).toHaveLength(48);
    expect(tileWords.slice(46)).toEqual([47, 48]);
    expect(tileWords[23]).toBe(f32Bits(24));
  });

  it('rejects a missing field and a value that is no u32', () => {
    expect(() => packUniforms('softmax/softmax', { C: 10, hw: 1 } as never)).toThrow(/softmax\/softmax\.total is missing/);
    expect(() => packUniforms('softmax/softmax', { C: -1, hw: 1, total: 3 })).toThrow(/C = -1 is not a u32/);
    expect(() => packUniforms('softmax/softmax', { C: 1.5, hw: 1, total: 3 })).toThrow(/not a u32/);
    expect(() => packUniforms('softmax/softmax', { C: 2 ** 32, hw: 1, total: 3 })).toThrow(/not a u32/);
  });
});
