import { layerMacs } from '../ir/layer-metrics.js';
import { isConvOrInnerProduct, shapeSize, type Layer, type Network } from '../ir/network.js';
import { feedsRelu, residualSum } from '../ir/relu-reach.js';

/**
 * The positions of one output channel that a tile holds: `positions` consecutive positions of the
 * map in row-major order (what the CPU tile mode decides on; the last tile of a map may be
 * shorter), or an aligned block of `rows` x `cols` positions (clipped at the map's edges).
 */
export type TileShape =
  | { readonly kind: 'run'; readonly positions: number }
  | { readonly kind: 'block'; readonly rows: number; readonly cols: number };

/**
 * How much SPET could ever save: the share of neurons (and of tiles) whose ReLU output is truly 0,
 * measured on a dense run, per tile shape (one output channel each); InnerProduct layers decide per
 * neuron at every shape, as tile mode runs them. Skipping exactly the all-saturated tiles, with a
 * free and perfect prediction, changes no output: the MACs those tiles hold bound what any exact
 * tile test can remove, and what an approximate one removes beyond them costs accuracy.
 */
export interface HeadroomLayer {
  readonly name: string;
  readonly type: 'Convolution' | 'InnerProduct';
  /** MACs per image (the dense layer). */
  readonly macsPerImage: number;
  /** Output neurons counted (over all images). */
  readonly neurons: number;
  /** Per tile shape (as `HeadroomCounter.shapes`): neurons in tiles whose every neuron is saturated. */
  readonly skippable: readonly number[];
}

/** A layer SPET may act on, its tiles per shape, and what was counted so far. */
interface Counted {
  readonly layer: Layer;
  /** The residual sum's other operand (the sign is of raw + addend), or null. */
  readonly addend: string | null;
  /** Positions per map: 1 for an InnerProduct (per neuron at every shape). */
  readonly positions: number;
  /** Per tile shape: the tile of every position of a map, and each tile's size. */
  readonly tiles: readonly { readonly ids: Int32Array; readonly sizes: readonly number[] }[];
  neurons: number;
  readonly skippable: number[];
}

/** Counts saturated neurons and all-saturated tiles over dense runs (kept blobs), batch by batch. */
export class HeadroomCounter {
  private readonly layers: Counted[] = [];

  /**
   * @param net The network the runs come from.
   * @param shapes The tile shapes to count (a run of 1 position = per neuron).
   */
  constructor(private readonly net: Network, readonly shapes: readonly TileShape[]) {
    const sizes = shapes.flatMap((t) => (t.kind === 'run' ? [t.positions] : [t.rows, t.cols]));
    if (sizes.some((n) => !(Number.isInteger(n) && n >= 1))) throw new RangeError(`tile sizes must be whole numbers >= 1, got ${shapes.map(tileLabel).join(', ')}`);
    // The layers SPET may act on: a ReLU decides their sign, directly or through a residual sum.
    for (const layer of net.layers) {
      if (!isConvOrInnerProduct(layer)) continue;
      const addend = feedsRelu(net, layer) ? null : residualSum(net, layer)?.addend;
      if (addend === undefined) continue;
      const { h, w } = layer.outputShapes[0];
      const perNeuron = layer.params.type === 'InnerProduct';
      const tiles = shapes.map((shape) => (perNeuron ? tileIds({ kind: 'run', positions: 1 }, 1, 1) : tileIds(shape, h, w)));
      this.layers.push({ layer, addend, positions: perNeuron ? 1 : h * w, tiles, neurons: 0, skippable: shapes.map(() => 0) });
    }
  }

  /** Adds a dense run of `batch` images: `blobs` holds every blob (a run with keepBlobs). */
  add(blobs: ReadonlyMap<string, Float32Array>, batch: number): void {
    for (const entry of this.layers) {
      const raw = blobOf(blobs, entry.layer.tops[0]);
      const addend = entry.addend === null ? null : blobOf(blobs, entry.addend);
      const { positions } = entry;
      const maps = (batch * shapeSize(entry.layer.outputShapes[0])) / positions;
      // Each neuron's sign once; every tile shape reads it.
      const saturated = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) saturated[i] = raw[i] + (addend ? addend[i] : 0) <= 0 ? 1 : 0;
      entry.tiles.forEach(({ ids, sizes }, k) => {
        const allSaturated = new Uint8Array(sizes.length);
        let skippable = 0;
        for (let map = 0; map < maps; map++) {
          const base = map * positions;
          allSaturated.fill(1);
          for (let p = 0; p < positions; p++) allSaturated[ids[p]] &= saturated[base + p];
          for (let t = 0; t < sizes.length; t++) if (allSaturated[t]) skippable += sizes[t];
        }
        entry.skippable[k] += skippable;
      });
      entry.neurons += maps * positions;
    }
  }

  /** What was counted so far, per layer SPET may act on. */
  result(): HeadroomLayer[] {
    return this.layers.map(({ layer, neurons, skippable }) => ({
      name: layer.name,
      type: layer.params.type as HeadroomLayer['type'],
      macsPerImage: layerMacs(layer),
      neurons,
      skippable: [...skippable],
    }));
  }

  /**
   * The network's MAC reduction (dense MACs / MACs left) if every all-saturated tile of size
   * `shapes[k]` were skipped, its first `prefix` of K still computed (pass 1 of a prediction
   * that reads that share of the sum; 0 = a free oracle).
   */
  bound(k: number, prefix = 0): number {
    const total = this.net.layers.reduce((s, l) => s + layerMacs(l), 0);
    const saved = this.layers.reduce((s, l) => s + (l.neurons ? (l.skippable[k] / l.neurons) * layerMacs(l.layer) * (1 - prefix) : 0), 0);
    return total / (total - saved);
  }
}

/** "neuron", "T=8" (a run), "2x4" (a block). */
export function tileLabel(shape: TileShape): string {
  if (shape.kind === 'block') return `${shape.rows}x${shape.cols}`;
  return shape.positions === 1 ? 'neuron' : `T=${shape.positions}`;
}

/** The tile of every position of an h x w map (row-major), and each tile's size. */
function tileIds(shape: TileShape, h: number, w: number): { ids: Int32Array; sizes: number[] } {
  const ids = new Int32Array(h * w);
  if (shape.kind === 'run') {
    for (let p = 0; p < ids.length; p++) ids[p] = Math.floor(p / shape.positions);
  } else {
    const across = Math.ceil(w / shape.cols);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) ids[y * w + x] = Math.floor(y / shape.rows) * across + Math.floor(x / shape.cols);
  }
  const sizes = new Array<number>(ids.length ? ids[ids.length - 1] + 1 : 0).fill(0);
  for (const id of ids) sizes[id]++;
  return { ids, sizes };
}

function blobOf(blobs: ReadonlyMap<string, Float32Array>, name: string): Float32Array {
  const blob = blobs.get(name);
  if (!blob) throw new Error(`headroom: the run kept no blob '${name}' (run with keepBlobs)`);
  return blob;
}
