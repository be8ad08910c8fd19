/**
 * An independent multiply-accumulate count of the zoo networks.
 *
 * Nothing here uses the project's prototxt reader or shape inference: each network is a
 * table of its weighted layers (and pools, for the map sizes) written by hand from the
 * papers and, for the two real models, from reading their deploy prototxts in the data
 * directory. MACs are counted as
 *   convolution:      out_h * out_w * out_c * (in_c / group) * k_h * k_w
 *   inner product:    in * out
 * (biases, ReLU, LRN, pooling and softmax are not counted). All maps and kernels here are
 * square, so one number stands for height and width.
 *
 * Map sizes follow Caffe's rules: convolution floor((in + 2 pad - k) / stride) + 1, pooling
 * ceil((in + 2 pad - k) / stride) + 1. test/zoo-macs.test.ts checks the tables against
 * those rules, against the expected totals and against the prototxts' layer parameters.
 */

/** A convolution: `inSize`/`outSize` are the input and output map sizes (square). */
export interface ConvRow {
  readonly kind: 'conv';
  readonly name: string;
  readonly inC: number;
  readonly outC: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
  readonly group: number;
  readonly inSize: number;
  readonly outSize: number;
}

/** A pooling layer (no MACs; recorded to follow the map sizes). */
export interface PoolRow {
  readonly kind: 'pool';
  readonly name: string;
  readonly k: number;
  readonly stride: number;
  readonly inSize: number;
  readonly outSize: number;
}

/** A fully connected (InnerProduct) layer. */
export interface FcRow {
  readonly kind: 'fc';
  readonly name: string;
  readonly inN: number;
  readonly outN: number;
}

export type Row = ConvRow | PoolRow | FcRow;

export interface IndependentNet {
  readonly name: string;
  /** Input blob: channels, height, width. */
  readonly input: readonly [number, number, number];
  readonly rows: readonly Row[];
  /** True when every layer feeds the next one (no branches), so the test can chain the rows. */
  readonly linear: boolean;
}

function conv(name: string, inC: number, outC: number, k: number, inSize: number, outSize: number,
  opts: { stride?: number; pad?: number; group?: number } = {}): ConvRow {
  return { kind: 'conv', name, inC, outC, k, stride: opts.stride ?? 1, pad: opts.pad ?? 0, group: opts.group ?? 1, inSize, outSize };
}

function pool(name: string, k: number, stride: number, inSize: number, outSize: number): PoolRow {
  return { kind: 'pool', name, k, stride, inSize, outSize };
}

function fc(name: string, inN: number, outN: number): FcRow {
  return { kind: 'fc', name, inN, outN };
}

/** MACs of one row. */
export function rowMacs(row: Row): number {
  switch (row.kind) {
    case 'conv':
      return row.outSize * row.outSize * row.outC * (row.inC / row.group) * row.k * row.k;
    case 'fc':
      return row.inN * row.outN;
    case 'pool':
      return 0;
  }
}

/** MACs per weighted layer, by layer name, in table order. */
export function perLayerMacs(rows: readonly Row[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) if (row.kind !== 'pool') out[row.name] = rowMacs(row);
  return out;
}

/** Total MACs of a table. */
export function networkMacs(rows: readonly Row[]): number {
  return rows.reduce((sum, row) => sum + rowMacs(row), 0);
}

// --- AlexNet (Krizhevsky et al. 2012), BVLC reference as deployed in Caffe -------------
// 227 -conv1-> 55 -pool1-> 27 -conv2-> 27 -pool2-> 13 -conv3..5-> 13 -pool5-> 6.
// norm1/norm2 (LRN) and ReLUs do not change shapes. group 2 on conv2, conv4, conv5.
const ALEXNET_ROWS: readonly Row[] = [
  conv('conv1', 3, 96, 11, 227, 55, { stride: 4 }),
  pool('pool1', 3, 2, 55, 27),
  conv('conv2', 96, 256, 5, 27, 27, { pad: 2, group: 2 }),
  pool('pool2', 3, 2, 27, 13),
  conv('conv3', 256, 384, 3, 13, 13, { pad: 1 }),
  conv('conv4', 384, 384, 3, 13, 13, { pad: 1, group: 2 }),
  conv('conv5', 384, 256, 3, 13, 13, { pad: 1, group: 2 }),
  pool('pool5', 3, 2, 13, 6),
  fc('fc6', 256 * 6 * 6, 4096),
  fc('fc7', 4096, 4096),
  fc('fc8', 4096, 1000),
];

