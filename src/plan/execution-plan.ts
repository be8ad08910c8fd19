/**
 * The execution plan: what every executor (the CPU backend, the threaded backend, the WebGPU
 * scheduler) must know about a network run with an effort profile, worked out once — layer
 * order, which ReLU may be fused into the layer before it, when each blob can be dropped, whether
 * a layer's output reaches the network only through a ReLU, each layer's validated knobs and its
 * dense MACs. Executors read it; none derives these facts again.
 */
import { hasEffort, type LayerEffort } from '../effort/effort.js';
import { checkLayerEffort } from '../effort/knob-rules.js';
import type { EffortProfile } from '../effort/profile.js';
import { layerMacs } from '../ir/layer-metrics.js';
import { isConvOrInnerProduct, type Layer, type LayerType, type Network, type Shape } from '../ir/network.js';
import { feedsRelu, residualSum, type ResidualSum } from '../ir/relu-reach.js';

/** One layer of a plan. */
export interface PlannedLayer {
  /** Position in the plan's layers (execution order). */
  readonly index: number;
  readonly layer: Layer;
  /** The layer's knobs, validated (knob-rules.ts); absent when the layer runs dense. */
  readonly effort?: LayerEffort;
  /**
   * The layer's output reaches the graph only through a ReLU (feedsRelu): SDSS may compare
   * rectified values, SPET may write 0 for a neuron it predicts negative.
   */
  readonly rectified: boolean;
  /**
   * SPET through a residual sum (residualSum): a Convolution with SPET knobs whose output a ReLU
   * decides only after an Eltwise adds `addend` to it. Its SPET tests partial + bias + addend[n]
   * (the addend blob indexed like the output) and stores -addend[n] for a terminated neuron, so the
   * sum is exactly 0. Absent otherwise (also when SPET is off: then nothing reads the addend).
   */
  readonly residual?: ResidualSum;
  /**
   * Index of the ReLU right after this Convolution / InnerProduct that alone reads its output
   * (never a graph output): an executor may run it inside this layer. With effort knobs only a
   * plain ReLU (slope 0) qualifies, since the dynamic kernels store rectified values.
   */
  readonly fusedRelu?: number;
  /** Dense MACs for one image (the layer registry's formula). */
  readonly macsPerImage: number;
  /** Blobs that no later layer reads once this layer has run (graph outputs never appear). */
  readonly releases: readonly string[];
}

/** The layers to plan, the blobs fed from outside, the blobs the caller reads back. */
export interface PlanGraph {
  readonly layers: readonly Layer[];
  readonly inputs: ReadonlyMap<string, Shape>;
  readonly outputs: readonly string[];
}

/** A compiled plan: see the module comment. */
export interface ExecutionPlan {
  readonly graph: PlanGraph;
  /** One entry per layer of the graph, in execution order. */
  readonly steps: readonly PlannedLayer[];
  /** Whether any layer runs with effort knobs. */
  readonly dynamic: boolean;
  /** Index of the last layer reading each blob (Infinity for graph outputs). */
  readonly lastReader: ReadonlyMap<string, number>;
}

/**
 * Layers without MACs whose kernels may apply a following ReLU as they store (WebGPU does: a
 * residual sum or a batch normalization then ReLU is one pass over memory instead of two).
 */
const STORES_RELU: ReadonlySet<LayerType> = new Set(['Eltwise', 'Scale', 'PReLU']);

/**
 * Compiles the plan of a graph. `effort`: knobs per layer name (validated here, once); `rectified`:
 * whether a layer's output reaches the graph only through a ReLU; `residual`: the residual sum a
 * Convolution feeds, when it is not rectified (residualSum).
 *
 * @throws NetworkError when a knob is out of range or its mechanism does not apply to its layer.
 */
export function compilePlan(
  graph: PlanGraph, effort: Readonly<Record<string, LayerEffort>>, rectified: (layer: Layer) => boolean,
  residual: (layer: Layer) => ResidualSum | null = () => null,
): ExecutionPlan {
  const { layers, outputs } = graph;
  const lastReader = new Map<string, number>();
  const readers = new Map<string, number>();
  layers.forEach((layer, i) => {
    for (const b of layer.bottoms) {
      lastReader.set(b, i);
      readers.set(b, (readers.get(b) ?? 0) + 1);
    }
  });
  for (const out of outputs) lastReader.set(out, Infinity);
  const steps = layers.map((layer, index): PlannedLayer => {
    const knobs = effort[layer.name];
    const dynamic = hasEffort(knobs);
    if (dynamic) checkLayerEffort(layer, knobs);
    const next = layers[index + 1];
    const top = layer.tops[0];
    const fusable = (isConvOrInnerProduct(layer) || STORES_RELU.has(layer.params.type)) && layer.tops.length === 1 && next?.params.type === 'ReLU' && next.bottoms[0] === top
      && readers.get(top) === 1 && !outputs.includes(top) && (!dynamic || next.params.relu.negativeSlope === 0);
    const releases = [...new Set([...layer.bottoms, ...layer.tops])].filter((b) => (lastReader.get(b) ?? -1) <= index);
    const isRectified = isConvOrInnerProduct(layer) && rectified(layer);
    const sum = dynamic && knobs.spet && !isRectified ? residual(layer) : null;
    return {
      index, layer, rectified: isRectified, macsPerImage: layerMacs(layer), releases,
      ...(dynamic && { effort: knobs }), ...(fusable && { fusedRelu: index + 1 }), ...(sum && { residual: sum }),
    };
  });
  return { graph, steps, dynamic: steps.some((s) => s.effort), lastReader };
}

/** A network as a plan graph: its input, its layers, its output. */
export function networkGraph(net: Network): PlanGraph {
  return { layers: net.layers, inputs: new Map([[net.inputName, net.inputShape]]), outputs: [net.outputName] };
}

const plans = new WeakMap<Network, WeakMap<object, ExecutionPlan>>();
/** The cache key of "no profile". */
const DENSE_KEY = {};

/**
 * The plan of `net` with `profile` (absent: dense), compiled on first use and kept for as long as
 * both objects live, so executors ask for it on every run.
 */
export function planNetwork(net: Network, profile?: EffortProfile): ExecutionPlan {
  let byProfile = plans.get(net);
  if (!byProfile) plans.set(net, (byProfile = new WeakMap()));
  const key = profile ?? DENSE_KEY;
  let plan = byProfile.get(key);
  if (!plan) {
    plan = compilePlan(networkGraph(net), profile?.layers ?? {}, (layer) => feedsRelu(net, layer), (layer) => residualSum(net, layer));
    byProfile.set(key, plan);
  }
  return plan;
}
