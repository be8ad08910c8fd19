/**
 * Caffe pooling with TF.js pooling ops, exactly.
 *
 * Caffe and TF.js disagree in two places (see src/backends/cpu/reference/pooling.ts for Caffe's):
 * - Output size. Caffe rounds up (then drops a last window that would start in the padding);
 *   TF.js with explicit pads rounds down. The emulation pads the bottom and right by what Caffe's
 *   last window needs: (out - 1) x stride + kernel - in - pad, which can exceed `pad` (the ceil
 *   extension). Where that is negative the last rows are in no window: TF.js then yields extra
 *   rows, sliced off.
 * - AVE divisor. Caffe divides by the window clipped to the padded input (padding counts, the ceil
 *   extension does not); TF.js (XNNPACK) divides by the input elements inside the window. Their
 *   ratio is a constant map, computed here once; the output is multiplied by it where it is not 1
 *   everywhere (only AVE layers with pad > 0).
 * MAX needs no divisor: XNNPACK, like Caffe, takes the maximum over the input elements of the
 * window only, and every Caffe window holds at least one (its last starts inside the input).
 * Global pooling is one window over the whole map.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import { poolKernel } from '../../src/ir/layers/pooling.js';
import type { Layer, PoolingParams } from '../../src/ir/network.js';
import type { Tf } from './tfjs-wasm-runtime.js';
import type { TfjsLayer } from './tfjs-layer-form.js';

/** Caffe's AVE divisor over TF.js's, per output position (row-major outH x outW), or undefined when all are 1. */
export function averageCorrection(pool: PoolingParams, input: { h: number; w: number }, out: { h: number; w: number }): Float32Array | undefined {
  const [kernelH, kernelW] = poolKernel(pool, input);
  // Along one axis: [caffe extent, input extent] of window i.
  const extents = (i: number, stride: number, pad: number, kernel: number, size: number): [number, number] => {
    const start = i * stride - pad;
    const end = Math.min(start + kernel, size + pad);
    return [end - start, Math.min(end, size) - Math.max(start, 0)];
  };
  const ratio = new Float32Array(out.h * out.w);
  let allOne = true;
  for (let y = 0; y < out.h; y++) {
    const [caffeH, realH] = extents(y, pool.strideH, pool.padH, kernelH, input.h);
    for (let x = 0; x < out.w; x++) {
      const [caffeW, realW] = extents(x, pool.strideW, pool.padW, kernelW, input.w);
      const r = (realH * realW) / (caffeH * caffeW);
      ratio[y * out.w + x] = r;
      if (r !== 1) allOne = false;
    }
  }
  return allOne ? undefined : ratio;
}

/** A Pooling layer as one TF.js pooling op (plus a slice or a multiply where Caffe needs them). */
export function poolingLayer(tf: Tf, layer: Layer, pool: PoolingParams): TfjsLayer {
  const input = layer.inputShapes[0];
  const out = layer.outputShapes[0];
  const [kernelH, kernelW] = poolKernel(pool, input);
  const strides: [number, number] = [pool.strideH, pool.strideW];
  const padTop = pool.global ? 0 : pool.padH;
  const padLeft = pool.global ? 0 : pool.padW;
  const padBottom = (out.h - 1) * pool.strideH + kernelH - input.h - padTop;
  const padRight = (out.w - 1) * pool.strideW + kernelW - input.w - padLeft;
  const crop = padBottom < 0 || padRight < 0;
  const pads: [[number, number], [number, number], [number, number], [number, number]] =
    [[0, 0], [padTop, Math.max(0, padBottom)], [padLeft, Math.max(0, padRight)], [0, 0]];
  const pad = pads.every(([a, b]) => a === 0 && b === 0) ? 'valid' : pads;
  const ratio = pool.method === 'ave' ? averageCorrection(pool, input, out) : undefined;
  const correction = ratio ? tf.keep(tf.tensor4d(ratio, [1, out.h, out.w, 1])) : undefined;

  return {
    run([x]) {
      let y = pool.method === 'max'
        ? tf.maxPool(x, [kernelH, kernelW], strides, pad)
        : tf.avgPool(x, [kernelH, kernelW], strides, pad);
      if (crop) y = tf.slice(y, [0, 0, 0, 0], [-1, out.h, out.w, -1]);
      if (correction) y = tf.mul(y, correction);
      return [y as TfCore.Tensor4D];
    },
    dispose: () => correction?.dispose(),
  };
}
