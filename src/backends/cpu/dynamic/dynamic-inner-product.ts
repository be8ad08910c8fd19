/**
 * Dynamic-effort inner product: SPET on a fully connected layer (SDSS and SFMA need feature maps
 * of an output and do not apply). The layer is seen as a convolution whose kernel is the whole
 * input map (geometry.ts): a "channel" of SPET is an input channel of the C x H x W input blob
 * (its H x W weights), so an FC fed by a conv/pool blob ranks channels, one fed by another FC
 * ranks single inputs (H = W = 1).
 *
 * REFERENCE: the per-neuron loops of reference-convolution.ts on that geometry. FAST: per output
 * o, the batch's images 4 at a time share each weight load; first the significant channels of
 * every image, the termination test, then the rest channels for the surviving images only. Same
 * per-neuron order as the reference (bias, then per channel a tap sum from 0 added to the sum;
 * without SPET every term in sequence), hence the same decisions.
 *
 * Counting: MACs = taps of the channels evaluated per (image, output); otherOps = one per bias add,
 * SPET tests and exact-mode ranges as in spet.ts.
 */
import { NEURON_SPET_TERMINATED } from '../../../records/decisions.js';
import { type LayerCounters } from '../../../records/counters.js';
import type { Layer } from '../../../ir/network.js';
import { NetworkError } from '../../../errors.js';
import { checkLayerEffort } from '../../../effort/knob-rules.js';
import { runDynamicLayer, type DynamicLayerOptions } from './dynamic-convolution.js';
import { innerProductGeometry } from '../../../mechanisms/geometry.js';
import type { CallState } from './run-state.js';
import { restBound, spetTerminates, spetTestOps } from '../../../mechanisms/spet.js';

/**
 * Runs an InnerProduct layer with the SPET knobs of `effort` on `batch` images. Adds what it
 * executed to `counts` and fills counts.mechanisms; `decisions`, when given, receives which
 * outputs SPET terminated (as for convolutionDynamic). SDSS and SFMA do not apply.
 *
 * @throws NetworkError when `effort` asks for SDSS or SFMA, or on invalid knobs; DataError on a
 * wrong input size.
 */
export function innerProductDynamic(
  layer: Layer, inputs: readonly Float32Array[], batch: number, counts: LayerCounters, options: DynamicLayerOptions,
): Float32Array[] {
  checkLayerEffort(layer, options.effort);
  if (options.reluSlope !== undefined) throw new NetworkError(`layer '${layer.name}': only a tile-mode kernel runs a fused ReLU`);
  return runDynamicLayer(layer, innerProductGeometry(layer), inputs, batch, counts, { ...options, rectified: false }, innerProductFast);
}

/**
 * Adds, for images imgs[from .. to), the listed channels' terms to acc: per channel a tap sum from
 * 0 (the SPET order), or every term straight to the sum when `flat` (the SPET-free order).
 */
function accumulate(
  w: Float32Array, x: Float32Array, wRow: number, inSize: number, T: number, flat: boolean,
  channels: Int32Array, chFrom: number, chTo: number, imgs: Int32Array, from: number, to: number, acc: Float64Array,
): void {
  if (flat) {
    for (let i = from; i < to; i++) {
      const xb = imgs[i] * inSize;
      let a = acc[i];
      for (let k = chFrom; k < chTo; k++) {
        const off = channels[k] * T;
        for (let t = off; t < off + T; t++) a += w[wRow + t] * x[xb + t];
      }
      acc[i] = a;
    }
    return;
  }
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const x0 = imgs[i] * inSize;
    const x1 = imgs[i + 1] * inSize;
    const x2 = imgs[i + 2] * inSize;
    const x3 = imgs[i + 3] * inSize;
    let a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
    for (let k = chFrom; k < chTo; k++) {
      const off = channels[k] * T;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let t = off; t < off + T; t++) {
        const v = w[wRow + t];
        s0 += v * x[x0 + t];
        s1 += v * x[x1 + t];
        s2 += v * x[x2 + t];
        s3 += v * x[x3 + t];
      }
      a0 += s0;
      a1 += s1;
      a2 += s2;
      a3 += s3;
    }
    acc[i] = a0;
    acc[i + 1] = a1;
    acc[i + 2] = a2;
    acc[i + 3] = a3;
  }
  for (; i < to; i++) {
    const xb = imgs[i] * inSize;
    let a = acc[i];
    for (let k = chFrom; k < chTo; k++) {
      const off = channels[k] * T;
      let s = 0;
      for (let t = off; t < off + T; t++) s += w[wRow + t] * x[xb + t];
      a += s;
    }
    acc[i] = a;
  }
}

function innerProductFast(state: CallState, x: Float32Array, counts: LayerCounters): Float32Array {
  const { geom, batch, spet, tally } = state;
  const { outC, cpg, taps: T, inSize } = geom;
  const { weight, bias } = state.w;
  const y = new Float32Array(batch * outC);
  const acc = new Float64Array(batch);
  const imgs = new Int32Array(batch);
  const ops = new Float64Array(1);
  const all = new Int32Array(cpg);
  for (let c = 0; c < cpg; c++) all[c] = c;
  for (let o = 0; o < outC; o++) {
    const wRow = o * inSize;
    for (let n = 0; n < batch; n++) {
      acc[n] = bias ? bias[o] : 0;
      imgs[n] = n;
    }
    if (bias) counts.otherOps += batch;
    if (!spet) {
      accumulate(weight, x, wRow, inSize, T, true, all, 0, cpg, imgs, 0, batch, acc);
      counts.macsExecuted += batch * cpg * T;
      for (let n = 0; n < batch; n++) y[n * outC + o] = acc[n];
      continue;
    }
    accumulate(weight, x, wRow, inSize, T, false, spet.sigChannels, o * spet.nSig, (o + 1) * spet.nSig, imgs, 0, batch, acc);
    counts.macsExecuted += batch * spet.nSig * T;
    let survivors = 0;
    for (let n = 0; n < batch; n++) {
      const bound = state.exact ? restBound(spet, cpg, o, null, 0, state.range, 2 * n * cpg, ops) : 0;
      if (spetTerminates(state.exact, state.threshold, acc[n], bound)) {
        y[n * outC + o] = 0;
        if (state.trace) state.trace[n * outC + o] = NEURON_SPET_TERMINATED;
      } else {
        acc[survivors] = acc[n];
        imgs[survivors] = n;
        survivors++;
      }
    }
    tally.spetNeurons += batch;
    tally.spetTerminated += batch - survivors;
    counts.otherOps += batch * spetTestOps(state.exact) + ops[0];
    ops[0] = 0;
    accumulate(weight, x, wRow, inSize, T, false, spet.restChannels, o * spet.nRest, (o + 1) * spet.nRest, imgs, 0, survivors, acc);
    counts.macsExecuted += survivors * spet.nRest * T;
    for (let k = 0; k < survivors; k++) y[imgs[k] * outC + o] = acc[k];
  }
  return y;
}
