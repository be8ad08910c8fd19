/**
 * The dense WebGPU convolution (shaders/convolution/dense.wgsl) against the CPU reference on the
 * geometries every CPU kernel is tested on, at every count of positions per invocation (the PX
 * override constant: its named accumulators and the 4-position halves it computes and stores),
 * with and without its fused ReLU. The zoo models' layers are covered by webgpu-parity.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLayer } from '../src/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { shapeSize, type Network } from '../src/ir/network.js';
import { CONV_GEOMETRY_CASES, convLayer, randomArray, reluLayer } from './helpers/synthetic-layers.js';
import { PARITY_RELATIVE_TOLERANCE, relativeError } from './tolerances.js';

const PX_VALUES = [1, 2, 3, 4, 5, 8] as const;
const backends = new Map<number, WebGpuBackend>();

beforeAll(async () => {
  for (const PX of PX_VALUES) backends.set(PX, await WebGpuBackend.create({ tuning: { 'convolution/dense': { PX, WG: 8 } } }));
});

afterAll(() => backends.forEach((b) => b.destroy()));

describe('dense WebGPU convolution equals the CPU reference', () => {
  for (const [name, input, options, batch] of [
    ...CONV_GEOMETRY_CASES,
    // A row of outputs not a multiple of 4 or 8 and more than one workgroup of positions.
    ['5x5 pad 2, 23x21, 9 outputs', { c: 3, h: 23, w: 21 }, { numOutput: 9, kernelH: 5, kernelW: 5, padH: 2, padW: 2 }, 3],
  ] as const) {
    it(`${name}, PX ${PX_VALUES.join(' / ')}`, async () => {
      const conv = convLayer(input, options, 5);
      const x = randomArray(batch * shapeSize(input), 11, 2);
      const ref = runLayer(conv, [x], batch, { kernels: 'reference' }).outputs[0];
      for (const PX of PX_VALUES) {
        const out = (await backends.get(PX)!.runLayer(conv, [x], batch)).outputs[0];
        const err = relativeError(out, ref);
        expect(err, `PX ${PX}: relative error ${err}`).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
      }
    });
  }

  it('with a fused ReLU (negative slope 0 and 0.1), PX 3 and 8', async () => {
    const input = { c: 4, h: 11, w: 10 };
    const conv = { ...convLayer(input, { numOutput: 6, kernelH: 3, kernelW: 3, padH: 1, padW: 1 }, 9), bottoms: ['data'], tops: ['conv'] };
    const shape = conv.outputShapes[0];
    for (const slope of [0, 0.1]) {
      // Not in place: a ReLU is fused only where the convolution's own top is not a network output.
      const relu = { ...reluLayer(shape, slope), bottoms: ['conv'], tops: ['out'] };
      const net: Network = {
        name: 'conv-relu', inputName: 'data', inputShape: input, outputName: 'out', layers: [conv, relu],
        blobShapes: new Map([['data', input], ['conv', shape], ['out', shape]]), synthetic: true,
      };
      const x = randomArray(2 * shapeSize(input), 3, 2);
      const mid = runLayer(conv, [x], 2, { kernels: 'reference' }).outputs[0];
      const ref = runLayer(relu, [mid], 2, { kernels: 'reference' }).outputs[0];
      for (const PX of [3, 8]) {
        const r = await backends.get(PX)!.run(net, x, 2);
        expect(r.dispatches?.map((d) => d.kernel)).toEqual(['convolution/dense']);
        expect(relativeError(r.output, ref)).toBeLessThanOrEqual(PARITY_RELATIVE_TOLERANCE);
      }
    }
  });
});
