import type { Layer } from '../../ir/network.js';

/**
 * MACs the dense layer performs for `batch` images, from its shapes alone: for a convolution
 * batch x outC x outH x outW x (inC / group) x kh x kw, for an inner product batch x out x in,
 * 0 for every other layer. Padding taps count (they are multiplications by zero on the dense path).
 */
export function denseMacs(layer: Layer, batch: number): number {
  const p = layer.params;
  if (p.type === 'Convolution') {
    const input = layer.inputShapes[0];
    const out = layer.outputShapes[0];
    return batch * out.c * out.h * out.w * (input.c / p.conv.group) * p.conv.kernelH * p.conv.kernelW;
  }
  if (p.type === 'InnerProduct') {
    const input = layer.inputShapes[0];
    return batch * p.ip.numOutput * input.c * input.h * input.w;
  }
  return 0;
}
