/**
 * Resource limits are checked before allocation: images whose header declares too many pixels,
 * networks whose tensors or weights are absurd or do not fit the memory limit. The bombs run the
 * CLI in a child process (the built dist/), so its peak RSS and time are its own, measured.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createDeflate } from 'node:zlib';
import jpeg from 'jpeg-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { inMemoryDataset } from '../src/data/in-memory-dataset.js';
import { decodeImage, DEFAULT_MAX_IMAGE_PIXELS } from '../src/data/image-decode.js';
import { DataError, DyveError, NetworkError } from '../src/errors.js';
import { evaluate } from '../src/evaluation/evaluate.js';
import { loadNetwork, loadPrototxt } from '../src/formats/load-network.js';
import { parseNetwork } from '../src/formats/parse-network.js';
import { PLAUSIBLE_WEIGHT_MAGNITUDE } from '../src/formats/finite-weights.js';
import { formatBytes, memoryLimit, parseByteSize, setMemoryLimit } from '../src/ir/memory-limit.js';
import { checkMemoryNeed, MAX_TENSOR_VALUES } from '../src/ir/memory-need.js';
import { shapeSize } from '../src/ir/network.js';
import { packageFile } from '../src/package-root.js';
import { CIFAR_CAFFEMODEL, CIFAR_PROTOTXT, editedText, SQUEEZENET_NET, SQUEEZENET_PROTOTXT } from './helpers/files.js';

/** What every bomb must stay under, in the child process that meets it. */
const MAX_SECONDS = 5;
const MAX_RSS_MB = 500;

const tmp = () => mkdtempSync(join(tmpdir(), 'dyve-limits-'));

/**
 * Runs `node bin/dyve.js ARGS` through a wrapper that prints the process's peak RSS on exit (after
 * the CLI has set its exit code), with the limits' variables cleared unless `env` sets them.
 */
async function dyveMeasured(env: Record<string, string>, ...args: string[]): Promise<{ code: number; err: string; seconds: number; rssMb: number }> {
  const dir = tmp();
  const wrapper = join(dir, 'measure.mjs');
  writeFileSync(wrapper, [
    "import { pathToFileURL } from 'node:url';",
    "process.on('exit', () => process.stderr.write(`\\nmaxrss-kb ${process.resourceUsage().maxRSS}\\n`));",
    'const cli = process.argv.splice(2, 1)[0];',
    'process.argv.splice(1, 1, cli);',
    'await import(pathToFileURL(cli).href);',
  ].join('\n'));
  const childEnv: Record<string, string | undefined> = { ...process.env, DYVE_MEMORY_LIMIT: undefined, DYVE_MAX_IMAGE_MEGAPIXELS: undefined, ...env };
  const started = performance.now();
  const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [wrapper, packageFile('bin/dyve.js'), ...args], { env: childEnv as NodeJS.ProcessEnv, maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (error as { code?: number }).code ?? -1 : 0, stderr });
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const rss = /maxrss-kb (\d+)/.exec(result.stderr);
  expect(rss, `no RSS line in: ${result.stderr}`).not.toBeNull();
  return { code: result.code, err: result.stderr.replace(/\s*maxrss-kb \d+\s*$/, ''), seconds, rssMb: Number(rss![1]) / 1024 };
}

/** Asserts a bomb ended as it must: exit 1, one line naming the problem, quickly, in little memory. */
function expectRefused(r: { code: number; err: string; seconds: number; rssMb: number }, message: RegExp): void {
  expect(r.err).toMatch(message);
  expect(r.err).not.toMatch(/RangeError|\n\s+at /);
  expect(r.code).toBe(1);
  expect(r.seconds).toBeLessThan(MAX_SECONDS);
  expect(r.rssMb).toBeLessThan(MAX_RSS_MB);
}

/** A valid 16x16 JPEG whose SOF0 header is then patched to declare `width` x `height`. */
function jpegClaiming(width: number, height: number): Uint8Array {
  const pixels = Buffer.alloc(16 * 16 * 4, 128);
  const bytes = new Uint8Array(jpeg.encode({ data: pixels, width: 16, height: 16 }, 90).data);
  const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
  expect(sof).toBeGreaterThan(0);
  // SOF0: marker, length (2), precision (1), height (2), width (2).
  bytes[sof + 5] = height >> 8;
  bytes[sof + 6] = height & 0xff;
  bytes[sof + 7] = width >> 8;
  bytes[sof + 8] = width & 0xff;
  return bytes;
}

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid black 8-bit RGB PNG of `size` x `size` pixels: its rows deflated as a stream, so the
 * ~588 MB of raw rows of 14000x14000 never exist at once (the file is ~571 KB).
 */
