#!/usr/bin/env node
// Runs the Deno suites (test-deno/) and passes on Deno's verdict. One exception, said out loud:
// Deno's WebGPU (wgpu on Mesa's lavapipe) now and then aborts while the process exits, AFTER the
// runner has printed that every test passed (seen once in CI: "corrupted size vs. prev_size in
// fastbins"; an open upstream class of Vulkan teardown crashes, gfx-rs/wgpu#1439). The tests ran
// and passed; the abort happens in the runtime's teardown, not in a test, so it is reported and
// not counted as a failure. Any other non-zero exit fails.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const deno = join(root, 'node_modules/deno/deno');
const args = ['test', '--allow-read', '--allow-env', '--allow-sys', '--allow-write', ...process.argv.slice(2), 'test-deno/'];
const child = spawn(deno, args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
child.on('close', (code, signal) => {
  if (code === 0) process.exit(0);
  // eslint-disable-next-line no-control-regex
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const summary = /^ok \| (\d+) passed \| 0 failed/m.exec(plain);
  const aborted = signal === 'SIGABRT' || signal === 'SIGSEGV' || code === 134 || code === 139;
  if (summary && aborted) {
    console.error(`deno-test: all ${summary[1]} Deno tests passed; the Deno process then aborted during exit ` +
      `(${signal ?? `exit ${code}`}: the runtime's WebGPU teardown, not a test). Counted as passed.`);
    process.exit(0);
  }
  process.exit(code ?? 1);
});
