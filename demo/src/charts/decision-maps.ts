/**
 * Heat maps of where each mechanism acted, read from the run's decision trace (image 0): per
 * output position, the share of channels SPET terminated and the share SDSS interpolated; per
 * input channel, whether SFMA replaced the map by its mean.
 */
import { NEURON_SDSS_INTERPOLATED, NEURON_SPET_TERMINATED, type EffortProfile, type LayerDecisions } from '../../../src/browser.js';

/** White (0) to the colour (1). */
function ramp(v: number, [r, g, b]: readonly [number, number, number]): [number, number, number] {
  return [255 + (r - 255) * v, 255 + (g - 255) * v, 255 + (b - 255) * v];
}

const SPET_RGB = [232, 89, 12] as const;
const SDSS_RGB = [28, 126, 214] as const;
const SFMA_RGB = [47, 158, 68] as const;

/** Share of channels at each position (image 0) holding `code`. */
function shareMap(d: LayerDecisions, code: number): Float32Array {
  const plane = d.height * d.width;
  const share = new Float32Array(plane);
  for (let c = 0; c < d.channels; c++) {
    for (let p = 0; p < plane; p++) if (d.neurons[c * plane + p] === code) share[p] += 1 / d.channels;
  }
  return share;
}

/** A canvas of `values` (rows x cols in [0, 1]), each cell `cell` pixels. */
function heatCanvas(values: Float32Array, rows: number, cols: number, rgb: readonly [number, number, number], label: string): HTMLCanvasElement {
  const cell = Math.max(2, Math.floor(128 / Math.max(rows, cols)));
  const canvas = document.createElement('canvas');
  canvas.width = cols * cell;
  canvas.height = rows * cell;
  canvas.className = 'heat-map';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  canvas.title = label;
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const [r, g, b] = ramp(values[y * cols + x], rgb);
      ctx.fillStyle = `rgb(${r | 0}, ${g | 0}, ${b | 0})`;
      ctx.fillRect(x * cell, y * cell, cell, cell);
    }
  }
  ctx.strokeStyle = '#ced4da';
  ctx.strokeRect(0.5, 0.5, canvas.width - 1, canvas.height - 1);
  return canvas;
}

function figure(canvas: HTMLCanvasElement, caption: string, on: boolean): HTMLElement {
  const fig = document.createElement('figure');
  if (!on) fig.className = 'off';
  fig.append(canvas);
  fig.append(Object.assign(document.createElement('figcaption'), { textContent: caption }));
  return fig;
}

const pct = (part: number, whole: number) => `${whole > 0 ? ((100 * part) / whole).toFixed(1) : '0.0'} %`;

/** One row per dynamic layer: SPET, SDSS and SFMA maps, each captioned with its share (or "off" when `profile` leaves it off there). */
export function decisionMaps(decisions: readonly LayerDecisions[], profile: EffortProfile): HTMLElement {
  const root = document.createElement('div');
  root.className = 'decision-maps';
  for (const d of decisions) {
    const plane = d.channels * d.height * d.width;
    const neurons = d.neurons.subarray(0, plane);
    let spet = 0;
    let sdss = 0;
    for (const n of neurons) {
      if (n === NEURON_SPET_TERMINATED) spet++;
      else if (n === NEURON_SDSS_INTERPOLATED) sdss++;
    }
    const maps = d.sfmaApproximated.subarray(0, d.inputChannels);
    const sfma = maps.reduce((s, v) => s + v, 0);
    const side = Math.ceil(Math.sqrt(d.inputChannels));
    const sfmaGrid = new Float32Array(side * side);
    maps.forEach((v, i) => { sfmaGrid[i] = v; });

    const knobs = profile.layers[d.layer] ?? {};
    const row = document.createElement('section');
    row.className = 'decision-row';
    row.dataset.layer = d.layer;
    row.append(Object.assign(document.createElement('h4'), { textContent: `${d.layer} (${d.channels}×${d.height}×${d.width})` }));
    row.append(
      figure(heatCanvas(shareMap(d, NEURON_SPET_TERMINATED), d.height, d.width, SPET_RGB, `${d.layer} SPET`),
        knobs.spet ? `SPET terminated ${pct(spet, plane)} of neurons` : 'SPET off', knobs.spet !== undefined),
      figure(heatCanvas(shareMap(d, NEURON_SDSS_INTERPOLATED), d.height, d.width, SDSS_RGB, `${d.layer} SDSS`),
        knobs.sdss ? `SDSS interpolated ${pct(sdss, plane)}` : 'SDSS off', knobs.sdss !== undefined),
      figure(heatCanvas(sfmaGrid, side, side, SFMA_RGB, `${d.layer} SFMA`),
        knobs.sfma ? `SFMA approximated ${sfma} of ${d.inputChannels} input maps` : 'SFMA off', knobs.sfma !== undefined),
    );
    root.append(row);
  }
  return root;
}
