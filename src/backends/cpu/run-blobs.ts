import { NetworkError } from '../../errors.js';
import type { Layer, Network } from '../../ir/network.js';

/**
 * The blobs of one run through a network, layer after layer: each layer's inputs, its outputs,
 * and every blob dropped right after its last reader (unless all are kept). Shared by the CPU
 * backend's loop and the parallel backend's loop that splits layers across threads.
 */
export class RunBlobs {
  private readonly blobs: Map<string, Float32Array>;
  /** Index of the last layer reading each blob name. */
  private readonly lastUse = new Map<string, number>();

  constructor(private readonly net: Network, input: Float32Array, private readonly keep: boolean) {
    this.blobs = new Map([[net.inputName, input]]);
    net.layers.forEach((layer, i) => layer.bottoms.forEach((b) => this.lastUse.set(b, i)));
  }

  /** The arrays layer `layer` reads. */
  inputsOf(layer: Layer): Float32Array[] {
    return layer.bottoms.map((b) => {
      const blob = this.blobs.get(b);
      if (!blob) throw new NetworkError(`layer '${layer.name}' reads blob '${b}', which no earlier layer produced`);
      return blob;
    });
  }

  /** Stores the outputs of layer `i` and drops the blobs no later layer reads. */
  store(layer: Layer, i: number, outputs: readonly Float32Array[]): void {
    layer.tops.forEach((t, j) => this.blobs.set(t, outputs[j]));
    for (const b of layer.bottoms) if (!layer.tops.includes(b)) this.release(b, i);
    for (const t of layer.tops) this.release(t, i);
  }

  /** The network's output blob. */
  output(): Float32Array {
    const output = this.blobs.get(this.net.outputName);
    if (!output) throw new NetworkError(`network '${this.net.name}' never produces its output blob '${this.net.outputName}'`);
    return output;
  }

  /** Every blob of the run, when they are kept. */
  kept(): Map<string, Float32Array> | undefined {
    return this.keep ? this.blobs : undefined;
  }

  private release(name: string, i: number): void {
    if (!this.keep && name !== this.net.outputName && (this.lastUse.get(name) ?? -1) <= i) this.blobs.delete(name);
  }
}
