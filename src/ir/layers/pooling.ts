import type { LayerParams, PoolingParams } from '../network.js';
import { booleanOr, layerError, optionalNumber, pair, requirePositive, subMessage, type LayerDefinition } from './layer-definition.js';

type Pool = Extract<LayerParams, { type: 'Pooling' }>;

/**
 * Output size of a pooling along one axis: rounded up as Caffe does (or down, `ceilMode` false, as
 * ONNX does by default), then clipped so that the last window starts inside the input (not in the
 * padding).
 */
export function poolOutputSize(input: number, kernel: number, stride: number, pad: number, ceilMode = true): number {
  let out = (ceilMode ? Math.ceil : Math.floor)((input + 2 * pad - kernel) / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= input + pad) out--;
  return out;
}

export const pooling: LayerDefinition<Pool> = {
  type: 'Pooling',
  v1Names: ['POOLING'],
  bottoms: [1, 1],
  tops: [1, 1],
  parse(layer, ctx) {
    const p = subMessage(layer, 'pooling_param');
    const method = (p.pool as string | undefined) ?? 'MAX';
    if (method !== 'MAX' && method !== 'AVE') {
      throw layerError(ctx, `pooling method ${method} is not supported at inference (supported: MAX, AVE)`);
    }
    const global = booleanOr(p, 'global_pooling', false);
    const hasKernel = optionalNumber(p, 'kernel_size') !== undefined || optionalNumber(p, 'kernel_h') !== undefined;
    if (!global && !hasKernel) throw layerError(ctx, 'pooling_param needs kernel_size (or kernel_h/kernel_w, or global_pooling: true)');
    if (global && hasKernel) throw layerError(ctx, 'global_pooling takes the whole map: do not also give kernel_size');
    const [kernelH, kernelW] = global ? [0, 0] : pair(p, 'kernel_size', 'kernel', undefined, ctx).map((v) => requirePositive(v, 'kernel size', ctx));
    const [strideH, strideW] = pair(p, 'stride', 'stride', 1, ctx).map((v) => requirePositive(v, 'stride', ctx));
    const [padH, padW] = pair(p, 'pad', 'pad', 0, ctx);
    if (global && (padH !== 0 || padW !== 0 || strideH !== 1 || strideW !== 1)) {
      throw layerError(ctx, 'global_pooling requires pad 0 and stride 1');
    }
    if (!global && (padH >= kernelH || padW >= kernelW)) throw layerError(ctx, 'pad must be smaller than the kernel');
    const pool: PoolingParams = { method: method === 'MAX' ? 'max' : 'ave', kernelH, kernelW, strideH, strideW, padH, padW, global, ceilMode: true };
    return { type: 'Pooling', pool };
  },
  outputShapes({ pool }, [input], _tops, ctx) {
    if (pool.global) return [{ c: input.c, h: 1, w: 1 }];
    if (pool.kernelH > input.h + 2 * pool.padH || pool.kernelW > input.w + 2 * pool.padW) {
      throw layerError(ctx, `kernel ${pool.kernelH}x${pool.kernelW} is larger than its ${input.h}x${input.w} input`);
    }
    return [{
      c: input.c,
      h: poolOutputSize(input.h, pool.kernelH, pool.strideH, pool.padH, pool.ceilMode),
      w: poolOutputSize(input.w, pool.kernelW, pool.strideW, pool.padW, pool.ceilMode),
    }];
  },
  blobShapes: () => [],
  macs: () => 0,
};

/** The kernel of a pooling layer on a given input: the whole map for global pooling. */
export function poolKernel(pool: PoolingParams, input: { h: number; w: number }): [number, number] {
  return pool.global ? [input.h, input.w] : [pool.kernelH, pool.kernelW];
}
