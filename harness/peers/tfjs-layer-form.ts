/**
 * What a layer's TF.js form offers the graph (tfjs-graph.ts), and the activation a convolution or
 * inner product fuses. Apart from tfjs-layer.ts, the table that picks a form per layer type, so
 * that the files of the forms and the table do not import each other.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type { ReluParams } from '../../src/ir/network.js';

type Tensor4D = TfCore.Tensor4D;

/** A layer ready to run: bottoms in, tops out, all NHWC. */
export interface TfjsLayer {
  /** Runs on the layer's bottoms; returns one tensor per top (an input itself for identities). */
  run(inputs: readonly Tensor4D[]): Tensor4D[];
  /** Frees the weights it uploaded. */
  dispose(): void;
}

/** The activation a fused op applies, in TF.js's terms (`tf.fused.*`). */
export interface FusedActivation {
  readonly activation: 'linear' | 'relu' | 'leakyrelu';
  readonly leakyreluAlpha?: number;
}

/** A ReLU layer folded into the op before it, or none. */
export function fusedActivation(relu: ReluParams | undefined): FusedActivation {
  if (!relu) return { activation: 'linear' };
  return relu.negativeSlope === 0 ? { activation: 'relu' } : { activation: 'leakyrelu', leakyreluAlpha: relu.negativeSlope };
}
