#!/usr/bin/env node
/**
 * Rewrites test/conformance/onnx-tests.md, the committed list of the ONNX conformance suite
 * (which ONNX backend tests run, their outcome per backend, which are skipped and why): runs
 * test/onnx-conformance.test.ts in its writing mode (DYVE_WRITE_ONNX_TESTS=1), which writes the
 * list before comparing it, then fails as usual on any test that does not pass.
 *
 *   node scripts/onnx-conformance.mjs
 *
 * Needs Debian's libonnx-testdata and a WebGPU adapter (scripts/install-test-deps.sh installs both).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  ...process.env,
  DYVE_WRITE_ONNX_TESTS: '1',
  // Mesa wants a private runtime directory (as in scripts/test.sh).
  XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? mkdtempSync(join(tmpdir(), 'dyve-xdg-')),
};
const vitest = join(ROOT, 'node_modules', '.bin', 'vitest');
const run = spawnSync(vitest, ['run', 'test/onnx-conformance.test.ts', '--maxWorkers=1'], { cwd: ROOT, env, stdio: 'inherit' });
if (run.error) throw run.error;
process.exit(run.status ?? 1);