async function blackPng(size: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const rowsPerWrite = 100;
  const rows = Buffer.alloc((1 + 3 * size) * rowsPerWrite); // filter byte 0 + zero samples
  for (let y = 0; y < size; y += rowsPerWrite) {
    const n = Math.min(rowsPerWrite, size - y);
    if (!deflate.write(rows.subarray(0, (1 + 3 * size) * n))) await new Promise((r) => deflate.once('drain', r));
  }
  await new Promise((r) => deflate.end(r));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.concat(parts)), pngChunk('IEND', new Uint8Array(0))]);
}

/** A folder holding one image, and the bench arguments that read it with cifar10-quick. */
function imageBench(name: string, bytes: Uint8Array): string[] {
  const dir = join(tmp(), 'images');
  mkdirSync(dir);
  writeFileSync(join(dir, name), bytes);
  return ['bench', '--model', 'cifar10-quick', '--weights', 'synthetic', '--dataset', dir, '--resize', '32x32', '--limit', '1', '--backend', 'cpu', '--quiet'];
}

/** cifar10-quick's prototxt with one edit, written to a temporary file; the bench arguments that load it. */
function prototxtBench(from: string | RegExp, to: string): string[] {
  const path = join(tmp(), 'net.prototxt');
  writeFileSync(path, editedText(CIFAR_PROTOTXT, from, to));
  return ['bench', '--model', path, '--weights', 'synthetic', '--dataset', 'cifar10', '--limit', '1', '--backend', 'cpu', '--quiet'];
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  setMemoryLimit(undefined);
});

describe('image bombs are refused from their header, before decoding', () => {
  it('a JPEG whose SOF claims 12000x12000 (and 15800x15800)', async () => {
    for (const side of [12000, 15800]) {
      const r = await dyveMeasured({}, ...imageBench('bomb.jpg', jpegClaiming(side, side)));
      expectRefused(r, new RegExp(`bomb\\.jpg declares ${side}x${side} pixels \\(${((side * side) / 1e6).toFixed(1)} megapixels\\), more than the 40 megapixels`));
    }
  });

  it('a valid 571 KB PNG of 14000x14000', async () => {
    const png = await blackPng(14000);
    expect(png.length).toBeLessThan(600_000);
    const r = await dyveMeasured({}, ...imageBench('bomb.png', png));
    expectRefused(r, /bomb\.png declares 14000x14000 pixels \(196\.0 megapixels\), more than the 40 megapixels .*DYVE_MAX_IMAGE_MEGAPIXELS/);
  });

  it('the cap is an option and DYVE_MAX_IMAGE_MEGAPIXELS; images under it decode as before', () => {
    const small = jpegClaiming(16, 16);
    expect(decodeImage(small, 'ok.jpg')).toMatchObject({ width: 16, height: 16, format: 'jpeg' });
    expect(() => decodeImage(small, 'small.jpg', { maxPixels: 255 })).toThrow(/small\.jpg declares 16x16 pixels .* more than the 0\.000255 megapixels/);
    vi.stubEnv('DYVE_MAX_IMAGE_MEGAPIXELS', '0.0002');
    expect(() => decodeImage(small, 'env.jpg')).toThrow(DataError);
    vi.stubEnv('DYVE_MAX_IMAGE_MEGAPIXELS', 'lots');
    expect(() => decodeImage(small, 'env.jpg')).toThrow(/DYVE_MAX_IMAGE_MEGAPIXELS takes a number of megapixels/);
    expect(DEFAULT_MAX_IMAGE_PIXELS).toBe(40e6);
  });

  it('a JPEG under the cap that declares more pixels than its bytes can encode is refused before decoding', () => {
    // ~700 bytes claiming 6000x6000 (36 MP, under the 40 MP cap): jpeg-js would allocate ~1 GB.
    const forged = jpegClaiming(6000, 6000);
    expect(() => decodeImage(forged, 'forged.jpg')).toThrow(/forged\.jpg is not a decodable JPEG\/PNG: its header declares 6000x6000 pixels, more than its \d+ bytes can encode/);
    // A real image, however flat, spends more than one bit per 8x8 block.
    const flat = jpeg.encode({ data: new Uint8Array(512 * 512 * 4).fill(255), width: 512, height: 512 }, 90).data;
    expect(decodeImage(flat, 'flat.jpg')).toMatchObject({ width: 512, height: 512 });
  });

  it('a PNG header is read from its IHDR wherever the chunk sits', () => {
    // A small PNG whose IHDR claims 50000x50000 and whose data is absent: refused on the header.
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(50000, 0);
    ihdr.writeUInt32BE(50000, 4);
    ihdr[8] = 8;
    const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const png = Buffer.concat([signature, pngChunk('tEXt', Buffer.from('a\0b')), pngChunk('IHDR', ihdr), pngChunk('IEND', new Uint8Array(0))]);
    expect(() => decodeImage(png, 'late.png')).toThrow(/late\.png declares 50000x50000 pixels \(2500\.0 megapixels\)/);
  });
});

