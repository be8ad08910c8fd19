/**
 * The `wasm` variant of a tile-mode convolution: the host side of wasm/assembly/tile-convolution.ts
 * (float32 SIMD, the dense kernels' GEMM for pass 1, listed-row micro-kernels for the survivors).
 * Per layer, the permuted weights and their packed significant prefix stay in linear memory
 * (packed once, cached like the dense weights). Per call, the host computes in float64 what the
 * tile reference computes the same way (kept order, SPET limits, SFMA corrections: tile-plan.ts,
 * sfma.ts) and counts their ops; the module counts the MACs and per-neuron ops it executes.
 */
import type { LayerCounters } from '../../../records/counters.js';
import { correctionLayout, correctionTables } from '../../../mechanisms/sfma.js';
import { spetTestOps } from '../../../mechanisms/spet.js';
import { indexRange, keptOrder, sdssTileOrder, tileRestBound, tileRestBoundOps, type TilePlan } from '../../../mechanisms/tile-plan.js';
import type { CallState } from '../dynamic/run-state.js';
import { activeWasmKernels } from './wasm-loader.js';

/** Fields of TileDesc in wasm/assembly/tile-convolution.ts, in order (32 bits each; `delta` is a float). */
const DESC_FIELDS = [
  'batch', 'x', 'y', 'inC', 'inH', 'inW', 'outC', 'outH', 'outW', 'kernelH', 'kernelW', 'strideH', 'strideW',
  'padH', 'padW', 'dilationH', 'dilationW', 'group', 'rows', 'packed', 'prefix', 'bias', 'order', 'kept', 'keptPrefix',
  'keptPositions', 'spet', 'limits', 'corr', 'addend', 'list', 'listCount', 'sdss', 'others', 'othersCount', 'neighbours', 'testOps',
  'delta', 'rectified', 'tile', 'neuronOps', 'trace', 'counters', 'sdssCounters', 'hwcRows', 'scratch',
] as const;
type DescField = (typeof DESC_FIELDS)[number];

const NONE = new Int32Array(0);
const NO_OPS = new Uint8Array(0);
/**
 * Runs a tile-mode Convolution with the WebAssembly kernels (a TileModeKernel; initWasmKernels()
 * must have completed); `reluSlope`: the following ReLU on the output in linear memory, as
 * convolutionWasm.
 */
