import { chromium } from '@playwright/test';
const webgpu = process.argv[2] !== 'nogpu';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, chromiumSandbox: false,
  args: ['--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync','--disable-quic', ...(webgpu?['--enable-unsafe-webgpu','--enable-features=Vulkan']:['--disable-gpu'])] });
const page = await browser.newPage();
page.on('console', (m) => console.log('console:', m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.goto('http://127.0.0.1:5199/');
await page.waitForFunction(() => window.dyveDemo && window.dyveDemo.backend !== 'opening', null, { timeout: 60000 });
console.log(await page.evaluate(() => JSON.stringify(window.dyveDemo)));
let t = Date.now();
await page.click('#run');
await page.waitForFunction(() => window.dyveDemo.runs > 0 || window.dyveDemo.error, null, { timeout: 300000 });
console.log('run ms', Date.now() - t, await page.evaluate(() => JSON.stringify({ e: window.dyveDemo.error, d: window.dyveDemo.last?.dense.top5, y: window.dyveDemo.last?.dynamic.top5, ms: [window.dyveDemo.last?.dense.ms, window.dyveDemo.last?.dynamic.ms], m: window.dyveDemo.last?.dynamic.macs })));
await page.screenshot({ path: '/tmp/shot.png', fullPage: true });
await browser.close();
