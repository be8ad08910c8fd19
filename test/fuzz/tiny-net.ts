/**
 * A tiny network and valid weight files for it, built in the test (nothing derived from the shared
 * data): fuzzing a 500-byte file reaches the same decoder paths as the real 600 KB one, at a
 * thousandth of the cost per case.
 */
import { caffeType } from '../../src/formats/caffe/schema.js';

/** conv1 (3 x 2 x 3 x 3) -> ReLU -> max pool -> ip1 (4 x 12) -> softmax, on a 2 x 5 x 5 input. */
export const TINY_PROTOTXT = `name: "tiny"
input: "data"
input_shape { dim: 1 dim: 2 dim: 5 dim: 5 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 3 kernel_size: 3 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool1" top: "ip1" inner_product_param { num_output: 4 } }
layer { name: "prob" type: "Softmax" bottom: "ip1" top: "prob" }
`;

/** The tiny net's weighted layers: name, weight dims (Caffe order), and Deep Compression bits. */
export const TINY_WEIGHTED = [
  { name: 'conv1', dims: [3, 2, 3, 3], bits: 8 },
  { name: 'ip1', dims: [4, 12], bits: 4 },
] as const;

const values = (n: number, salt: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 1.7 + salt) * 1000) / 1000);
const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * The tiny net's weights as a binary NetParameter, encoded with the project's Caffe schema:
 * `current` (LayerParameter `layer`, BlobShape dims, float data) or `v1` (V1LayerParameter
 * `layers`, legacy num/channels/height/width, the bias as double_data) as old Caffe wrote.
 */
export function tinyCaffemodel(format: 'current' | 'v1'): Uint8Array {
  const type = caffeType('NetParameter');
  const layers: Record<string, unknown>[] = TINY_WEIGHTED.map((l, i) => {
    const weight = values(count(l.dims), i);
    const bias = values(l.dims[0], i + 10);
    if (format === 'current') {
      return { name: l.name, type: l.dims.length === 4 ? 'Convolution' : 'InnerProduct',
        blobs: [{ shape: { dim: l.dims }, data: weight }, { shape: { dim: [l.dims[0]] }, data: bias }] };
    }
    const legacy = l.dims.length === 4 ? l.dims : [1, 1, ...l.dims];
    return { name: l.name, type: l.dims.length === 4 ? 'CONVOLUTION' : 'INNER_PRODUCT',
      blobs: [{ num: legacy[0], channels: legacy[1], height: legacy[2], width: legacy[3], data: weight },
        { num: 1, channels: 1, height: 1, width: l.dims[0], double_data: bias }] };
  });
  // A weightless layer between, as real files have.
  layers.splice(1, 0, format === 'current' ? { name: 'relu1', type: 'ReLU', blobs: [] } : { name: 'relu1', type: 'RELU', blobs: [] });
  const net = format === 'current' ? { name: 'tiny', layer: layers } : { name: 'tiny', layers };
  return type.encode(type.fromObject(net)).finish();
}

/**
 * The tiny net's weights in the Deep Compression `.net` layout (deep-compression.ts): a uint32
 * entry count per layer, then per layer the codebook, the bias, the packed codes and the gaps.
 * Every `stride`-th weight is stored, so the gaps are non-zero.
 */
export function tinyDeepCompression(stride = 2): Uint8Array {
  const chunks: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(4 * TINY_WEIGHTED.length));
  chunks.push(new Uint8Array(header.buffer));
  TINY_WEIGHTED.forEach((l, li) => {
    const n = Math.ceil(count(l.dims) / stride);
    header.setUint32(4 * li, n, true);
    const codebook = new Float32Array(1 << l.bits).map((_, k) => (k === 0 ? 0 : Math.sin(k) / 4));
    const bias = new Float32Array(values(l.dims[0], li + 20));
    const codes = Array.from({ length: n }, (_, k) => 1 + ((k * 7) % ((1 << l.bits) - 1)));
    const packed = l.bits === 8 ? Uint8Array.from(codes) : pack4(codes);
    // Entry 0 sits at gap 0 (position 0); each later one `stride` further.
    const gaps = pack4(Array.from({ length: n }, (_, k) => (k === 0 ? 0 : stride - 1)));
    chunks.push(new Uint8Array(codebook.buffer), new Uint8Array(bias.buffer), packed, gaps);
  });
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** 4-bit values packed two per byte, low nibble first. */
function pack4(v: readonly number[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(v.length / 2));
  v.forEach((x, k) => {
    out[k >> 1] |= (k & 1) === 0 ? x & 0x0f : (x & 0x0f) << 4;
  });
  return out;
}
