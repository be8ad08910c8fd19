#!/usr/bin/env bash
# What the test suites need from the system, installed when missing (Debian 12; as root, or with
# sudo): a software WebGPU adapter for Node's Dawn and Deno (the WebGPU suites), Debian's
# Chromium (the Playwright suite; Playwright cannot download browsers here) and the ONNX project's
# backend test data (the ONNX conformance suite). Idempotent: a machine that has them installs
# nothing. `npm test` runs it first; DYVE_NO_INSTALL=1 skips it.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=missing; fi
fi
need_root() {
  if [ "$SUDO" = missing ]; then
    echo "install-test-deps: $1 is missing and installing it needs root (or sudo): run 'sudo bash scripts/install-test-deps.sh' once" >&2
    exit 1
  fi
}

# A software WebGPU adapter for Node's Dawn (npm 'webgpu') and Deno: Mesa >= 25 lavapipe, from
# Debian's bookworm-backports suite (stock bookworm Mesa 22.3 is refused by Dawn). The suite's
# source entry is derived from the machine's own Debian source, so no mirror is named here.
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || ! dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '^2[5-9]'; then
  need_root "Mesa's lavapipe (mesa-vulkan-drivers >= 25)"
  echo "install-test-deps: installing Mesa's lavapipe (a software WebGPU adapter) from bookworm-backports" >&2
  if [ -f /etc/apt/sources.list.d/debian.sources ] && [ ! -f /etc/apt/sources.list.d/dyve-backports.sources ]; then
    sed 's/^Suites:.*/Suites: bookworm-backports/' /etc/apt/sources.list.d/debian.sources \
      | awk 'BEGIN { RS = ""; ORS = "\n\n" } NR == 1' | $SUDO tee /etc/apt/sources.list.d/dyve-backports.sources >/dev/null
  elif [ -f /etc/apt/sources.list ] && [ ! -f /etc/apt/sources.list.d/dyve-backports.list ]; then
    # One-line format: the first bookworm entry, with the suite renamed.
    grep -m1 -E '^deb .* bookworm( |$)' /etc/apt/sources.list | sed -E 's/ bookworm( |$)/ bookworm-backports\1/' \
      | $SUDO tee /etc/apt/sources.list.d/dyve-backports.list >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi
echo "mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
# Debian's Chromium for the Playwright suite (browsers cannot be downloaded by Playwright here).
if ! command -v chromium >/dev/null 2>&1; then
  need_root "Chromium"
  echo "install-test-deps: installing Debian's chromium (the Playwright suite's browser)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
echo "$(chromium --version 2>/dev/null)"
# The ONNX project's backend tests, models with inputs and expected outputs (test/onnx-conformance.test.ts).
if ! dpkg-query -W -f='${Status}' libonnx-testdata 2>/dev/null | grep -q 'install ok installed'; then
  need_root "Debian's libonnx-testdata (the ONNX backend test data)"
  echo "install-test-deps: installing Debian's libonnx-testdata (the ONNX conformance suite's data)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libonnx-testdata >/dev/null
fi
echo "libonnx-testdata $(dpkg-query -W -f='${Version}' libonnx-testdata)"
