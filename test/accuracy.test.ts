import { describe, expect, it } from 'vitest';
import { runBench } from '../harness/commands/bench.js';

/**
 * The reference accuracies of ../shared/data/README.md, reached by the same code path as
 * `dyve bench` over the full sets. These are the slowest tests of the suite (minutes): they run
 * the whole CIFAR-10 test set and all 1,000 ImageNet samples on the fast dense CPU path.
 */
describe('real models reach their reference accuracy', () => {
  it('cifar10-quick over all 10,000 CIFAR-10 test images: top-1 in [73.5 %, 74.0 %]', async () => {
    const r = await runBench({ model: 'cifar10-quick', backend: 'cpu', batch: '16', quiet: true });
    expect(r.images).toBe(10_000);
    expect(r.top1).toBeGreaterThanOrEqual(0.735);
    expect(r.top1).toBeLessThanOrEqual(0.74);
    expect(r.macs.executed).toBe(10_000 * 12_354_176);
  });

  it('squeezenet-dc over the 1,000 ImageNet samples: top-1 in [64.5 %, 67.0 %], top-5 >= 85 %', async () => {
    const r = await runBench({ model: 'squeezenet-dc', backend: 'cpu', batch: '4', quiet: true });
    expect(r.images).toBe(1000);
    expect(r.top1).toBeGreaterThanOrEqual(0.645);
    expect(r.top1).toBeLessThanOrEqual(0.67);
    expect(r.top5).toBeGreaterThanOrEqual(0.85);
  });
});
