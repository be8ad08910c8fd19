/**
 * The ONNX project's backend test data as Debian ships it (package `libonnx-testdata`, ONNX
 * 1.12): one folder per test holding `model.onnx` and `test_data_set_N/{input_K,output_K}.pb`
 * (serialized TensorProto). This file finds the tests and reads their tensors; what runs and how
 * it is judged is onnx-backend-tests.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataTypeName, decodeTensor } from '../../src/formats/onnx/import/onnx-tensor.js';
import { onnx } from '../../src/formats/onnx/onnx-proto.js';

/** Where `apt-get install libonnx-testdata` puts the suites. */
export const ONNX_TESTDATA_DIR = '/usr/share/libonnx-testdata/data';

/**
 * The suites searched, in report order. `real/` is left out: Debian ships only its download
 * addresses (data.json), no models.
 */
export const ONNX_SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;
export type OnnxSuite = (typeof ONNX_SUITES)[number];

/** Set to 1 to run `npm test` on a machine without the package (the suite then does not run). */
export const OPT_OUT_VARIABLE = 'DYVE_NO_ONNX_TESTDATA';

/** One backend test: a model and its data sets. */
export interface OnnxBackendTest {
  readonly suite: OnnxSuite;
  /** The folder name, e.g. `test_conv_with_strides_padding`. */
  readonly name: string;
  readonly dir: string;
  /** The `test_data_set_N` folders, in N order. */
  readonly dataSets: readonly string[];
}

/** A tensor of a test's data set. */
export interface TestTensor {
  readonly dims: readonly number[];
  /** The data type's name (`FLOAT`, `UINT8`, ...). */
  readonly dataType: string;
  /** The values, for FLOAT tensors only (the only element type the IR computes in). */
  readonly values?: Float32Array;
}

/**
 * Throws, with what to do, when the package is not installed: a machine without it must not pass
 * the suite by running nothing. Returns false when the opt-out variable is set.
 */
export function onnxTestDataAvailable(): boolean {
  if (process.env[OPT_OUT_VARIABLE] === '1') return false;
  if (!existsSync(join(ONNX_TESTDATA_DIR, 'node'))) {
    throw new Error(`The ONNX backend test data is missing (${ONNX_TESTDATA_DIR}): install it with 'sudo apt-get install libonnx-testdata' ` +
      `(scripts/install-test-deps.sh does it), or set ${OPT_OUT_VARIABLE}=1 to leave the ONNX conformance suite out`);
  }
  return true;
}

function dataSetIndex(name: string): number {
  return Number(name.slice('test_data_set_'.length));
}

/** Every test of the suites that has a model, in suite then name order. */
export function discoverOnnxTests(root = ONNX_TESTDATA_DIR): OnnxBackendTest[] {
  return ONNX_SUITES.flatMap((suite) => {
    const suiteDir = join(root, suite);
    return readdirSync(suiteDir).sort().flatMap((name) => {
      const dir = join(suiteDir, name);
      if (!existsSync(join(dir, 'model.onnx'))) return [];
      const dataSets = readdirSync(dir)
        .filter((d) => /^test_data_set_\d+$/.test(d))
        .sort((a, b) => dataSetIndex(a) - dataSetIndex(b))
        .map((d) => join(dir, d));
      return [{ suite, name, dir, dataSets }];
    });
  });
}

/** The `input_K.pb` (kind `input`) or `output_K.pb` files of a data set, in K order. */
export function dataSetFiles(dataSet: string, kind: 'input' | 'output'): string[] {
  const pattern = new RegExp(`^${kind}_(\\d+)\\.pb$`);
  return readdirSync(dataSet)
    .map((f) => pattern.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => join(dataSet, m[0]));
}

/** Reads a serialized TensorProto (the importer's decoder; values kept for FLOAT tensors only). */
export function readTestTensor(path: string): TestTensor {
  const proto = onnx.TensorProto.decode(readFileSync(path));
  const dataType = dataTypeName(proto.dataType ?? 0);
  if (proto.dataType !== onnx.TensorProto.DataType.FLOAT) return { dims: (proto.dims ?? []).map(Number), dataType };
  const { dims, data } = decodeTensor(proto, path);
  return { dims, dataType, values: data };
}
