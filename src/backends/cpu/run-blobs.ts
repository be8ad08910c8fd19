import { NetworkError } from '../../errors.js';
import type { Layer, Network } from '../../ir/network.js';
import type { PlannedLayer } from '../../plan/execution-plan.js';
import { blobPool } from './blob-pool.js';

/**
 * The blobs of one run through a network, step after step of its plan: each layer's inputs, its
 * outputs, and every blob dropped right after its last reader (the plan's `releases`), unless all
 * are kept. A dropped blob's array goes back to the blob pool (blob-pool.ts) when no other blob
 * shares its memory (layers that pass their input on) and the run neither observes its layers'
 * outputs nor was given it as its input. Shared by the CPU backend's loop and the parallel
 * backend's loop that splits layers across threads.
 */
export class RunBlobs {
  private readonly blobs: Map<string, Float32Array>;

  /**
   * @param keep keep every blob (RunResult.blobs)
   * @param observed something outside the run sees the layers' outputs (an onLayer callback):
   *   nothing goes back to the pool
   */
  constructor(
    private readonly net: Network, private readonly input: Float32Array, private readonly keep: boolean, private readonly observed: boolean,
  ) {
    this.blobs = new Map([[net.inputName, input]]);
  }

  /** The arrays layer `layer` reads. */
  inputsOf(layer: Layer): Float32Array[] {
    return layer.bottoms.map((b) => {
      const blob = this.blobs.get(b);
      if (!blob) throw new NetworkError(`layer '${layer.name}' reads blob '${b}', which no earlier layer produced`);
      return blob;
    });
  }

  /**
   * The residual sum's other operand that a step's SPET reads (PlannedLayer.residual), or
   * undefined when the step has none.
   */
  addendOf(step: PlannedLayer): Float32Array | undefined {
    if (!step.residual) return undefined;
    const blob = this.blobs.get(step.residual.addend);
    if (!blob) throw new NetworkError(`layer '${step.layer.name}' reads blob '${step.residual.addend}' (its residual sum's other operand), which is not available`);
    return blob;
  }

  /** Stores the outputs of a step's layer and drops the blobs no later layer reads. */
  store(step: PlannedLayer, outputs: readonly Float32Array[]): void {
    step.layer.tops.forEach((t, j) => this.blobs.set(t, outputs[j]));
    if (this.keep) return;
    for (const b of step.releases) {
      const array = this.blobs.get(b);
      this.blobs.delete(b);
      if (array && !this.observed && !this.sharesMemory(array)) blobPool.give(array);
    }
  }

  /** Whether a live blob or the run's input uses the memory of `array`. */
  private sharesMemory(array: Float32Array): boolean {
    if (array.buffer === this.input.buffer) return true;
    for (const blob of this.blobs.values()) if (blob.buffer === array.buffer) return true;
    return false;
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
}
