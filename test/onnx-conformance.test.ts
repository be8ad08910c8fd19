/**
 * The ONNX project's backend tests (Debian's libonnx-testdata) for issue 18's operators: every
 * test the importer takes must reproduce the suite's expected outputs, at the suite's tolerance,
 * on the reference, fast and WebAssembly CPU kernels and on WebGPU; and the committed list
 * test/conformance/onnx-tests.md must say exactly what ran and what was skipped, and why.
 *
 * Without the data the suite fails, saying how to install it (DYVE_NO_ONNX_TESTDATA=1 leaves it
 * out). `node scripts/onnx-conformance.mjs` rewrites the list (DYVE_WRITE_ONNX_TESTS=1).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import type { KernelVariant } from '../src/backends/cpu/kernel-types.js';
import { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { parseOnnxNetwork } from '../src/formats/onnx/import/import-onnx.js';
import { classifyOnnxTests, runOnnxTest, type Classification, type ConformanceBackend, type OnnxImporter } from './conformance/onnx-backend-tests.js';
import { discoverOnnxTests, onnxTestDataAvailable } from './conformance/onnx-test-data.js';
import { renderOnnxTestsReport, testKey } from './conformance/onnx-tests-report.js';
import { openTestGpu } from './helpers/gpu.js';

const LIST = fileURLToPath(new URL('conformance/onnx-tests.md', import.meta.url));
const WRITE_LIST = process.env.DYVE_WRITE_ONNX_TESTS === '1';
const CPU_KERNELS: readonly KernelVariant[] = ['reference', 'fast', 'wasm'];
const BACKENDS = [...CPU_KERNELS, 'webgpu'];

const importer: OnnxImporter = (bytes, name, dir) => parseOnnxNetwork(bytes, name, {
  readExternal: (location) => readFileSync(join(dir, location)),
  notice: () => {},
});

function cpuBackend(kernels: KernelVariant): ConformanceBackend {
  const backend = new CpuBackend({ kernels });
  return { name: kernels, run: async (net, input, batch) => (await backend.run(net, input, batch)).output };
}

function gpuBackend(gpu: WebGpuBackend): ConformanceBackend {
  return { name: 'webgpu', run: async (net, input, batch) => (await gpu.run(net, input, batch)).output };
}

describe.skipIf(!onnxTestDataAvailable())('the ONNX backend tests of issue 18\'s operators', () => {
  let gpu: WebGpuBackend | undefined;
  let total = 0;
  let found: Classification;
  /** Per test key, per backend: null = passed, else the failure. */
  const results = new Map<string, Map<string, string | null>>();

  beforeAll(async () => {
    const tests = discoverOnnxTests();
    total = tests.length;
    found = classifyOnnxTests(tests, importer);
    gpu = await openTestGpu();
    const backends = [...CPU_KERNELS.map(cpuBackend), gpuBackend(gpu)];
    for (const t of found.runnable) {
      const outcome = new Map<string, string | null>();
      for (const b of backends) outcome.set(b.name, await runOnnxTest(t, b));
      results.set(testKey(t.test), outcome);
    }
  });

  afterAll(() => gpu?.destroy());

  it('the importer refuses what it cannot take with a DyveError, never a crash', () => {
    expect(found.crashed.map((t) => `${testKey(t.test)}: ${t.reason}`)).toEqual([]);
  });

  it.each(BACKENDS)('every run test passes on %s', (backend) => {
    const failures = found.runnable.flatMap((t) => {
      const failure = results.get(testKey(t.test))?.get(backend);
      return failure === null ? [] : [`${testKey(t.test)}: ${failure}`];
    });
    expect(failures).toEqual([]);
  });

  it('the runner sees a wrong answer: an output off by 2e-3 of its value fails', async () => {
    const reference = cpuBackend('reference');
    const skewed: ConformanceBackend = {
      name: 'skewed',
      run: async (net, input, batch) => (await reference.run(net, input, batch)).map((v) => v * (1 + 2e-3) + 1e-6),
    };
    const outcomes = await Promise.all(found.runnable.map((t) => runOnnxTest(t, skewed)));
    expect(found.runnable.filter((_, i) => outcomes[i] === null).map((t) => testKey(t.test))).toEqual([]);
  });

  it('the committed list is what the runner finds now', () => {
    const report = renderOnnxTestsReport(found, results, BACKENDS, total);
    if (WRITE_LIST) writeFileSync(LIST, report);
    const committed = readFileSync(LIST, 'utf8');
    expect(committed, 'test/conformance/onnx-tests.md is stale: rewrite it with `node scripts/onnx-conformance.mjs`').toBe(report);
  });
});
