/**
 * An inference engine as `dyve compare` sees it: NCHW float32 in, class scores out, on a fixed
 * number of threads. Our backends and the peers (harness/peers/) all take this shape.
 */
export const ENGINE_NAMES = ['dyvedeep-dense', 'dyvedeep-dynamic', 'dyvedeep-neuron', 'onnxruntime-node', 'onnxruntime-web', 'tfjs-wasm'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface Engine {
  readonly name: EngineName;
  readonly threads: number;
  /** `batch` images (batch x C x H x W) -> batch x classes scores. */
  run(input: Float32Array, batch: number): Promise<Float32Array>;
  /** MACs the engine executed so far, when it counts them (ours); peers execute the dense MACs. */
  executedMacs?(): number;
  /** Threads that worked on the last run, when the engine knows (ours); peers use `threads`. */
  threadsUsed?(): number;
  /**
   * Seconds the last run took where the engine ran it, when it runs in a worker of its own (ours:
   * around `backend.run`, the call an application makes); otherwise the caller's clock is used.
   */
  lastRunSeconds?(): number;
  close(): Promise<void>;
}
