import { execFileSync } from 'node:child_process';

/** Re-embeds shaders/ and the Caffe schema before the suites run, so an edited .wgsl is what the tests load. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/embed-assets.mjs'], { stdio: 'inherit' });
}
