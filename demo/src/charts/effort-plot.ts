/** Accuracy against work over the effort scale: one point per scale, x = MACs executed / dense. */
import type { SweepPoint } from '../inference.js';
import { COLORS, escapeXml } from './svg.js';

/** The points as an HTML table: scale, share of dense MACs, top-1, agreement, time. */
export function effortTable(points: readonly SweepPoint[]): string {
  const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)} %`);
  const rows = points.map((p) => `<tr><td>${p.scale}${p.scale === 0 ? ' (dense)' : p.scale === 1 ? ' (calibrated)' : ''}</td>`
    + `<td>${pct(p.macsFraction)}</td><td>${pct(p.top1)}</td><td>${pct(p.agreement)}</td><td>${((1000 * p.seconds) / p.images).toFixed(1)} ms</td></tr>`);
  return `<table class="sweep-table"><thead><tr><th>effort scale</th><th>MACs (of dense)</th><th>top-1</th><th>agreement</th><th>per image</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The plot as an SVG string (points in the order measured). */
export function effortPlot(points: readonly SweepPoint[], title: string): string {
  const width = 560;
  const height = 320;
  const m = { top: 56, right: 20, bottom: 46, left: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  // The x axis starts a little left of the smallest share, on a 5 % step.
  const minX = Math.max(0, Math.floor((Math.min(...points.map((p) => p.macsFraction)) - 0.05) * 20) / 20);
  const x = (v: number) => m.left + ((v - minX) / (1.02 - minX)) * pw;
  const y = (v: number) => m.top + ph - v * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${escapeXml(title)}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (let t = 0; t <= 5; t++) {
    const v = t / 5;
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="${COLORS.grid}"/>`,
      `<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${(100 * v).toFixed(0)} %</text>`);
  }
  for (let t = 0; t <= 4; t++) {
    const v = minX + ((1 - minX) * t) / 4;
    parts.push(`<text x="${x(v)}" y="${m.top + ph + 18}" text-anchor="middle">${(100 * v).toFixed(0)} %</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle">MACs executed (share of dense)</text>`);
  const series: { key: 'top1' | 'agreement'; label: string; color: string }[] = [
    { key: 'top1', label: 'top-1 accuracy', color: COLORS.dynamic },
    { key: 'agreement', label: 'agreement with dense', color: COLORS.accent2 },
  ];
  series.forEach((s, si) => {
    const pts = points.filter((p) => p[s.key] !== null).map((p) => ({ p, v: p[s.key] as number }));
    if (pts.length === 0) return;
    const sorted = [...pts].sort((a, b) => a.p.macsFraction - b.p.macsFraction);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${sorted.map(({ p, v }) => `${x(p.macsFraction).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
    for (const { p, v } of pts) {
      parts.push(`<circle class="point" cx="${x(p.macsFraction).toFixed(1)}" cy="${y(v).toFixed(1)}" r="4" fill="${s.color}"><title>${escapeXml(`scale ${p.scale}: ${s.label} ${(100 * v).toFixed(1)} %, ${(100 * p.macsFraction).toFixed(1)} % of dense MACs`)}</title></circle>`);
    }
    parts.push(`<rect x="${m.left + 10 + si * 170}" y="30" width="10" height="10" fill="${s.color}"/><text x="${m.left + 24 + si * 170}" y="39">${s.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
