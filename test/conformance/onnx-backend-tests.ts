/**
 * The ONNX conformance runner: which backend tests of the ONNX project (onnx-test-data.ts) fall
 * in issue 18's operator set, which of those our importer and IR take (and why not, for the rest),
 * and whether a backend reproduces their expected outputs at the suite's own tolerance.
 *
 * A test is *selected* when every node of its model is one of ISSUE_OPERATORS (read from the
 * model, not guessed from the folder name). A selected test is *skipped* when the importer refuses
 * the model (the reason is the importer's own message) or the runner cannot feed it (one runtime
 * input of float32, one output: the IR's contract); otherwise it *runs*, on every data set.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DyveError } from '../../src/errors.js';
import { onnx } from '../../src/formats/onnx/onnx-proto.js';
import { formatShape, shapeSize, type Network, type Shape } from '../../src/ir/network.js';
import { ONNX_TESTDATA_DIR, dataSetFiles, readTestTensor, type OnnxBackendTest, type TestTensor } from './onnx-test-data.js';
import { allClose } from './onnx-tolerance.js';

/** The operators issue 18 asks the importer to take. */
export const ISSUE_OPERATORS: ReadonlySet<string> = new Set([
  'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization', 'Relu', 'LeakyRelu',
  'PRelu', 'Clip', 'Sigmoid', 'Add', 'Mul', 'Concat', 'Flatten', 'Reshape', 'Gemm', 'MatMul', 'Softmax', 'LRN', 'Dropout',
  'Identity',
]);

/**
 * Operators that compute nothing and may accompany them: a Constant node is a weight written as a
 * node (PyTorch exports a Reshape's shape or an addend that way).
 */
export const DATA_OPERATORS: ReadonlySet<string> = new Set(['Constant']);

/** Turns model bytes into a network, or throws a DyveError saying why it cannot. */
export type OnnxImporter = (bytes: Uint8Array, name: string, baseDir: string) => Network;

/** A backend under test: runs the network on `batch` images and returns its output blob. */
export interface ConformanceBackend {
  readonly name: string;
  run(net: Network, input: Float32Array, batch: number): Promise<Float32Array>;
}

/** The operators of a model's graph (domain `ai.onnx`), each once, in node order. */
export function modelOperators(bytes: Uint8Array): string[] {
  const model = onnx.ModelProto.decode(bytes);
  const ops = (model.graph?.node ?? []).map((n) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType ?? ''));
  return [...new Set(ops)];
}

/** A test whose model uses an operator outside the set (with at least one inside it). */
export interface UnselectedTest {
  readonly test: OnnxBackendTest;
  readonly operators: readonly string[];
  /** The operators outside ISSUE_OPERATORS and DATA_OPERATORS. */
  readonly outside: readonly string[];
}

/** A selected test the runner does not run, and why. */
export interface SkippedTest {
  readonly test: OnnxBackendTest;
  readonly operators: readonly string[];
  readonly reason: string;
}

/** A selected test the importer took: the network and the data sets to feed it. */
export interface RunnableTest {
  readonly test: OnnxBackendTest;
  readonly operators: readonly string[];
  readonly net: Network;
  readonly dataSets: readonly { readonly input: TestTensor; readonly outputs: readonly TestTensor[] }[];
}

/** What the runner finds in the test data. */
export interface Classification {
  readonly runnable: RunnableTest[];
  readonly skipped: SkippedTest[];
  readonly unselected: UnselectedTest[];
  /** Tests with no operator of the set at all. */
  readonly unrelated: number;
  /** Selected tests the importer crashed on (not a DyveError): a bug, never a skip. */
  readonly crashed: SkippedTest[];
}

/**
 * An importer's message as the list shows it: without the leading model name (the list names the
 * test), and files named by their place in the suite, so that it reads the same on every machine.
 */
function reasonText(message: string, modelName: string): string {
  const own = message.startsWith(`${modelName}: `) ? message.slice(modelName.length + 2) : message;
  return own.split(`${ONNX_TESTDATA_DIR}/`).join('');
}

type ModelProto = ReturnType<typeof onnx.ModelProto.decode>;

/** Why the runner cannot feed a model the importer took, or null when it can. */
function harnessLimit(model: ModelProto, dataSets: readonly { input: TestTensor[]; outputs: TestTensor[] }[]): string | null {
  const outputs = model.graph?.output ?? [];
  if (outputs.length !== 1) {
    return `${outputs.length} graph outputs (${outputs.map((o) => o.name).join(', ')}): the IR has one output`;
  }
  if (dataSets.length === 0) return 'no test_data_set folder: nothing to compare with';
  for (const set of dataSets) {
    if (set.input.length !== 1) return `${set.input.length} input tensors in the data set: the IR takes one`;
    const input = set.input[0];
    if (input.dataType !== 'FLOAT') return `input of type ${input.dataType}: the IR computes in float32`;
    if (set.outputs.length !== 1) return `${set.outputs.length} expected outputs in the data set: the IR has one output`;
    if (set.outputs[0].dataType !== 'FLOAT') return `output of type ${set.outputs[0].dataType}: the IR computes in float32`;
  }
  return null;
}

