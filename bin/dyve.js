#!/usr/bin/env node
// The `dyve` command: runs the compiled CLI (npm run build, done by `npm ci` through `prepare`).
import { setFlagsFromString } from 'node:v8';

// Node 20 runs WebAssembly relaxed SIMD (the wasm kernels' FMA build: 1.15-1.4x faster on this
// project's machines, same top-1) only behind this flag; Node >= 22 has it on. Set before any
// module is compiled; worker threads share the process's flags.
if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--experimental-wasm-relaxed-simd');
const { main } = await import('../dist/harness/cli.js');

process.exitCode = await main(process.argv.slice(2));
