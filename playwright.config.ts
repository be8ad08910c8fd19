/**
 * End-to-end tests of the demo page in Debian's Chromium (see harness/browser/chromium.ts): vite
 * serves demo/ and the data directory; the tests drive the page and compare with the Node CPU path.
 */
import { defineConfig } from '@playwright/test';
import { chromiumOptions } from './harness/browser/chromium.js';

const PORT = Number(process.env['DYVE_E2E_PORT'] ?? 5174);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // SwiftShader runs SqueezeNet in seconds per image; the sweep runs several profiles.
  timeout: 10 * 60_000,
  expect: { timeout: 60_000 },
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env['CI'],
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    browserName: 'chromium',
    launchOptions: chromiumOptions(true),
    viewport: { width: 1280, height: 900 },
  },
  webServer: {
    command: `npx vite --config demo/vite.config.ts --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env['CI'],
    env: { DYVE_DEMO_FROZEN: '1' },
    timeout: 120_000,
  },
});
