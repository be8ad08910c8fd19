#!/usr/bin/env bash
# `npm test`, the README's test command and what CI runs: first what the suites need from the
# system (scripts/install-test-deps.sh: Mesa's software WebGPU adapter and Chromium, installed
# when missing; DYVE_NO_INSTALL=1 skips that), then every suite: types, vitest (the WebGPU
# suites on the software adapter), Deno's WebGPU suite and the Playwright suite. Any failure
# stops it with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${DYVE_NO_INSTALL:-}" != 1 ]; then bash scripts/install-test-deps.sh; fi
# Mesa wants a private runtime directory (it only warns without one).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"

npm run build
npx tsc -p tsconfig.test.json
npx tsc -p demo/tsconfig.json
npx vitest run
bash scripts/arm64-check.sh   # the CPU path on arm64 Node under QEMU, against x64 (DYVE_NO_ARM64=1 skips)
npm run test:deno
npm run test:e2e
