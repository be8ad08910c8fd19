import { describe, expect, it } from 'vitest';
import { ModelFormatError, NetworkError } from '../src/errors.js';
import { parseNetPrototxt } from '../src/formats/caffe/net-parameter.js';
import { MAX_NESTING_DEPTH, parsePrototxt } from '../src/formats/caffe/prototxt.js';
import { buildNetwork } from '../src/formats/caffe/build-network.js';

const build = (src: string) => buildNetwork(parseNetPrototxt(src, 'net.prototxt'));

const HEADER = `name: "t" input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\n`;

describe('protobuf text format', () => {
  it('parses nested messages, repeated fields, lists, enums, comments and escaped strings', () => {
    const tree = parsePrototxt(`# comment\na: 1 b: -2.5e-1 c: "x\\"y\\n" 'z'\nm { n: MAX k: [1, 2, 3] } m < n: AVE >; flag: true, f: 1.0f`);
    const names = tree.fields.map((f) => f.name);
    expect(names).toEqual(['a', 'b', 'c', 'm', 'm', 'flag', 'f']);
    expect(tree.fields[1].value).toMatchObject({ kind: 'number', value: -0.25 });
    expect(tree.fields[2].value).toMatchObject({ kind: 'string', value: 'x"y\nz' });
    const m = tree.fields[3].value;
    expect(m.kind).toBe('message');
    if (m.kind === 'message') expect(m.fields.map((f) => f.value)).toMatchObject([{ value: 'MAX' }, { value: 1 }, { value: 2 }, { value: 3 }]);
    expect(tree.fields[6].value).toMatchObject({ kind: 'number', value: 1 });
  });

  it.each([
    ['layer {\n  name: "a"\n', 'net.prototxt:3:1: unexpected end of file', "missing '}'"],
    ['name: "a\n', 'net.prototxt:1:7: unterminated string', ''],
    ['layer {\n  name "a"\n}', "net.prototxt:2:8: expected ':' or '{' after field name 'name'", ''],
    ['input_dim: 1\ninput_dim: 2x\n', "net.prototxt:2:12: malformed number '2x'", ''],
    ['a: @', "net.prototxt:1:4: unexpected character '@'", ''],
    ['} ', "net.prototxt:1:1: expected a field name, found '}'", ''],
  ])('reports syntax errors with line and column: %j', (src, message, extra) => {
    expect(() => parsePrototxt(src, 'net.prototxt')).toThrow(ModelFormatError);
    expect(() => parsePrototxt(src, 'net.prototxt')).toThrow(message);
    if (extra) expect(() => parsePrototxt(src, 'net.prototxt')).toThrow(extra);
  });

  it('checks values against the Caffe schema, with positions', () => {
    expect(() => build(`${HEADER}layer { name: "p" type: "Pooling" bottom: "data" top: "p"\n  pooling_param { pool: MEDIAN kernel_size: 2 } }`))
      .toThrow("net.prototxt:3:25: 'MEDIAN' is not a value of PoolMethod (field 'pool'); expected one of MAX, AVE, STOCHASTIC");
    expect(() => build(`${HEADER}layer { name: 3 }`)).toThrow("net.prototxt:2:15: field 'name' of LayerParameter takes a quoted string, found 3");
    expect(() => build(`${HEADER}layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: -4 kernel_size: 3 } }`))
      .toThrow("field 'num_output' of ConvolutionParameter cannot be negative, found -4");
    expect(() => build(`${HEADER}name: "again"`)).toThrow("field 'name' of NetParameter is not repeated but is given more than once");
  });

  it('bounds nesting: 100,000 nested braces are a positioned ModelFormatError, not a stack overflow, within 5 s', () => {
    const start = performance.now();
    for (const [src, column] of [
      ['a { '.repeat(100_000), 4 * MAX_NESTING_DEPTH + 3],
      // Blocks as list elements count too.
      ['a: [< '.repeat(100_000), 6 * MAX_NESTING_DEPTH + 5],
    ] as const) {
      let caught: unknown;
      try {
        parsePrototxt(src, 'deep.prototxt');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ModelFormatError);
      expect((caught as Error).message).toMatch(new RegExp(`^deep\\.prototxt:1:${column}: blocks nested more than ${MAX_NESTING_DEPTH} deep`));
    }
    // The same depth of balanced blocks is refused too; the limit itself still parses.
    expect(() => parsePrototxt(`${'a { '.repeat(100_000)}${'} '.repeat(100_000)}`)).toThrow(ModelFormatError);
    expect(parsePrototxt(`${'a { '.repeat(MAX_NESTING_DEPTH)}${'} '.repeat(MAX_NESTING_DEPTH)}`).fields).toHaveLength(1);
    expect(performance.now() - start).toBeLessThan(5_000);
  });

  it('reads only the schema\'s own fields and enum values, and integers in their type\'s range', () => {
    // Object.prototype members are not fields nor enum values.
    expect(() => build(`${HEADER}layer { name: "r" type: "ReLU" bottom: "data" top: "r" constructor { } }`))
      .toThrow("net.prototxt:2:56: unknown field 'constructor' in layer 'r'");
    expect(() => build(`${HEADER}layer { name: "r" type: "ReLU" bottom: "data" top: "r" __proto__: 1 }`)).toThrow("unknown field '__proto__' in layer 'r'");
    expect(() => build(`${HEADER}layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: toString kernel_size: 2 } }`))
      .toThrow("'toString' is not a value of PoolMethod");
    expect(() => build(`${HEADER}layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 99999999999999999999 kernel_size: 3 } }`))
      .toThrow("field 'num_output' of ConvolutionParameter is a uint32: 99999999999999999999 is out of its range [0, 4294967295]");
    expect(() => build(`${HEADER}layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 4 kernel_size: 3 axis: -2147483649 } }`))
      .toThrow('is out of its range [-2147483648, 2147483647]');
  });

  it('reports unknown fields by name and position, after the layer type is known', () => {
    expect(() => build(`${HEADER}layer { name: "c" type: "Convolution" bottom: "data" top: "c"\n convolution_param { num_output: 4 kernal_size: 3 } }`))
      .toThrow("net.prototxt:3:36: unknown field 'kernal_size' in convolution_param");
  });
});

