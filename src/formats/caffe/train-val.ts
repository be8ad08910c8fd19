/**
 * Training prototxts (`train_val`, `train_test`) as model-zoo pages ship them, turned into the
 * network Caffe runs at test time: one input in place of the data layer, no label, no accuracy, and
 * a Softmax where the training loss was.
 */
import { NetworkError } from '../../errors.js';
import type { CaffeLayer } from './caffe-layer.js';
import { SOURCE_POSITION, type MessageObject } from './text-to-message.js';

/** How the loader resolves a data layer into an input. */
export interface TrainValOptions {
  /** The input's channels, height and width (`--input-shape CxHxW`); wins over what the file says. */
  readonly inputShape?: readonly [number, number, number];
  /**
   * Dims of a layer's first learned blob when weights are at hand (the caffemodel's), by layer name:
   * the only place a Data layer's channel count is written down.
   */
  readonly weightDims?: (layerName: string) => readonly number[] | undefined;
}

/** A train_val network reduced to a deploy one. */
export interface TrainValNetwork {
  readonly inputName: string;
  /** N, C, H, W (N = 1), as a deploy prototxt's input_dim. */
  readonly inputDims: readonly number[];
  readonly layers: readonly CaffeLayer[];
  /** One line saying what was done, for the user. */
  readonly notice: string;
}

/** Layer types that read training data: current names and V1 enum names. */
const DATA_TYPES = new Set(['Data', 'ImageData', 'HDF5Data', 'MemoryData', 'DummyData', 'WindowData', 'AnnotatedData',
  'DATA', 'IMAGE_DATA', 'HDF5_DATA', 'MEMORY_DATA', 'DUMMY_DATA', 'WINDOW_DATA']);

/** Layers that mean something only with labels (losses, accuracy) or only to the solver (Silence). */
const DROPPED_TYPES = new Set(['Accuracy', 'Silence', 'EuclideanLoss', 'HingeLoss', 'InfogainLoss', 'MultinomialLogisticLoss',
  'SigmoidCrossEntropyLoss', 'ContrastiveLoss', 'ACCURACY', 'SILENCE', 'EUCLIDEAN_LOSS', 'HINGE_LOSS', 'INFOGAIN_LOSS',
  'MULTINOMIAL_LOGISTIC_LOSS', 'SIGMOID_CROSS_ENTROPY_LOSS', 'CONTRASTIVE_LOSS']);

/** The training loss whose forward pass, without the loss, is the deploy network's Softmax. */
const SOFTMAX_LOSS_TYPES = new Set(['SoftmaxWithLoss', 'SOFTMAX_LOSS']);

/** Whether a layer feeds the network from training data (a Python layer with no bottom does too). */
export function isDataLayer(layer: CaffeLayer): boolean {
  return DATA_TYPES.has(layer.type) || (layer.type === 'Python' && layer.bottoms.length === 0);
}

function sub(m: MessageObject, field: string): MessageObject {
  return (m[field] as MessageObject | undefined) ?? {};
}

