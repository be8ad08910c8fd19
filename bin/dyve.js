#!/usr/bin/env node
// The `dyve` command: runs the compiled CLI (npm run build, done by `npm ci` through `prepare`).
import { main } from '../dist/harness/cli.js';

process.exitCode = await main(process.argv.slice(2));