describe('network building', () => {
  it('names an unknown layer type and lists the supported ones', () => {
    const run = () => build(`${HEADER}layer {\n  name: "tanh1"\n  type: "TanH"\n  bottom: "data"\n  top: "tanh1"\n}`);
    expect(run).toThrow(NetworkError);
    expect(run).toThrow("net.prototxt:2:1: layer 'tanh1' (TanH): unsupported layer type 'TanH' (supported: Convolution, Pooling");
  });

  it('reads input_shape, Input layers and legacy V1 layers alike', () => {
    const a = build(`input: "data" input_shape { dim: 1 dim: 3 dim: 5 dim: 7 }\nlayer { name: "r" type: "ReLU" bottom: "data" top: "data" }`);
    const b = build(`layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 5 dim: 7 } } }\nlayer { name: "r" type: "ReLU" bottom: "data" top: "data" }`);
    const c = build(`input: "data" input_dim: 1 input_dim: 3 input_dim: 5 input_dim: 7\nlayers { name: "r" type: RELU bottom: "data" top: "data" }`);
    for (const net of [a, b, c]) {
      expect(net.inputShape).toEqual({ c: 3, h: 5, w: 7 });
      expect(net.layers[0].params.type).toBe('ReLU');
      // In-place layers write a new single-assignment blob.
      expect(net.outputName).toBe('data@r');
    }
  });

  it('infers Caffe shapes: convolution floor, pooling ceil with the start-inside-input clip, groups, concat', () => {
    const net = build(`${HEADER.replace('input_dim: 8 input_dim: 8', 'input_dim: 13 input_dim: 13')}
layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 6 kernel_h: 3 kernel_w: 1 stride: 2 pad_h: 1 pad_w: 0 group: 3 } }
layer { name: "p" type: "Pooling" bottom: "c" top: "p" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "q" type: "Pooling" bottom: "c" top: "q" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layer { name: "g" type: "Pooling" bottom: "c" top: "g" pooling_param { pool: AVE global_pooling: true } }
layer { name: "d" type: "Convolution" bottom: "data" top: "d" convolution_param { num_output: 2 kernel_size: 3 dilation: 2 } }
layer { name: "cat" type: "Concat" bottom: "p" bottom: "p" top: "cat" }`);
    const shape = (n: string) => net.blobShapes.get(n);
    expect(shape('c')).toEqual({ c: 6, h: 7, w: 7 });
    expect(shape('p')).toEqual({ c: 6, h: 4, w: 4 });
    expect(shape('q')).toEqual({ c: 6, h: 4, w: 4 });
    expect(shape('g')).toEqual({ c: 6, h: 1, w: 1 });
    expect(shape('d')).toEqual({ c: 2, h: 9, w: 9 });
    expect(shape('cat')).toEqual({ c: 12, h: 4, w: 4 });
  });

  it('rejects a data layer without a shape, missing bottoms and bad groups with the layer named', () => {
    expect(() => build(`layer { name: "cifar" type: "Data" top: "data" }`)).toThrow("layer 'cifar' (Data): is a data layer and gives no image size (no crop_size): pass the input's shape with --input-shape");
    expect(() => build(`${HEADER}layer { name: "r" type: "ReLU" bottom: "nope" top: "r" }`)).toThrow("layer 'r' (ReLU): bottom 'nope' is not produced by any earlier layer nor the input");
    expect(() => build(`${HEADER}layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 4 kernel_size: 1 group: 2 } }`))
      .toThrow("layer 'c' (Convolution): its input has 3 channels, not divisible by group 2");
  });

  it('keeps only TEST-phase layers', () => {
    const net = build(`${HEADER}layer { name: "t" type: "Dropout" bottom: "data" top: "t" include { phase: TRAIN } }
layer { name: "r" type: "ReLU" bottom: "data" top: "r" include { phase: TEST } }`);
    expect(net.layers.map((l) => l.name)).toEqual(['r']);
  });
});
