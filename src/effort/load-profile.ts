import type { Network } from '../ir/network.js';
import { readText } from '../read-file.js';
import { parseProfile, type EffortProfile } from './profile.js';

/** Reads and validates a profile file (Node, Deno). */
export async function loadProfile(path: string, net: Network): Promise<EffortProfile> {
  return parseProfile(await readText(path, 'effort profile'), net, path);
}
