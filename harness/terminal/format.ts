/** Number formats shared by the CLI's tables and reports. */
import type { PairedDrop } from '../../src/evaluation/paired-drop.js';

/** 12354176 -> "12,354,176". */
export function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 861339936 -> "861.3 M". */
export function si(n: number): string {
  const units = ['', ' k', ' M', ' G', ' T', ' P'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : v < 10 ? 2 : 1)}${units[i]}`;
}

/** A paired top-1 drop with one standard error: "0.48 ± 0.17 pp". */
export function dropPP(d: PairedDrop): string {
  return `${d.dropPP.toFixed(2)} ± ${d.standardErrorPP.toFixed(2)} pp`;
}

/** 0.7374 -> "73.74 %"; null -> "n/a". */
export function percent(fraction: number | null, digits = 2): string {
  return fraction === null ? 'n/a' : `${(100 * fraction).toFixed(digits)} %`;
}

/** A count that may be a mean over runs (dispatches per run): 12 -> "12", 12.5 -> "12.5". */
export function meanCount(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