describe('absurd network dimensions end in a NetworkError, before allocation', () => {
  it('num_output 1000000 (cifar10-quick conv1) over a 4 GiB limit names the layer, its blob and the bytes', async () => {
    const r = await dyveMeasured({ DYVE_MEMORY_LIMIT: '4G' }, ...prototxtBench('num_output: 32', 'num_output: 1000000'));
    expectRefused(r, /layer 'conv1' \(Convolution\) needs at least 7\.08 GiB for a batch of 1: .*'conv1' 1000000x32x32, 3\.81 GiB per image.* over the memory limit of 4 GiB \(DYVE_MEMORY_LIMIT=4G\)$/);
  });

  // A quarter of the machine is under the 7.08 GiB that conv1 needs on machines of less than 28 GiB.
  it.runIf(totalmem() / 4 < 7.08 * 2 ** 30)('num_output 1000000 with the default limit, a quarter of the machine', async () => {
    const r = await dyveMeasured({}, ...prototxtBench('num_output: 32', 'num_output: 1000000'));
    expectRefused(r, /layer 'conv1' \(Convolution\) needs at least 7\.08 GiB .* over the memory limit of .* \(a quarter of this machine's/);
  });

  it('num_output 1000000 in a stack of fully connected layers: weights past any machine', async () => {
    // 40 layers of 1000 -> 1000000 -> 1000: 4 GB of weights each (each under the tensor cap).
    const layers = Array.from({ length: 40 }, (_, i) => `layer { name: "ip${i}" type: "InnerProduct" bottom: "${i === 0 ? 'data' : `ip${i - 1}`}" top: "ip${i}" inner_product_param { num_output: ${i % 2 === 0 ? 1000000 : 1000} } }`);
    const path = join(tmp(), 'deep.prototxt');
    writeFileSync(path, `name: "deep"\ninput: "data"\ninput_shape { dim: 1 dim: 1000 dim: 1 dim: 1 }\n${layers.join('\n')}\n`);
    const r = await dyveMeasured({}, 'bench', '--model', path, '--weights', 'synthetic', '--dataset', 'cifar10', '--limit', '1', '--backend', 'cpu', '--quiet');
    expectRefused(r, /network 'deep': its weights need 149 GiB \(the largest: layer 'ip0' weights 1000000x1000, 3\.73 GiB\), over the memory limit of/);
  });

  it('num_output 2147483648', async () => {
    const r = await dyveMeasured({}, ...prototxtBench('num_output: 32', 'num_output: 2147483648'));
    expectRefused(r, /layer 'conv1' \(CONVOLUTION\): its output 'conv1' \(2147483648x32x32 per image\) would hold 2\.20e\+12 values \(8 TiB\), more than the 2\^30 values \(4 GiB\) one tensor may hold/);
  });

  it('input_dim 100000', async () => {
    const r = await dyveMeasured({}, ...prototxtBench('input_dim: 32\ninput_dim: 32', 'input_dim: 100000\ninput_dim: 100000'));
    expectRefused(r, /input 'data' \(3x100000x100000 per image\) would hold 3\.00e\+10 values \(112 GiB\), more than the 2\^30 values/);
  });

  it('pad 100000', async () => {
    const r = await dyveMeasured({}, ...prototxtBench('pad: 2', 'pad: 100000'));
    expectRefused(r, /layer 'conv1' \(CONVOLUTION\): its output 'conv1' \(32x200028x200028 per image\) would hold 1\.28e\+12 values/);
  });

  it('an empty convolution output names the parameter that empties it', () => {
    const parse = (text: string) => () => parseNetwork(text, 'net.prototxt', { kind: 'none' });
    expect(parse(editedText(CIFAR_PROTOTXT, 'pad: 2', 'pad: 2\n    dilation: 1000'))).toThrow(
      /layer 'conv1' \(CONVOLUTION\): its output height would be empty: with dilation 1000 its 5-tap kernel spans 1000 x \(5 - 1\) \+ 1 = 4001 pixels, more than its padded input height 32 \+ 2 x pad 2 = 36: reduce dilation/,
    );
    expect(parse(editedText(CIFAR_PROTOTXT, 'kernel_size: 5', 'kernel_size: 40'))).toThrow(/its output height would be empty: kernel size 40 is larger than its padded input height 32 \+ 2 x pad 2 = 36/);
  });

  it('weights blobs past the tensor cap fail at shape inference, even without weights', () => {
    // 64x4x4 = 1024 inputs times 2^21 outputs: 2^31 weights, each output (2^21 values) within the cap.
    const text = editedText(CIFAR_PROTOTXT, /num_output: 64\n  }\n}\nlayers {\n  name: "ip2"/, `num_output: ${2 ** 21}\n  }\n}\nlayers {\n  name: "ip2"`);
    expect(() => parseNetwork(text, 'net.prototxt', { kind: 'none' })).toThrow(/layer 'ip1' \(INNER_PRODUCT\): its weights \(2097152x1024\) would hold 2\.15e\+9 values \(8 GiB\)/);
    expect(MAX_TENSOR_VALUES).toBe(2 ** 30);
  });
});

describe('the memory limit', () => {
  it('reads sizes as powers of 1024', () => {
    expect(parseByteSize('8G')).toBe(8 * 2 ** 30);
    expect(parseByteSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseByteSize('1.5GB')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('123456')).toBe(123456);
    for (const bad of ['', 'lots', '-1G', '0', '8X']) expect(parseByteSize(bad)).toBeUndefined();
    expect(formatBytes(4 * 2 ** 30)).toBe('4 GiB');
    expect(formatBytes(512)).toBe('512 B');
  });

  it('defaults to a quarter of the machine; DYVE_MEMORY_LIMIT and setMemoryLimit replace it', () => {
    vi.stubEnv('DYVE_MEMORY_LIMIT', '');
    expect(memoryLimit()).toEqual({ bytes: Math.floor(totalmem() / 4), source: expect.stringMatching(/a quarter of this machine's/) });
    vi.stubEnv('DYVE_MEMORY_LIMIT', '3G');
    expect(memoryLimit()).toEqual({ bytes: 3 * 2 ** 30, source: 'DYVE_MEMORY_LIMIT=3G' });
    setMemoryLimit(1000);
    expect(memoryLimit().bytes).toBe(1000);
    setMemoryLimit(undefined);
    vi.stubEnv('DYVE_MEMORY_LIMIT', 'half');
    expect(() => memoryLimit()).toThrow(DyveError);
    expect(() => setMemoryLimit(0)).toThrow(/positive/);
  });

  it('an evaluation checks its batch before reading it: the batch multiplies the blobs', async () => {
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'synthetic' });
    // Weights 569 KiB; conv1 reads 3x32x32 and writes 32x32x32 values per image (140 KiB).
    checkMemoryNeed(net, 1, { bytes: 2 * 2 ** 20, source: 'test' });
    expect(() => checkMemoryNeed(net, 16, { bytes: 2 * 2 ** 20, source: 'test' })).toThrow(
      /layer 'conv1' \(Convolution\) needs at least 2\.74 MiB for a batch of 16: 2\.19 MiB for the 2 blob\(s\) it reads and writes \(the largest, 'conv1' 32x32x32, 128 KiB per image\) and 569 KiB of weights, over the memory limit of 2 MiB \(test;/,
    );
    const images = 16;
    const dataset = inMemoryDataset({ name: 'zeros', inputShape: net.inputShape, inputs: new Float32Array(images * shapeSize(net.inputShape)) });
    const backend = new CpuBackend();
    const run = vi.spyOn(backend, 'run');
    setMemoryLimit(2 * 2 ** 20);
    await expect(evaluate(net, dataset, backend, { batch: 16 })).rejects.toThrow(NetworkError);
    expect(run).not.toHaveBeenCalled();
    await expect(evaluate(net, dataset, backend, { batch: 1 })).resolves.toMatchObject({ images });
  });
});

describe('implausible weight magnitudes', () => {
  it('are reported as warnings naming the file, layer and index, not errors', async () => {
    const good = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL }, { warn: () => expect.unreachable() });
    const bytes = new Uint8Array(readFileSync(CIFAR_CAFFEMODEL));
    // The float32 bytes of conv2's weight 7, found in the file and replaced by 3e7.
    const value = good.layers.find((l) => l.name === 'conv2')!.weights!.weight[7];
    const pattern = new Uint8Array(Float32Array.of(value).buffer);
    const at = bytes.findIndex((_, i) => pattern.every((b, k) => bytes[i + k] === b));
    expect(at).toBeGreaterThan(0);
    bytes.set(new Uint8Array(Float32Array.of(3e7).buffer), at);
    const path = join(tmp(), 'big.caffemodel');
    writeFileSync(path, bytes);
    const warnings: string[] = [];
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path }, { warn: (line) => warnings.push(line) });
    expect(net.layers.find((l) => l.name === 'conv2')!.weights!.weight[7]).toBe(3e7);
    expect(warnings).toEqual([expect.stringMatching(/^warning: .*big\.caffemodel: layer 'conv2' weights\[7\] is 30000000 \(1 value\(s\) above 1e\+6 in magnitude, the largest 3\.00e\+7\)/)]);
    // By default the line goes to stderr.
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path });
    expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^warning: .*layer 'conv2' weights\[7\]/));
    expect(PLAUSIBLE_WEIGHT_MAGNITUDE).toBe(1e6);
  });
});

