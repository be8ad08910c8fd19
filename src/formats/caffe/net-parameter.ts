import { ModelFormatError, NetworkError } from '../../errors.js';
import { parsePrototxt } from './prototxt.js';
import { caffeType } from './schema.js';
import { SOURCE_POSITION, textToMessage, type MessageObject } from './text-to-message.js';
import type { CaffeLayer } from './caffe-layer.js';
import { checkDeclaredShape, isDataLayer, trainValNetwork, type TrainValOptions } from './train-val.js';

/** A Caffe network definition after phase filtering, with its single input declared. */
export interface CaffeNetDefinition {
  readonly name: string;
  readonly inputName: string;
  /** Declared input dims including the batch dim (N, C, H, W), as written. */
  readonly inputDims: readonly number[];
  readonly layers: readonly CaffeLayer[];
  readonly fileName: string;
  /** For a train_val prototxt, the one line saying how it became a deploy network (train-val.ts). */
  readonly notice?: string;
}

/**
 * Parses a prototxt into a network definition (syntax and schema checked): a deploy prototxt, or a
 * train_val one reduced to its deploy network (see trainValNetwork).
 */
export function parseNetPrototxt(source: string, fileName: string, options: TrainValOptions = {}): CaffeNetDefinition {
  const tree = parsePrototxt(source, fileName);
  const net = textToMessage(tree, caffeType('NetParameter'), fileName);
  return netDefinition(net, fileName, options);
}

/**
 * Reduces a NetParameter object (from a prototxt, or decoded from a binary file) to the layers of
 * the TEST phase and the declared input. A network fed by a data layer (a train_val prototxt) goes
 * through trainValNetwork, which `options` steer.
 */
export function netDefinition(net: MessageObject, fileName: string, options: TrainValOptions = {}): CaffeNetDefinition {
  const v1 = (net.layers as MessageObject[] | undefined) ?? [];
  const current = (net.layer as MessageObject[] | undefined) ?? [];
  if (v1.length > 0 && current.length > 0) {
    throw new ModelFormatError(`${fileName}: mixes legacy 'layers' and current 'layer' entries; use one form`);
  }
  const all = (current.length > 0 ? current : v1).map((m, i) => caffeLayer(m, i, fileName));
  const layers = all.filter((l) => inTestPhase(l.message));
  const name = (net.name as string | undefined) ?? '';
  const data = layers.find(isDataLayer);
  if (data) {
    const declared = ((net.input as string[] | undefined) ?? [])[0] ?? layers.find((l) => l.type === 'Input')?.tops[0];
    if (declared !== undefined) throw new NetworkError(`${data.where}: a data layer beside the declared input '${declared}'; dyvedeep runs networks with one input`);
    const reduced = trainValNetwork(layers, all.length - layers.length, fileName, options);
    return { name, inputName: reduced.inputName, inputDims: reduced.inputDims, layers: reduced.layers, fileName, notice: reduced.notice };
  }

  let inputName: string | undefined;
  let inputDims: number[] | undefined;
  const inputs = (net.input as string[] | undefined) ?? [];
  if (inputs.length > 1) throw new NetworkError(`${fileName}: ${inputs.length} inputs declared (${inputs.join(', ')}); dyvedeep runs networks with one input`);
  if (inputs.length === 1) {
    inputName = inputs[0];
    const shapes = (net.input_shape as MessageObject[] | undefined) ?? [];
    const dims = (net.input_dim as number[] | undefined) ?? [];
    if (shapes.length > 0) inputDims = (shapes[0].dim as number[] | undefined) ?? [];
    else if (dims.length > 0) inputDims = dims;
    else throw new NetworkError(`${fileName}: input '${inputName}' has no input_dim or input_shape`);
  }
  const body: CaffeLayer[] = [];
  for (const layer of layers) {
    if (layer.type === 'Input') {
      if (inputName !== undefined) throw new NetworkError(`${layer.where}: a second input; dyvedeep runs networks with one input`);
      const shapes = ((layer.message.input_param as MessageObject | undefined)?.shape as MessageObject[] | undefined) ?? [];
      if (layer.tops.length !== 1 || shapes.length !== 1) throw new NetworkError(`${layer.where}: an Input layer needs exactly one top and one shape`);
      inputName = layer.tops[0];
      inputDims = (shapes[0].dim as number[] | undefined) ?? [];
      continue;
    }
    body.push(layer);
  }
  if (inputName === undefined || inputDims === undefined) {
    const trainData = all.find((l) => isDataLayer(l) && !inTestPhase(l.message));
    throw new NetworkError(`${fileName}: the network declares no input (input + input_dim, input_shape, or an Input layer${trainData ? `, or a TEST-phase data layer: '${trainData.name}' is for training only` : ''})`);
  }
  if (inputDims.length !== 4 && inputDims.length !== 2) {
    throw new NetworkError(`${fileName}: input '${inputName}' has ${inputDims.length} dims (${inputDims.join('x')}); expected N,C,H,W`);
  }
  checkDeclaredShape(inputName, inputDims, fileName, options);
  return { name, inputName, inputDims, layers: body, fileName };
}

function caffeLayer(m: MessageObject, index: number, fileName: string): CaffeLayer {
  const pos = m[SOURCE_POSITION];
  const at = pos ? `${fileName}:${pos.line}:${pos.column}` : fileName;
  const name = (m.name as string | undefined) ?? `#${index}`;
  const type = m.type as string | undefined;
  if (type === undefined || type === '' || type === 'NONE') throw new NetworkError(`${at}: layer '${name}' has no type`);
  return {
    name,
    type,
    bottoms: (m.bottom as string[] | undefined) ?? [],
    tops: (m.top as string[] | undefined) ?? [],
    message: m,
    where: `${at}: layer '${name}' (${type})`,
  };
}

/** Caffe's NetState rules for the TEST phase, level 0, no stages. */
function inTestPhase(m: MessageObject): boolean {
  const matches = (rule: MessageObject): boolean => {
    if (rule.phase !== undefined && rule.phase !== 'TEST') return false;
    if (typeof rule.min_level === 'number' && rule.min_level > 0) return false;
    if (typeof rule.max_level === 'number' && rule.max_level < 0) return false;
    if (Array.isArray(rule.stage) && rule.stage.length > 0) return false;
    return true;
  };
  const include = (m.include as MessageObject[] | undefined) ?? [];
  const exclude = (m.exclude as MessageObject[] | undefined) ?? [];
  if (include.length > 0) return include.some(matches);
  return !exclude.some(matches);
}