export function tileConvolutionWasm(
  state: CallState, plan: TilePlan, tilePositions: number, x: Float32Array, counts: LayerCounters, reluSlope?: number,
): Float32Array {
  const { geom, batch, tally, trace } = state;
  const { inC, outC, cpg, m, group, taps, positions, outW, outSize } = geom;
  const spetOn = state.spet !== null;
  const prefix = spetOn ? plan.nSig : cpg;
  const wasm = activeWasmKernels();
  const { exports } = wasm;
  const rowBytes = plan.permuted.length * 4;
  // The rows, then per group the significant prefix and the rest in row panels (m x its K), then
  // the rows channels last (the small tiles' dots: transposing them per call cost conv2 a quarter
  // of its time at batch 1).
  const packed = wasm.packedWeights(plan.permuted, state.w.bias, outC, `tile ${prefix}`, 3 * rowBytes, (src, dst) => {
    new Uint8Array(exports.memory.buffer).copyWithin(dst, src, src + rowBytes);
    for (let g = 0; g < group; g++) {
      const rows = src + g * m * cpg * taps * 4;
      const at = dst + rowBytes + g * m * cpg * taps * 4;
      exports.packRowPanels(rows, m, prefix * taps, cpg * taps, at);
      exports.packRowPanels(rows + prefix * taps * 4, m, (cpg - prefix) * taps, cpg * taps, at + m * prefix * taps * 4);
      exports.channelsLastRows(rows, cpg * taps * 4, m, cpg, taps, dst + 2 * rowBytes + g * m * cpg * taps * 4);
    }
  });

  // Per image and group: kept order, SPET limits, SFMA corrections (float64, as the reference).
  const kept = new Int32Array(batch * group);
  const keptPrefix = new Int32Array(batch * group);
  const keptPositions = new Int32Array(batch * group * cpg);
  const limits = new Float32Array(batch * outC);
  const anyDropped = state.sfmaOn && state.droppedLists.some((d) => d.length > 0);
  const corr = anyDropped ? new Float32Array(batch * outC * positions) : null;
  // SFMA's correction tables, only where maps were dropped (a batch of one pays per call).
  const layout = corr ? correctionLayout(geom) : null;
  const nClasses = layout ? layout.nRowClasses * layout.nColClasses : 0;
  const table = new Float64Array(m * nClasses);
  const kScratch = new Float64Array(corr ? taps : 0);
  let ops = 0;
  for (let img = 0; img < batch; img++) {
    for (let g = 0; g < group; g++) {
      const ig = img * group + g;
      const order = keptOrder(plan, cpg, g, state.sfmaOn ? state.dropped : null, img * inC);
      kept[ig] = order.channels.length;
      keptPrefix[ig] = spetOn ? order.nPrefix : order.channels.length;
      keptPositions.set(order.positions, ig * cpg);
      for (let o = g * m; o < (g + 1) * m; o++) {
        if (spetOn && state.exact) {
          limits[img * outC + o] = -tileRestBound(plan, cpg, o, order, state.range, 2 * (img * inC + g * cpg));
          ops += tileRestBoundOps(order);
        } else {
          limits[img * outC + o] = state.thresholds ? state.thresholds[o] : state.threshold;
        }
      }
      const dropList = state.droppedLists[ig];
      if (corr && layout && dropList.length > 0) {
        ops += correctionTables(state.w.weight, geom, layout, g * m, m, dropList, dropList.length, state.means, img * inC + g * cpg, table, kScratch);
        for (let o = 0; o < m; o++) {
          const at = (img * outC + g * m + o) * positions;
          for (let p = 0; p < positions; p++) {
            const oy = Math.floor(p / outW);
            corr[at + p] = table[o * nClasses + layout.rowClass[oy] * layout.nColClasses + layout.colClass[p - oy * outW]];
          }
        }
      }
    }
  }
  const order = state.sdssStride > 0 ? sdssTileOrder(geom.outH, outW, state.sdssStride, state.sdssPattern) : null;
  const list = order ? order.grid : indexRange(positions);
  const others = order ? order.others : NONE;
  const neighbours = order ? order.neighbours : null;
  const testOps = order ? order.testOps : NO_OPS;

  const mem = wasm.memory;
  const scratch = mem.scratch();
  const desc = scratch.take(DESC_FIELDS.length * 4);
  const put = (values: ArrayBufferView & ArrayLike<number>): number => {
    const at = scratch.take(values.byteLength);
    new Uint8Array(exports.memory.buffer, at, values.byteLength).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return at;
  };
  const xAt = put(x);
  const yAt = scratch.take(batch * outSize * 4);
  const traceAt = trace ? scratch.take(batch * outSize) : 0;
  const countersAt = scratch.take(6 * 8);
  const values: Record<Exclude<DescField, 'delta' | 'scratch'>, number> = {
    batch, x: xAt, y: yAt, inC, inH: geom.inH, inW: geom.inW, outC, outH: geom.outH, outW,
    kernelH: geom.kernelH, kernelW: geom.kernelW, strideH: geom.strideH, strideW: geom.strideW, padH: geom.padH, padW: geom.padW,
    dilationH: geom.dilationH, dilationW: geom.dilationW, group,
    rows: packed.weights, packed: packed.weights + rowBytes, prefix, bias: packed.bias, order: put(plan.order),
    kept: put(kept), keptPrefix: put(keptPrefix), keptPositions: put(keptPositions), spet: spetOn ? 1 : 0, limits: put(limits),
    corr: corr ? put(corr) : 0, addend: state.addend ? put(state.addend) : 0, list: put(list), listCount: list.length, sdss: order ? 1 : 0, others: put(others),
    othersCount: others.length, neighbours: neighbours ? put(neighbours.neighbours) : 0, testOps: put(testOps),
    rectified: state.sdssRectified ? 1 : 0, tile: tilePositions,
    neuronOps: (state.w.bias ? 1 : 0) + (spetOn ? spetTestOps(state.exact) : 0),
    trace: traceAt, counters: countersAt, sdssCounters: countersAt + 32, hwcRows: packed.weights + 2 * rowBytes,
  };
  const i32 = mem.i32();
  DESC_FIELDS.forEach((field, i) => {
    if (field !== 'delta' && field !== 'scratch') i32[(desc >> 2) + i] = values[field];
  });
  mem.f32()[(desc >> 2) + DESC_FIELDS.indexOf('delta')] = state.sdssDelta;
  new Float64Array(exports.memory.buffer, countersAt, 6).fill(0);
  if (trace) new Uint8Array(exports.memory.buffer, traceAt, batch * outSize).fill(0);
  const work = scratch.take(exports.tileConvolutionScratchBytes(desc));
  mem.i32()[(desc >> 2) + DESC_FIELDS.indexOf('scratch')] = work;
  exports.tileConvolution(desc);
  if (reluSlope !== undefined) exports.relu(yAt, batch * outSize, reluSlope);

  const y = mem.copyOut(yAt, batch * outSize);
  const c = new Float64Array(exports.memory.buffer, countersAt, 6);
  counts.macsExecuted += c[0];
  counts.otherOps += ops + c[1] + c[5];
  tally.spetNeurons += c[2];
  tally.spetTerminated += c[3];
  tally.sdssInterpolated += c[4];
  if (order) tally.sdssOutputs += batch * outC * positions;
  if (trace) trace.set(new Uint8Array(exports.memory.buffer, traceAt, batch * outSize));
  return y;
}
