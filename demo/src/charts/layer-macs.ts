/**
 * Per layer, dense MACs against the MACs DyVEDeep executed: one row per Convolution /
 * InnerProduct layer, horizontal bars (layer names stay readable for SqueezeNet's 26 layers).
 */
import type { LayerCounters } from '../../../src/browser.js';
import { COLORS, escapeXml, si } from './svg.js';

/** The chart as an SVG string; `dense` and `dynamic` are the counters of the two runs. */
export function layerMacsChart(dense: readonly LayerCounters[], dynamic: readonly LayerCounters[]): string {
  const executed = new Map(dynamic.map((c) => [c.name, c.macsExecuted]));
  const rows = dense.filter((c) => c.macsDense > 0).map((c) => ({ name: c.name, dense: c.macsExecuted, dynamic: executed.get(c.name) ?? 0 }));
  const rowH = 22;
  const left = 150;
  const right = 170;
  const width = 720;
  const top = 34;
  const height = top + rows.length * rowH + 30;
  const plot = width - left - right;
  const max = Math.max(1, ...rows.map((r) => r.dense));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="MACs per layer, dense vs DyVEDeep">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<rect x="${left}" y="8" width="12" height="12" fill="${COLORS.dense}"/><text x="${left + 16}" y="18">dense MACs</text>`,
    `<rect x="${left + 110}" y="8" width="12" height="12" fill="${COLORS.dynamic}"/><text x="${left + 126}" y="18">executed by DyVEDeep</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const wDense = (r.dense / max) * plot;
    const wDyn = (r.dynamic / max) * plot;
    const saved = r.dense > 0 ? 1 - r.dynamic / r.dense : 0;
    parts.push(
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${escapeXml(r.name)}</text>`,
      `<rect class="bar-dense" x="${left}" y="${y + 2}" width="${wDense.toFixed(1)}" height="${rowH - 6}" fill="${COLORS.dense}"><title>${escapeXml(`${r.name}: ${si(r.dense)} dense MACs`)}</title></rect>`,
      `<rect class="bar-dynamic" x="${left}" y="${y + 6}" width="${wDyn.toFixed(1)}" height="${rowH - 14}" fill="${COLORS.dynamic}"><title>${escapeXml(`${r.name}: ${si(r.dynamic)} MACs executed`)}</title></rect>`,
      `<text x="${left + plot + 8}" y="${y + 14}" fill="${COLORS.text}">${si(r.dynamic)} / ${si(r.dense)}${saved > 0.0005 ? ` (−${(100 * saved).toFixed(1)} %)` : ''}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