/**
 * Sorts every test into run, skipped (with the reason), unselected and unrelated, importing each
 * selected model with `importer`.
 */
export function classifyOnnxTests(tests: readonly OnnxBackendTest[], importer: OnnxImporter): Classification {
  const result = { runnable: [] as RunnableTest[], skipped: [] as SkippedTest[], unselected: [] as UnselectedTest[], unrelated: 0, crashed: [] as SkippedTest[] };
  for (const test of tests) {
    const bytes = readFileSync(join(test.dir, 'model.onnx'));
    const operators = modelOperators(bytes);
    const outside = operators.filter((op) => !ISSUE_OPERATORS.has(op) && !DATA_OPERATORS.has(op));
    if (!operators.some((op) => ISSUE_OPERATORS.has(op))) {
      result.unrelated++;
      continue;
    }
    if (outside.length > 0) {
      result.unselected.push({ test, operators, outside });
      continue;
    }
    const modelName = `${test.suite}/${test.name}/model.onnx`;
    let net: Network;
    try {
      net = importer(bytes, modelName, test.dir);
    } catch (err) {
      const entry = { test, operators, reason: reasonText(err instanceof Error ? err.message : String(err), modelName) };
      if (err instanceof DyveError) result.skipped.push(entry);
      else result.crashed.push({ ...entry, reason: `${err instanceof Error ? err.name : 'throw'}: ${entry.reason}` });
      continue;
    }
    const sets = test.dataSets.map((dir) => ({
      input: dataSetFiles(dir, 'input').map(readTestTensor),
      outputs: dataSetFiles(dir, 'output').map(readTestTensor),
    }));
    const limit = harnessLimit(onnx.ModelProto.decode(bytes), sets);
    if (limit !== null) {
      result.skipped.push({ test, operators, reason: limit });
      continue;
    }
    result.runnable.push({ test, operators, net, dataSets: sets.map((s) => ({ input: s.input[0], outputs: s.outputs })) });
  }
  return result;
}

/**
 * Whether a tensor of `dims` (batch first) holds `batch` blobs of `shape`: the same size per
 * image, and the same dimensions where the rank names them (rank 4: C, H, W; rank 3: C and H*W;
 * rank 2: C*H*W, as a Flatten or an InnerProduct leaves it).
 */
export function dimsMatch(dims: readonly number[], batch: number, shape: Shape): boolean {
  if (dims.length < 2 || dims[0] !== batch) return false;
  const [, c, h, w] = dims;
  switch (dims.length) {
    case 4: return c === shape.c && h === shape.h && w === shape.w;
    case 3: return c === shape.c && h === shape.h * shape.w;
    case 2: return c === shapeSize(shape);
    default: return false;
  }
}

/** The outcome of one runnable test on one backend: null when it passed, else what went wrong. */
export async function runOnnxTest(t: RunnableTest, backend: ConformanceBackend): Promise<string | null> {
  const { net } = t;
  const outputShape = net.blobShapes.get(net.outputName);
  if (!outputShape) return `the network's output blob '${net.outputName}' has no shape`;
  for (const [k, set] of t.dataSets.entries()) {
    const where = `data set ${k}`;
    const batch = set.input.dims[0];
    if (!dimsMatch(set.input.dims, batch, net.inputShape)) {
      return `${where}: input dims [${set.input.dims.join(', ')}] do not fit the network's input ${formatShape(net.inputShape)}`;
    }
    const expected = set.outputs[0];
    if (!dimsMatch(expected.dims, batch, outputShape)) {
      return `${where}: expected output dims [${expected.dims.join(', ')}], the network's output is ${batch} x ${formatShape(outputShape)}`;
    }
    let actual: Float32Array;
    try {
      actual = await backend.run(net, set.input.values!, batch);
    } catch (err) {
      return `${where}: the run threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    }
    if (actual.length !== expected.values!.length) return `${where}: ${actual.length} output values, expected ${expected.values!.length}`;
    const check = allClose(actual, expected.values!);
    if (!check.ok) {
      const f = check.first!;
      return `${where}: ${check.mismatches} of ${actual.length} values outside the tolerance; first at ${f.index}: ${f.actual}, expected ${f.expected}`;
    }
  }
  return null;
}
