import { NetworkError } from '../../errors.js';
import type { CaffeNetDefinition } from './net-parameter.js';
import { assertNoUnknownFields } from './text-to-message.js';
import { findLayerDefinition, supportedLayerTypes } from '../../ir/layers/registry.js';
import { checkTensorSize, dimsSize } from '../../ir/memory-need.js';
import { formatShape, shapeSize, type Layer, type Network, type Shape } from '../../ir/network.js';

/** `2`, `2 or more`, `1 to 2`: how many bottoms or tops a layer type accepts. */
function countRange(min: number, max: number): string {
  if (min === max) return `${min}`;
  return max === Infinity ? `${min} or more` : `${min} to ${max}`;
}

/**
 * Builds the IR from a Caffe net definition: checks every layer type and its parameters, wires
 * blobs, and infers every shape.
 *
 * Blobs are renamed to single assignment: an in-place layer (ReLU with top == bottom) writes a new
 * blob `conv1@relu1`, and later readers of `conv1` see that one. So every intermediate value keeps
 * a name (parity tests compare them all) and a backend may still compute in place.
 *
 * Every blob and weights blob is checked against the size one tensor may hold (checkTensorSize),
 * so an absurd dimension fails here, in a sentence, rather than at an allocation.
 */
export function buildNetwork(def: CaffeNetDefinition): Network {
  const dims = def.inputDims;
  const inputShape: Shape = dims.length === 4 ? { c: dims[1], h: dims[2], w: dims[3] } : { c: dims[1], h: 1, w: 1 };
  if (![inputShape.c, inputShape.h, inputShape.w].every((d) => Number.isInteger(d) && d > 0)) {
    throw new NetworkError(`${def.fileName}: input '${def.inputName}' has invalid dims ${dims.join('x')}`);
  }
  checkTensorSize(shapeSize(inputShape), () => `${def.fileName}: input '${def.inputName}' (${formatShape(inputShape)} per image)`);
  const shapes = new Map<string, Shape>([[def.inputName, inputShape]]);
  /** Caffe blob name -> current single-assignment name. */
  const current = new Map<string, string>([[def.inputName, def.inputName]]);
  const layerNames = new Set<string>();
  const layers: Layer[] = [];

  for (const caffe of def.layers) {
    const definition = findLayerDefinition(caffe.type);
    if (!definition) {
      throw new NetworkError(`${caffe.where}: unsupported layer type '${caffe.type}' (supported: ${supportedLayerTypes().join(', ')})`);
    }
    if (layerNames.has(caffe.name)) throw new NetworkError(`${caffe.where}: a second layer named '${caffe.name}'`);
    layerNames.add(caffe.name);
    assertNoUnknownFields(caffe.message, def.fileName, `layer '${caffe.name}'`);
    const ctx = { name: caffe.name, where: caffe.where };
    const [minB, maxB] = definition.bottoms;
    const [minT, maxT] = definition.tops;
    if (caffe.bottoms.length < minB || caffe.bottoms.length > maxB) {
      throw new NetworkError(`${caffe.where}: takes ${countRange(minB, maxB)} bottom(s), found ${caffe.bottoms.length}`);
    }
    if (caffe.tops.length < minT || caffe.tops.length > maxT) {
      throw new NetworkError(`${caffe.where}: makes ${countRange(minT, maxT)} top(s), found ${caffe.tops.length}`);
    }
    const bottoms = caffe.bottoms.map((b) => {
      const name = current.get(b);
      if (name === undefined) throw new NetworkError(`${caffe.where}: bottom '${b}' is not produced by any earlier layer nor the input`);
      return name;
    });
    const params = definition.parse(caffe.message, ctx);
    const inputShapes = bottoms.map((b) => shapes.get(b) as Shape);
    const outputShapes = definition.outputShapes(params, inputShapes, caffe.tops.length, ctx);
    outputShapes.forEach((s, i) => checkTensorSize(shapeSize(s), () => `${caffe.where}: its output '${caffe.tops[i]}' (${formatShape(s)} per image)`));
    definition.blobShapes(params, inputShapes).forEach((d, i) => {
      checkTensorSize(dimsSize(d), () => `${caffe.where}: its ${i === 0 ? 'weights' : 'bias'} (${d.join('x')})`);
    });
    const tops = caffe.tops.map((t) => (shapes.has(t) || current.has(t) ? `${t}@${caffe.name}` : t));
    tops.forEach((t, i) => {
      if (shapes.has(t)) throw new NetworkError(`${caffe.where}: top '${caffe.tops[i]}' is written twice by this layer`);
      shapes.set(t, outputShapes[i]);
      current.set(caffe.tops[i], t);
    });
    layers.push({ name: caffe.name, params, bottoms, tops, inputShapes, outputShapes });
  }
  if (layers.length === 0) throw new NetworkError(`${def.fileName}: the network has no layers`);
  const last = layers[layers.length - 1];
  return {
    name: def.name,
    inputName: def.inputName,
    inputShape,
    layers,
    outputName: last.tops[0],
    blobShapes: shapes,
    synthetic: false,
  };
}
