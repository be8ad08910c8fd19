/**
 * The map-statistics pass both dynamic encoders (per-neuron dynamic.ts, tile mode dynamic-tile.ts)
 * run before their convolution when SFMA or exact SPET is on: per image and input map, its mean
 * and whether SFMA drops it, and its value range (shaders/dynamic/map-statistics.wgsl).
 */
import type { LayerEffort } from '../../../effort/effort.js';
import type { Layer } from '../../../ir/network.js';
import { grid1d, type EncodeContext, type LayerRecord } from '../encode-context.js';
import { packUniforms } from '../uniforms.js';

/** Where the pass writes in the layer's f32 run buffer (offsets in 4-byte words). */
export interface MapStatisticsOffsets {
  readonly keepAt: number;
  readonly meanAt: number;
  readonly rangeAt: number;
}

/**
 * Encodes the pass over the `maps` = batch x inC input maps of `x` into `run`; with SFMA on, the
 * layer's record reads SFMA's decisions from the pass's counter slot.
 */
export async function encodeMapStatistics(
  ctx: EncodeContext, layer: Layer, effort: LayerEffort, x: GPUBuffer, run: GPUBuffer, maps: number, planeSize: number,
  at: MapStatisticsOffsets, rec: LayerRecord,
): Promise<void> {
  const k = await ctx.kernel('dynamic/map-statistics');
  const slot = ctx.slot();
  const params = ctx.uniform(packUniforms('dynamic/map-statistics', {
    planeSize, maps, epsilon: effort.sfma?.epsilon ?? 0, sfma: Boolean(effort.sfma), keepAt: at.keepAt, meanAt: at.meanAt, rangeAt: at.rangeAt, slot,
  }), layer.name);
  const workgroups = grid1d(maps, k.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  ctx.push({ op: 'dispatch', layer: layer.name, kernel: k, bindGroup: ctx.bind(k, [params, x, run, ctx.stats]), workgroups, slot });
  if (effort.sfma) {
    rec.statsSlot = slot;
    rec.sfmaMaps = maps;
  }
}
