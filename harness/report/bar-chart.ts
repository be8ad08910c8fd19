/** A grouped bar chart as a standalone SVG string (no dependency: a few rects and labels). */
export interface BarGroup {
  readonly label: string;
  /** One value per series, in series order. */
  readonly values: readonly number[];
}

export interface BarChart {
  readonly title: string;
  readonly series: readonly string[];
  readonly groups: readonly BarGroup[];
  /** Unit shown on the axis, e.g. "x". */
  readonly unit: string;
  /** Optional horizontal reference band (e.g. the paper's published range). */
  readonly band?: { readonly from: number; readonly to: number; readonly label: string };
}

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Renders one chart; the y axis spans 0 (or the lowest negative value) to above the largest value and band. */
export function renderBarChart(chart: BarChart, width = 720, height = 320): string {
  const margin = { top: 40, right: 20, bottom: 60, left: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  // NaN marks a missing bar (e.g. a setting a model has no profile for): not drawn.
  const values = chart.groups.flatMap((g) => g.values).filter(Number.isFinite);
  const max = Math.max(1, ...values, chart.band?.to ?? 0) * 1.1;
  const min = Math.min(0, ...values) * 1.1;
  const y = (v: number) => margin.top + plotH - ((v - min) / (max - min)) * plotH;
  const groupW = plotW / Math.max(1, chart.groups.length);
  const barW = (groupW * 0.8) / Math.max(1, chart.series.length);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escape(chart.title)}</text>`,
  ];
  if (chart.band) {
    parts.push(`<rect x="${margin.left}" y="${y(chart.band.to)}" width="${plotW}" height="${y(chart.band.from) - y(chart.band.to)}" fill="#bbb" opacity="0.3"/>`,
      `<text x="${width - margin.right - 4}" y="${y(chart.band.to) - 4}" text-anchor="end" fill="#555">${escape(chart.band.label)}</text>`);
  }
  for (let t = 0; t <= 5; t++) {
    const v = min + ((max - min) * t) / 5;
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(max - min < 5 ? 2 : 1)}${escape(chart.unit)}</text>`);
  }
  chart.groups.forEach((g, gi) => {
    const x0 = margin.left + gi * groupW + groupW * 0.1;
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v)) return;
      const x = x0 + si * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${Math.min(y(v), y(0)).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.abs(y(0) - y(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${escape(`${g.label} ${chart.series[si]}: ${v.toFixed(2)}${chart.unit}`)}</title></rect>`,
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${v.toFixed(2)}</text>`);
    });
    parts.push(`<text x="${(x0 + groupW * 0.4).toFixed(1)}" y="${height - margin.bottom + 16}" text-anchor="middle">${escape(g.label)}</text>`);
  });
  chart.series.forEach((s, si) => {
    const x = margin.left + si * 130;
    parts.push(`<rect x="${x}" y="${height - 22}" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/>`,
      `<text x="${x + 14}" y="${height - 13}">${escape(s)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
