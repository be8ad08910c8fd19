/**
 * Debian's Chromium for Playwright: browsers cannot be downloaded here, so the system binary is
 * launched through executablePath ($CHROMIUM, else /usr/bin/chromium). WebGPU needs
 * --enable-unsafe-webgpu on Linux (SwiftShader's Vulkan when there is no GPU); the other flags
 * keep a headless run from reaching for the network.
 */
import { chromium, type Browser, type LaunchOptions } from '@playwright/test';

export const CHROMIUM_PATH = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

const QUIET_FLAGS = [
  '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-quic', '--disable-default-apps', '--no-default-browser-check',
];

/** Launch options with WebGPU on (`webgpu: true`) or without the flag (no adapter: the CPU fallback). */
export function chromiumOptions(webgpu: boolean): LaunchOptions {
  return {
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Running as root (CI containers) needs --no-sandbox.
    chromiumSandbox: false,
    args: [...QUIET_FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan'] : ['--disable-gpu'])],
  };
}

/** Launches the system Chromium. */
export function launchChromium(webgpu: boolean): Promise<Browser> {
  return chromium.launch(chromiumOptions(webgpu));
}
