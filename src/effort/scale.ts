/**
 * One knob for a whole profile: the effort scale s. s = 0 is dense, s = 1 the profile as given
 * (usually calibrated), s > 1 pushes every knob further in the direction that saves work. The
 * demo's slider and accuracy-vs-ops plot walk this line; it is a view of one profile, not a new
 * calibration, so only s <= 1 keeps the calibration's accuracy promise.
 */
import type { LayerEffort, SpetKnobs } from './effort.js';
import { DENSE_PROFILE, type EffortProfile } from './profile.js';

/**
 * SPET's threshold at scale s: `t + m (1 - 1/s)`, with m = max(|t|, 1). It equals t at s = 1,
 * falls towards -infinity as s -> 0 (no neuron terminates: dense), and rises past t for s > 1
 * (more neurons predicted saturated).
 */
function scaledThreshold(t: number, s: number): number {
  return t + Math.max(Math.abs(t), 1) * (1 - 1 / s);
}

function scaleLayer(effort: LayerEffort, s: number): LayerEffort {
  const { spet, sdss, sfma, tile } = effort;
  const scaleSpet = (k: SpetKnobs): SpetKnobs => k.mode === 'exact' ? k : {
    ...k, threshold: scaledThreshold(k.threshold, s), ...(k.thresholds && { thresholds: k.thresholds.map((t) => scaledThreshold(t, s)) }),
  };
  return {
    ...(tile && { tile }),
    ...(spet && { spet: scaleSpet(spet) }),
    ...(sdss && { sdss: { ...sdss, delta: sdss.delta * s } }),
    ...(sfma && { sfma: { epsilon: sfma.epsilon * s } }),
  };
}

/**
 * The profile at effort scale `s` (>= 0): 0 -> dense; otherwise SPET thresholds move as described
 * at {@link scaledThreshold}, SDSS deltas and SFMA epsilons are multiplied by s (exact SPET and the
 * strides stay: they have no continuous knob).
 *
 * @throws RangeError when s is negative or not finite.
 */
export function scaleEffort(profile: EffortProfile, s: number): EffortProfile {
  if (!(Number.isFinite(s) && s >= 0)) throw new RangeError(`effort scale must be a finite number >= 0, got ${s}`);
  if (s === 0) return DENSE_PROFILE;
  if (s === 1) return profile;
  const layers: Record<string, LayerEffort> = {};
  for (const [name, effort] of Object.entries(profile.layers)) layers[name] = scaleLayer(effort, s);
  return { ...profile, description: `${profile.description ?? 'effort profile'} at effort scale ${s}`, layers };
}