// --- VGG-16 (Simonyan & Zisserman 2014, configuration D) -------------------------------
const VGG16_ROWS: readonly Row[] = [
  conv('conv1_1', 3, 64, 3, 224, 224, { pad: 1 }),
  conv('conv1_2', 64, 64, 3, 224, 224, { pad: 1 }),
  pool('pool1', 2, 2, 224, 112),
  conv('conv2_1', 64, 128, 3, 112, 112, { pad: 1 }),
  conv('conv2_2', 128, 128, 3, 112, 112, { pad: 1 }),
  pool('pool2', 2, 2, 112, 56),
  conv('conv3_1', 128, 256, 3, 56, 56, { pad: 1 }),
  conv('conv3_2', 256, 256, 3, 56, 56, { pad: 1 }),
  conv('conv3_3', 256, 256, 3, 56, 56, { pad: 1 }),
  pool('pool3', 2, 2, 56, 28),
  conv('conv4_1', 256, 512, 3, 28, 28, { pad: 1 }),
  conv('conv4_2', 512, 512, 3, 28, 28, { pad: 1 }),
  conv('conv4_3', 512, 512, 3, 28, 28, { pad: 1 }),
  pool('pool4', 2, 2, 28, 14),
  conv('conv5_1', 512, 512, 3, 14, 14, { pad: 1 }),
  conv('conv5_2', 512, 512, 3, 14, 14, { pad: 1 }),
  conv('conv5_3', 512, 512, 3, 14, 14, { pad: 1 }),
  pool('pool5', 2, 2, 14, 7),
  fc('fc6', 512 * 7 * 7, 4096),
  fc('fc7', 4096, 4096),
  fc('fc8', 4096, 1000),
];

// --- OverFeat "fast" (Sermanet et al. 2014, Table 1) ------------------------------------
// 231 -conv1-> 56 -pool1-> 28 -conv2-> 24 -pool2-> 12 -conv3..5 (pad 1)-> 12 -pool5-> 6.
const OVERFEAT_ROWS: readonly Row[] = [
  conv('conv1', 3, 96, 11, 231, 56, { stride: 4 }),
  pool('pool1', 2, 2, 56, 28),
  conv('conv2', 96, 256, 5, 28, 24),
  pool('pool2', 2, 2, 24, 12),
  conv('conv3', 256, 512, 3, 12, 12, { pad: 1 }),
  conv('conv4', 512, 1024, 3, 12, 12, { pad: 1 }),
  conv('conv5', 1024, 1024, 3, 12, 12, { pad: 1 }),
  pool('pool5', 2, 2, 12, 6),
  fc('fc6', 1024 * 6 * 6, 3072),
  fc('fc7', 3072, 4096),
  fc('fc8', 4096, 1000),
];

// --- SqueezeNet v1.0 (Iandola et al. 2016), read by hand from squeezenet/SqueezeNet_deploy.prototxt
// conv1 96 7x7 s2 on 227 -> 111; pool1 3 s2 (ceil) -> 55; fire2-4 at 55; pool4 -> 27;
// fire5-8 at 27; pool8 -> 13; fire9 at 13; conv_final 1000 1x1 with pad 1 (as the prototxt
// has it) -> 15x15; global average pooling. Each fire module: squeeze conv1x1_1, then two
// expand convs on the squeeze output (conv1x1_2, conv3x3_2 pad 1), concatenated.
const SQUEEZENET_ROWS: readonly Row[] = [
  conv('conv1', 3, 96, 7, 227, 111, { stride: 2 }),
  pool('pool1', 3, 2, 111, 55),
  conv('fire2/conv1x1_1', 96, 16, 1, 55, 55),
  conv('fire2/conv1x1_2', 16, 64, 1, 55, 55),
  conv('fire2/conv3x3_2', 16, 64, 3, 55, 55, { pad: 1 }),
  conv('fire3/conv1x1_1', 128, 16, 1, 55, 55),
  conv('fire3/conv1x1_2', 16, 64, 1, 55, 55),
  conv('fire3/conv3x3_2', 16, 64, 3, 55, 55, { pad: 1 }),
  conv('fire4/conv1x1_1', 128, 32, 1, 55, 55),
  conv('fire4/conv1x1_2', 32, 128, 1, 55, 55),
  conv('fire4/conv3x3_2', 32, 128, 3, 55, 55, { pad: 1 }),
  pool('pool4', 3, 2, 55, 27),
  conv('fire5/conv1x1_1', 256, 32, 1, 27, 27),
  conv('fire5/conv1x1_2', 32, 128, 1, 27, 27),
  conv('fire5/conv3x3_2', 32, 128, 3, 27, 27, { pad: 1 }),
  conv('fire6/conv1x1_1', 256, 48, 1, 27, 27),
  conv('fire6/conv1x1_2', 48, 192, 1, 27, 27),
  conv('fire6/conv3x3_2', 48, 192, 3, 27, 27, { pad: 1 }),
  conv('fire7/conv1x1_1', 384, 48, 1, 27, 27),
  conv('fire7/conv1x1_2', 48, 192, 1, 27, 27),
  conv('fire7/conv3x3_2', 48, 192, 3, 27, 27, { pad: 1 }),
  conv('fire8/conv1x1_1', 384, 64, 1, 27, 27),
  conv('fire8/conv1x1_2', 64, 256, 1, 27, 27),
  conv('fire8/conv3x3_2', 64, 256, 3, 27, 27, { pad: 1 }),
  pool('pool8', 3, 2, 27, 13),
  conv('fire9/conv1x1_1', 512, 64, 1, 13, 13),
  conv('fire9/conv1x1_2', 64, 256, 1, 13, 13),
  conv('fire9/conv3x3_2', 64, 256, 3, 13, 13, { pad: 1 }),
  conv('conv_final', 512, 1000, 1, 13, 15, { pad: 1 }),
];