function positive(m: MessageObject, field: string): number | undefined {
  const v = m[field];
  const n = Array.isArray(v) ? v[0] : v;
  return typeof n === 'number' && n > 0 ? n : undefined;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The input shape [C, H, W] and where it came from, in words; or a NetworkError saying what to pass. */
function inputShape(data: CaffeLayer, layers: readonly CaffeLayer[], options: TrainValOptions): { shape: number[]; source: string } {
  if (options.inputShape) return { shape: [...options.inputShape], source: 'from --input-shape' };
  const m = data.message;
  const memory = sub(m, 'memory_data_param');
  const [mc, mh, mw] = ['channels', 'height', 'width'].map((f) => positive(memory, f));
  if (mc && mh && mw) return { shape: [mc, mh, mw], source: 'from its memory_data_param' };
  const dummy = sub(m, 'dummy_data_param');
  const dummyShape = ((dummy.shape as MessageObject[] | undefined)?.[0]?.dim as number[] | undefined) ?? [];
  if (dummyShape.length === 4) return { shape: dummyShape.slice(1).map(Number), source: 'from its dummy_data_param shape' };
  const [dc, dh, dw] = ['channels', 'height', 'width'].map((f) => positive(dummy, f));
  if (dc && dh && dw) return { shape: [dc, dh, dw], source: 'from its dummy_data_param' };

  const transform = sub(m, 'transform_param');
  const image = sub(m, 'image_data_param');
  // crop_size sat in data_param / image_data_param before transform_param existed; Caffe still reads it there.
  const crop = positive(transform, 'crop_size') ?? positive(sub(m, 'data_param'), 'crop_size') ?? positive(image, 'crop_size');
  const isImageData = data.type === 'ImageData' || data.type === 'IMAGE_DATA';
  const [nh, nw] = [positive(image, 'new_height'), positive(image, 'new_width')];
  const size = crop ? { h: crop, w: crop, what: `crop_size ${crop}` }
    : isImageData && nh && nw ? { h: nh, w: nw, what: `new_height/new_width ${nh}x${nw}` } : undefined;
  const pass = `pass the input's shape with --input-shape CxHxW (the inputShape option of loadNetwork / parseNetwork)`;
  if (!size) {
    throw new NetworkError(`${data.where}: is a data layer and gives no image size (no crop_size): ${pass}, e.g. --input-shape 3x32x32 for 32x32 colour images`);
  }
  // Channels: said by the layer when it forces colour or grey, by ImageData's is_color, else only by
  // the weights of the first convolution that reads the data (its blob is out x in/group x kh x kw).
  if (transform.force_gray === true) return { shape: [1, size.h, size.w], source: `from its ${size.what} and force_gray` };
  if (transform.force_color === true) return { shape: [3, size.h, size.w], source: `from its ${size.what} and force_color` };
  if (isImageData) return { shape: [image.is_color === false ? 1 : 3, size.h, size.w], source: `from its ${size.what} and is_color` };
  const top = data.tops[0];
  const reader = layers.find((l) => l.bottoms.includes(top));
  const isConv = reader !== undefined && (reader.type === 'Convolution' || reader.type === 'CONVOLUTION');
  const dims = isConv ? options.weightDims?.(reader.name) : undefined;
  if (isConv && dims && dims.length === 4 && dims[1] > 0) {
    const group = positive(sub(reader.message, 'convolution_param'), 'group') ?? 1;
    return { shape: [dims[1] * group, size.h, size.w], source: `H, W from its ${size.what}, channels from the weights of '${reader.name}'` };
  }
  const why = isConv ? `the weights of '${reader.name}', which are not loaded here` : 'the weights of a first convolution, which this network lacks';
  throw new NetworkError(`${data.where}: is a data layer whose ${size.what} gives H and W, but its channel count is written only in ${why}: ${pass}, e.g. --input-shape 3x${size.h}x${size.w}`);
}

/** SoftmaxWithLoss (or SOFTMAX_LOSS) as the Softmax its forward pass starts with, label bottom dropped. */
function softmaxOf(loss: CaffeLayer): CaffeLayer {
  const v1 = loss.type === 'SOFTMAX_LOSS';
  // The optional second top of SoftmaxWithLoss holds the probabilities; else they take the loss's name.
  const top = loss.tops[1] ?? loss.tops[0] ?? loss.name;
  const message: MessageObject = { name: loss.name, type: v1 ? 'SOFTMAX' : 'Softmax', bottom: [loss.bottoms[0]], top: [top] };
  if (loss.message.softmax_param !== undefined) message.softmax_param = loss.message.softmax_param;
  message[SOURCE_POSITION] = loss.message[SOURCE_POSITION];
  return { ...loss, type: message.type as string, bottoms: [loss.bottoms[0]], tops: [top], message, where: loss.where };
}

/**
 * Reduces the TEST-phase layers of a training prototxt to a deploy network: the one data layer
 * becomes the input (its first top; the label and any other top are gone), Accuracy, Silence and
 * loss layers are dropped, and SoftmaxWithLoss becomes a Softmax writing the same top.
 *
 * The input shape comes from `options.inputShape`, else from the data layer: MemoryData and
 * DummyData dims; ImageData's crop_size (or new_height/new_width) and is_color; for other data
 * layers crop_size for H and W, and the channels from transform_param's force_color / force_gray or
 * from the weights of the first convolution reading the data, when `options.weightDims` has them.
 *
 * @param layers the TEST-phase layers, in order, with at least one data layer.
 * @param trainOnly how many layers the phase rules dropped (said in the notice).
 * @throws NetworkError naming what is missing (pass --input-shape), for more than one data layer,
 *   and for a kept layer that reads the label or the output of a dropped layer.
 */
export function trainValNetwork(layers: readonly CaffeLayer[], trainOnly: number, fileName: string, options: TrainValOptions): TrainValNetwork {
  const data = layers.filter(isDataLayer);
  if (data.length !== 1) {
    throw new NetworkError(`${fileName}: ${data.length} data layers in the TEST phase (${data.map((l) => `'${l.name}'`).join(', ')}); dyvedeep runs networks with one input`);
  }
  const source = data[0];
  if (source.tops.length === 0) throw new NetworkError(`${source.where}: a data layer with no top`);
  const rest = layers.filter((l) => l !== source);
  const { shape, source: shapeSource } = inputShape(source, rest, options);

  /** Blob name -> what it was, for the blobs that no longer exist. */
  const gone = new Map<string, string>(source.tops.slice(1).map((t) => [t, `the '${t}' top of data layer '${source.name}'`]));
  const done: string[] = [];
  const kept: CaffeLayer[] = [];
  for (const layer of rest) {
    const isLoss = SOFTMAX_LOSS_TYPES.has(layer.type);
    if (isLoss && layer.bottoms.length === 0) throw new NetworkError(`${layer.where}: takes a bottom, found none`);
    const reads = isLoss ? layer.bottoms.slice(0, 1) : layer.bottoms;
    if (DROPPED_TYPES.has(layer.type)) {
      done.push(`dropped '${layer.name}' (${layer.type})`);
      for (const t of layer.tops) gone.set(t, `the output of dropped layer '${layer.name}' (${layer.type})`);
      continue;
    }
    const missing = reads.find((b) => gone.has(b));
    if (missing !== undefined) {
      throw new NetworkError(`${layer.where}: reads '${missing}', ${gone.get(missing)}, which an inference network does not have`);
    }
    const out = isLoss ? softmaxOf(layer) : layer;
    if (isLoss) done.push(`'${layer.name}' (${layer.type}) -> Softmax`);
    for (const t of out.tops) gone.delete(t);
    kept.push(out);
  }

  const labels = source.tops.slice(1);
  const notice = [
    `dyvedeep: train_val prototxt ${fileName}: kept the TEST phase${trainOnly > 0 ? ` (dropped ${plural(trainOnly, 'layer')} outside it)` : ''}`,
    `data layer '${source.name}' (${source.type}) -> input '${source.tops[0]}' ${shape.join('x')} (${shapeSource})`,
    ...(labels.length > 0 ? [`dropped its top${labels.length === 1 ? '' : 's'} ${labels.map((t) => `'${t}'`).join(', ')}`] : []),
    ...done,
  ].join(', ');
  return { inputName: source.tops[0], inputDims: [1, ...shape], layers: kept, notice };
}

/**
 * Checks `--input-shape` against the input a deploy prototxt declares: the flag names a train_val's
 * missing shape and does not reshape a declared input (its weights were trained for that one).
 */
export function checkDeclaredShape(inputName: string, dims: readonly number[], fileName: string, options: TrainValOptions): void {
  if (!options.inputShape) return;
  const declared = [dims[1], dims[2] ?? 1, dims[3] ?? 1];
  if (declared.join('x') !== options.inputShape.join('x')) {
    throw new NetworkError(`${fileName}: declares its input '${inputName}' as ${declared.join('x')}, but --input-shape is ${options.inputShape.join('x')}: `
      + '--input-shape gives the shape of a train_val prototxt\'s data layer; leave it out for a deploy prototxt, or make it match');
  }
}
