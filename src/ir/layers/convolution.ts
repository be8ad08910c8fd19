import type { NetworkError } from '../../errors.js';
import type { ConvolutionParams, LayerParams, Shape } from '../network.js';
import {
  booleanOr, layerError, numberList, numberOr, pair, requirePositive, subMessage, type LayerContext, type LayerDefinition,
} from './layer-definition.js';

type Conv = Extract<LayerParams, { type: 'Convolution' }>;

/** Output size of a convolution along one axis (Caffe: floor). */
export function convOutputSize(input: number, kernel: number, stride: number, pad: number, dilation: number): number {
  const extent = dilation * (kernel - 1) + 1;
  return Math.floor((input + 2 * pad - extent) / stride) + 1;
}

/**
 * The error for an axis whose output would be empty, naming the parameter to blame: the stride
 * cannot empty an output (Caffe's floor keeps one position whenever the window fits), so it is
 * the dilation when the undilated kernel would fit, else the kernel size (for its padded input).
 */
function emptyOutput(ctx: LayerContext, axis: 'height' | 'width', input: number, kernel: number, pad: number, dilation: number): NetworkError {
  const padded = `its padded input ${axis} ${input} + 2 x pad ${pad} = ${input + 2 * pad}`;
  if (dilation > 1 && kernel <= input + 2 * pad) {
    const extent = dilation * (kernel - 1) + 1;
    return layerError(ctx, `its output ${axis} would be empty: with dilation ${dilation} its ${kernel}-tap kernel spans ${dilation} x (${kernel} - 1) + 1 = ${extent} pixels, more than ${padded}: reduce dilation`);
  }
  return layerError(ctx, `its output ${axis} would be empty: kernel size ${kernel} is larger than ${padded}: reduce kernel_size or raise pad`);
}

export const convolution: LayerDefinition<Conv> = {
  type: 'Convolution',
  v1Names: ['CONVOLUTION'],
  bottoms: [1, 1],
  tops: [1, 1],
  parse(layer, ctx) {
    const p = subMessage(layer, 'convolution_param');
    if (p.num_output === undefined) throw layerError(ctx, 'convolution_param.num_output is required');
    if (numberOr(p, 'axis', 1) !== 1) throw layerError(ctx, 'only axis: 1 (channels) is supported');
    const [kernelH, kernelW] = pair(p, 'kernel_size', 'kernel', undefined, ctx).map((v) => requirePositive(v, 'kernel size', ctx));
    const [strideH, strideW] = pair(p, 'stride', 'stride', 1, ctx).map((v) => requirePositive(v, 'stride', ctx));
    const [padH, padW] = pair(p, 'pad', 'pad', 0, ctx);
    const dil = numberList(p, 'dilation');
    if (dil.length > 2) throw layerError(ctx, 'only 2-D dilation is supported');
    const dilationH = requirePositive(dil[0] ?? 1, 'dilation', ctx);
    const dilationW = requirePositive(dil[1] ?? dil[0] ?? 1, 'dilation', ctx);
    const conv: ConvolutionParams = {
      numOutput: requirePositive(p.num_output as number, 'num_output', ctx),
      kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW,
      group: requirePositive(numberOr(p, 'group', 1), 'group', ctx),
      biasTerm: booleanOr(p, 'bias_term', true),
    };
    if (conv.numOutput % conv.group !== 0) {
      throw layerError(ctx, `num_output ${conv.numOutput} is not divisible by group ${conv.group}`);
    }
    return { type: 'Convolution', conv };
  },
  outputShapes({ conv }, [input], _tops, ctx) {
    if (input.c % conv.group !== 0) {
      throw layerError(ctx, `its input has ${input.c} channels, not divisible by group ${conv.group}`);
    }
    const h = convOutputSize(input.h, conv.kernelH, conv.strideH, conv.padH, conv.dilationH);
    const w = convOutputSize(input.w, conv.kernelW, conv.strideW, conv.padW, conv.dilationW);
    if (h <= 0) throw emptyOutput(ctx, 'height', input.h, conv.kernelH, conv.padH, conv.dilationH);
    if (w <= 0) throw emptyOutput(ctx, 'width', input.w, conv.kernelW, conv.padW, conv.dilationW);
    return [{ c: conv.numOutput, h, w }];
  },
  blobShapes({ conv }, [input]) {
    const weight = [conv.numOutput, input.c / conv.group, conv.kernelH, conv.kernelW];
    return conv.biasTerm ? [weight, [conv.numOutput]] : [weight];
  },
  macs({ conv }, [input], [output]: readonly Shape[]) {
    return output.c * output.h * output.w * (input.c / conv.group) * conv.kernelH * conv.kernelW;
  },
};
