import type { Network } from '../ir/network.js';

/**
 * Rank of the true class among `scores[offset .. offset + classes)`: the number of classes that
 * score strictly higher, plus equal-scoring classes with a lower index (a stable sort's order).
 * Rank 0 is a top-1 hit; rank < 5 a top-5 hit. NaN is the worst score: a NaN label score ranks
 * last, never a hit.
 */
export function rankOfLabel(scores: Float32Array, offset: number, classes: number, label: number): number {
  const target = scores[offset + label];
  if (Number.isNaN(target)) return classes;
  let rank = 0;
  for (let k = 0; k < classes; k++) {
    const s = scores[offset + k];
    if (s > target || (s === target && k < label)) rank++;
  }
  return rank;
}

/** Index of the highest score (the first one on ties; NaN is the worst score). */
export function argmax(scores: Float32Array, offset: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) {
    const s = scores[offset + k];
    if (s > scores[offset + best] || (Number.isNaN(scores[offset + best]) && !Number.isNaN(s))) best = k;
  }
  return best;
}

/** The k best classes, best first (NaN is the worst score). */
export function topK(scores: Float32Array, offset: number, classes: number, k: number): number[] {
  const score = (i: number) => (Number.isNaN(scores[offset + i]) ? -Infinity : scores[offset + i]);
  return Array.from({ length: classes }, (_, i) => i)
    .sort((a, b) => score(b) - score(a) || a - b)
    .slice(0, k);
}

/**
 * Class probabilities of one image's output: the values as they are when the network ends with
 * a Softmax layer, else a softmax of the scores (SqueezeNet ends with global average pooling).
 */
export function classProbabilities(net: Network, scores: Float32Array, offset = 0, classes = scores.length - offset): Float32Array {
  const own = scores.slice(offset, offset + classes);
  if (net.layers[net.layers.length - 1]?.params.type === 'Softmax') return own;
  const max = own.reduce((m, v) => Math.max(m, v), -Infinity);
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += own[k] = Math.exp(own[k] - max);
  for (let k = 0; k < classes; k++) own[k] /= sum;
  return own;
}
