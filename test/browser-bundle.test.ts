import { describe, expect, it } from 'vitest';
import { build, type Rollup } from 'vite';
import { packageFile } from '../src/package-root.js';

import { builtinModules } from 'node:module';

/** A Node built-in module id (`fs`, `node:fs/promises`, ...). */
const isBuiltin = (id: string) => id.startsWith('node:') || builtinModules.includes(id.split('/')[0]);

// protobufjs's util/fs.js tries `require("fs")` for its file loader (unused here) and declares
// `"browser": { "fs": false }`, which bundlers honour with an empty module: the one reference a
// browser bundle of ours may hold.
const DECLARED_BROWSER_STUB = /node_modules\/protobufjs\/src\/util\/fs\.js$/;

describe('the browser entry (package export condition "browser")', () => {
  it('bundles for the browser with no Node built-ins, from the built package', async () => {
    const warnings: string[] = [];
    const builtins: string[] = [];
    const out = (await build({
      configFile: false,
      logLevel: 'silent',
      build: {
        write: false,
        minify: false,
        lib: { entry: packageFile('dist/src/browser.js'), formats: ['es'], fileName: 'dyvedeep' },
        rollupOptions: { onwarn: (w) => { warnings.push(w.message); } },
      },
      plugins: [{
        name: 'record-node-builtins',
        enforce: 'pre',
        resolveId(source, importer) {
          if (isBuiltin(source) && !(importer && DECLARED_BROWSER_STUB.test(importer))) builtins.push(`${source} from ${importer}`);
          return null;
        },
      }],
    })) as Rollup.RollupOutput[];
    const chunks = out.flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
    const code = chunks.map((c) => c.code).join('\n');
    expect(chunks.length).toBeGreaterThan(0);
    expect(builtins).toEqual([]);
    expect(warnings.filter((w) => /externalized for browser|node:/.test(w))).toEqual([]);
    expect(code).not.toMatch(/from ["']node:|import\(["']node:/);
    // The shaders and the Caffe schema travel inside the bundle.
    expect(code).toContain('message NetParameter');
    expect(code).toContain('@compute');
    // Every module of the bundle comes from the package or its browser-safe dependencies.
    const modules = chunks.flatMap((c) => Object.keys(c.modules));
    expect(modules.some((m) => /read-file|data-files|load-network|package-root|pngjs/.test(m))).toBe(false);
  });
});