// --- Caffe cifar10_quick, read by hand from caffe/cifar10_quick.prototxt ----------------
// 32 -conv1 (5x5 pad 2)-> 32 -pool1 3 s2 (ceil: ceil(29/2)+1)-> 16 -conv2-> 16 -pool2-> 8
// -conv3-> 8 -pool3-> 4; ip1 64x4x4 -> 64; ip2 64 -> 10.
const CIFAR10_QUICK_ROWS: readonly Row[] = [
  conv('conv1', 3, 32, 5, 32, 32, { pad: 2 }),
  pool('pool1', 3, 2, 32, 16),
  conv('conv2', 32, 32, 5, 16, 16, { pad: 2 }),
  pool('pool2', 3, 2, 16, 8),
  conv('conv3', 32, 64, 5, 8, 8, { pad: 2 }),
  pool('pool3', 3, 2, 8, 4),
  fc('ip1', 64 * 4 * 4, 64),
  fc('ip2', 64, 10),
];

/** The tables, by zoo model name (models/<name>). */
export const INDEPENDENT_NETS: Readonly<Record<string, IndependentNet>> = {
  alexnet: { name: 'alexnet', input: [3, 227, 227], rows: ALEXNET_ROWS, linear: true },
  // Pruning and quantisation do not change the graph: the dense count is AlexNet's.
  'alexnet-dc': { name: 'alexnet-dc', input: [3, 227, 227], rows: ALEXNET_ROWS, linear: true },
  vgg16: { name: 'vgg16', input: [3, 224, 224], rows: VGG16_ROWS, linear: true },
  overfeat: { name: 'overfeat', input: [3, 231, 231], rows: OVERFEAT_ROWS, linear: true },
  'squeezenet-dc': { name: 'squeezenet-dc', input: [3, 227, 227], rows: SQUEEZENET_ROWS, linear: false },
  'cifar10-quick': { name: 'cifar10-quick', input: [3, 32, 32], rows: CIFAR10_QUICK_ROWS, linear: true },
};

/** Total dense conv + fc MACs of each zoo network, counted from the tables above. */
export const INDEPENDENT_MACS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(INDEPENDENT_NETS).map(([name, net]) => [name, networkMacs(net.rows)]),
);

export const ALEXNET_MACS = INDEPENDENT_MACS.alexnet; // 724,406,816
export const ALEXNET_DC_MACS = INDEPENDENT_MACS['alexnet-dc']; // 724,406,816 (dense)
export const VGG16_MACS = INDEPENDENT_MACS.vgg16; // 15,470,264,320
export const OVERFEAT_MACS = INDEPENDENT_MACS.overfeat; // 2,801,403,904
export const SQUEEZENET_DC_MACS = INDEPENDENT_MACS['squeezenet-dc']; // 861,339,936 (dense)
export const CIFAR10_QUICK_MACS = INDEPENDENT_MACS['cifar10-quick']; // 12,354,176
