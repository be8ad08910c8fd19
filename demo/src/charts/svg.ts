/** The few SVG helpers the page's charts share. */
export const SVG_NS = 'http://www.w3.org/2000/svg';

export const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Dense in grey, DyVEDeep in the accent colour: the same in every chart. */
export const COLORS = { dense: '#9aa5b1', dynamic: '#e8590c', accent2: '#1c7ed6', grid: '#e9ecef', text: '#212529' } as const;

/** `1234567` -> `1.23 M`. */
export function si(n: number): string {
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)} ${u}`;
  return `${Math.round(n)}`;
}
