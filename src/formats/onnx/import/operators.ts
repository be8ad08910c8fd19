/**
 * The one table of ONNX operators the importer reads (default domain), each translated by a
 * function of its family's file, with the oldest opset whose version of it is read. An operator not
 * listed, or of an older version, is refused by name.
 */
import { importClip, importLeakyRelu, importPrelu, importRelu, importSigmoid, importSoftmax } from './activation-import.js';
import { importAdd, importDiv, importMul, importSub, importVariadic } from './arithmetic-import.js';
import { importConv, importPad } from './conv-import.js';
import { importGemm, importMatMul } from './dense-import.js';
import type { GraphImport, OnnxNode } from './graph-import.js';
import { importBatchNormalization, importLrn } from './normalization-import.js';
import { importAveragePool, importGlobalPool, importMaxPool } from './pool-import.js';
import { importConcat, importConstant, importFlatten, importIdentity, importReshape, importSqueeze, importUnsqueeze } from './shape-import.js';

/** Translates one node: reads its inputs and attributes from `g`, adds layers, sets its outputs. */
export type OperatorImport = (node: OnnxNode, g: GraphImport) => void;

/** An operator the importer reads, from which opset on. */
export interface OperatorSupport {
  readonly translate: OperatorImport;
  /**
   * The oldest opset whose version of the operator the importer reads exactly (its translation
   * handles every later version's attributes and defaults); a model of an older opset using the
   * operator is refused naming the node.
   */
  readonly since: number;
  /**
   * Whether the operator's version 1 had `consumed_inputs`, a legacy in-place hint without effect
   * on the values, dropped at opset 6: read (and ignored) only before opset 6.
   */
  readonly consumedInputs?: boolean;
}

/**
 * The oldest opset the importer reads at all: the first. The few operators whose first versions it
 * does not read say so in their own `since` (Pad-1 had `paddings`, Reshape-1 its shape as an attribute).
 */
export const OLDEST_OPSET = 1;

/** An operator that reads every version from opset 1 on. */
function fromOpset1(translate: OperatorImport, consumedInputs = false): OperatorSupport {
  return { translate, since: 1, consumedInputs };
}

/**
 * Operators and the versions read. Versions before opset 7 differ in what the translations check:
 * Add / Sub / Mul / Div broadcast only their second operand, with `broadcast` and `axis` (see
 * legacyChannelValues); Gemm's `broadcast`; BatchNormalization's and Dropout's `is_test` (default 0,
 * training: refused) and `spatial`; PRelu's slope of C values is per channel; Clip's bounds are
 * attributes (until opset 11); Concat's axis defaults to 1 before opset 4.
 */
export const OPERATORS: ReadonlyMap<string, OperatorSupport> = new Map<string, OperatorSupport>([
  ['Conv', fromOpset1(importConv)],
  ['Pad', { translate: importPad, since: 2 }],
  ['MaxPool', fromOpset1(importMaxPool)],
  ['AveragePool', fromOpset1(importAveragePool)],
  ['GlobalMaxPool', fromOpset1(importGlobalPool('max'))],
  ['GlobalAveragePool', fromOpset1(importGlobalPool('ave'))],
  ['BatchNormalization', fromOpset1(importBatchNormalization, true)],
  ['LRN', fromOpset1(importLrn)],
  ['Relu', fromOpset1(importRelu, true)],
  ['LeakyRelu', fromOpset1(importLeakyRelu, true)],
  ['PRelu', fromOpset1(importPrelu, true)],
  ['Clip', fromOpset1(importClip, true)],
  ['Sigmoid', fromOpset1(importSigmoid, true)],
  ['Softmax', fromOpset1(importSoftmax)],
  ['Add', fromOpset1(importAdd, true)],
  ['Sub', fromOpset1(importSub, true)],
  ['Mul', fromOpset1(importMul, true)],
  ['Div', fromOpset1(importDiv, true)],
  ['Sum', fromOpset1(importVariadic('sum'), true)],
  ['Max', fromOpset1(importVariadic('max'), true)],
  ['Gemm', fromOpset1(importGemm)],
  ['MatMul', fromOpset1(importMatMul)],
  ['Concat', fromOpset1(importConcat)],
  ['Flatten', fromOpset1(importFlatten)],
  ['Reshape', { translate: importReshape, since: 5 }],
  ['Squeeze', fromOpset1(importSqueeze)],
  ['Unsqueeze', fromOpset1(importUnsqueeze)],
  ['Dropout', fromOpset1(importIdentity, true)],
  ['Identity', fromOpset1(importIdentity)],
  ['Constant', fromOpset1(importConstant)],
]);

/** The supported operator names, for messages. */
export function supportedOperators(): string[] {
  return [...OPERATORS.keys()];
}