/**
 * The reproductions of issue 16 not covered above, each through the CLI in a child process that
 * must end within MAX_SECONDS and MAX_RSS_MB with its own message.
 */
describe('the other reproductions end in a specific message, quickly, in little memory', () => {
  it('one NaN weight in the cifar10-quick caffemodel (a 4-byte edit)', async () => {
    const bytes = readFileSync(CIFAR_CAFFEMODEL);
    const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'file', path: CIFAR_CAFFEMODEL });
    // conv2's weights are stored as raw little-endian float32: find one and overwrite it.
    const value = Buffer.from(Float32Array.of(net.layers.find((l) => l.name === 'conv2')!.weights!.weight[17]).buffer);
    const at = bytes.indexOf(value);
    expect(at).toBeGreaterThan(0);
    bytes.writeFloatLE(Number.NaN, at);
    const path = join(tmp(), 'nan.caffemodel');
    writeFileSync(path, bytes);
    const r = await dyveMeasured({}, 'bench', '--model', 'cifar10-quick', '--weights', path, '--limit', '2', '--backend', 'cpu', '--quiet');
    expectRefused(r, /nan\.caffemodel: layer '\w+' weights\[\d+\] is NaN: the file is corrupt/);
  });

  it('NaN entries in the SqueezeNet .net codebook', async () => {
    const bytes = readFileSync(SQUEEZENET_NET);
    const net = await loadPrototxt(SQUEEZENET_PROTOTXT);
    // The first layer's codebook follows the header (one uint32 per conv/fc/ip layer); entry 0 is
    // the pruned weights' zero, the others are the values codes point at.
    const header = 4 * net.layers.filter((l) => (l.params.type === 'Convolution' || l.params.type === 'InnerProduct') && /conv|fc|ip/.test(l.name)).length;
    for (let k = 1; k < 256; k++) bytes.writeFloatLE(Number.NaN, header + 4 * k);
    const path = join(tmp(), 'nan.net');
    writeFileSync(path, bytes);
    const r = await dyveMeasured({}, 'bench', '--model', 'squeezenet-dc', '--weights', path, '--limit', '1', '--backend', 'cpu', '--quiet');
    expectRefused(r, /nan\.net: layer 'conv1' weights\[\d+\] is NaN: the file is corrupt/);
  });

  it('100,000 nested braces in a prototxt', async () => {
    const path = join(tmp(), 'deep.prototxt');
    writeFileSync(path, `name: "deep"\n${'layer {'.repeat(100_000)}\n`);
    const r = await dyveMeasured({}, 'bench', '--model', path, '--weights', 'synthetic', '--dataset', 'cifar10', '--limit', '1', '--quiet');
    expectRefused(r, /deep\.prototxt:2:\d+: blocks nested more than 100 deep/);
  });

  it('--json into a missing folder fails before the run', async () => {
    const r = await dyveMeasured({}, 'bench', '--model', 'cifar10-quick', '--limit', '2', '--json', join(tmp(), 'missing', 'r.json'), '--quiet');
    expectRefused(r, /--json .*r\.json: the folder .*missing does not exist/);
  });

  it('--limit -1', async () => {
    const r = await dyveMeasured({}, 'bench', '--model', 'cifar10-quick', '--limit', '-1', '--quiet');
    expectRefused(r, /--limit takes a whole number >= 1, found '-1'/);
  });

  it('--threads 999 runs on the cores there are and says so', async () => {
    const r = await dyveMeasured({}, 'bench', '--model', 'cifar10-quick', '--limit', '2', '--threads', '999', '--backend', 'wasm', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/--threads 999 is more than the \d+ cores? available: running \d+ threads?/);
    expect(r.seconds).toBeLessThan(MAX_SECONDS);
    expect(r.rssMb).toBeLessThan(MAX_RSS_MB);
  });
});
