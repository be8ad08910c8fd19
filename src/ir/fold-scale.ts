/**
 * Folds a Scale into the Convolution or InnerProduct before it: (W x + b) * s + t = (s W) x + (s b + t),
 * per output channel. A Caffe BatchNorm (+ Scale) after a convolution thus costs nothing at run
 * time, and a ReLU after it follows the convolution directly, where DyVEDeep's SPET applies.
 */
import { isConvOrInnerProduct, type Layer, type LayerParams, type Network } from './network.js';

/**
 * Whether `scale` can fold into `producer`: it is a weighted Scale whose one bottom is the
 * producer's only top, that blob read by nothing else and not the network's output.
 */
function foldable(net: Network, layers: readonly Layer[], producer: Layer | undefined, scale: Layer): producer is Layer {
  if (scale.params.type !== 'Scale' || !scale.weights || scale.bottoms.length !== 1) return false;
  if (!producer || !isConvOrInnerProduct(producer) || !producer.weights || producer.tops.length !== 1) return false;
  const blob = producer.tops[0];
  if (scale.bottoms[0] !== blob || blob === net.outputName) return false;
  if (scale.weights.weight.length !== producer.outputShapes[0].c) return false;
  return layers.filter((l) => l.bottoms.includes(blob)).length === 1;
}

/** `producer` with `scale` folded in: weights and bias scaled per output channel, the Scale's top as its top. */
function folded(producer: Layer, scale: Layer): Layer {
  const pw = producer.weights!;
  const sw = scale.weights!;
  const channels = sw.weight.length;
  const perChannel = pw.weight.length / channels;
  const weight = new Float32Array(pw.weight.length);
  const bias = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    const s = sw.weight[o];
    for (let i = o * perChannel; i < (o + 1) * perChannel; i++) weight[i] = pw.weight[i] * s;
    bias[o] = (pw.bias ? pw.bias[o] * s : 0) + (sw.bias ? sw.bias[o] : 0);
  }
  const withBias = pw.bias !== undefined || sw.bias !== undefined;
  const p = producer.params;
  const params: LayerParams = p.type === 'Convolution'
    ? { type: 'Convolution', conv: { ...p.conv, biasTerm: withBias } }
    : { type: 'InnerProduct', ip: { ...(p as Extract<LayerParams, { type: 'InnerProduct' }>).ip, biasTerm: withBias } };
  return { ...producer, params, tops: scale.tops, weights: { weight, ...(withBias && { bias }) } };
}

/**
 * The network with every foldable Scale (see foldable) folded into the Convolution or
 * InnerProduct before it, repeatedly (a BatchNorm then a Scale both fold). The folded layer keeps
 * its name and writes the Scale's top; the blob between them is gone. Layers without weights are
 * left as they are. Outputs equal the unfolded network's within float32 rounding.
 */
export function foldScales(net: Network): Network {
  const layers: Layer[] = [];
  const removed: string[] = [];
  for (const layer of net.layers) {
    const producer = layers.find((l) => l.tops.includes(layer.bottoms[0]));
    if (foldable(net, net.layers, producer, layer)) {
      removed.push(producer.tops[0]);
      layers[layers.indexOf(producer)] = folded(producer, layer);
    } else {
      layers.push(layer);
    }
  }
  if (removed.length === 0) return net;
  const blobShapes = new Map(net.blobShapes);
  for (const blob of removed) blobShapes.delete(blob);
  return { ...net, layers, blobShapes };
}
