import { execFileSync } from 'node:child_process';

/**
 * Re-embeds shaders/, the Caffe schema and the WebAssembly kernels before the suites run, so an
 * edited .wgsl is what the tests load; the embed script recompiles wasm/assembly/ (asc) first
 * when a .wasm build is missing or older than its sources, so an edited kernel is tested too.
 */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/embed-assets.mjs'], { stdio: 'inherit' });
}
