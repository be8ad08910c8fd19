// SDSS decision pass, after the grid neurons of every map are stored: each non-grid neuron
// compares its 2 (on a grid row or column) or 4 (inside a cell) grid neighbours. When
// max - min <= delta it is set to their mean ((a + b) * 0.5 or ((a + b) + (c + d)) * 0.25);
// otherwise its position is appended to its map's list of neurons still to evaluate, and the
// longest list is tracked for the indirect dispatch (sdss-indirect-args.wgsl).
//
// Decision trace (P.trace = 1): an interpolated neuron also gets 2 (NEURON_SDSS_INTERPOLATED) in
// `decisions` (one u32 per output neuron); untraced plans bind a placeholder and write nothing.
//
// Thread mapping: one invocation per (map, non-grid neuron). Dispatch: 2-D grid covering `total`.
override WG: u32 = 256;

struct Params {
  hw: u32, nonGrid: u32, total: u32, delta: f32,
  neighbourAt: u32,  // tables: per non-grid neuron (p, a, b, c, d); c = d = 0xffffffff for pairs
  listAt: u32,       // tables: per map, nonGrid slots of positions to evaluate
  countAt: u32,      // tables: per map, its list length (cleared before each run)
  maxAt: u32,        // tables: the longest list (cleared before each run)
  slot: u32,         // stats[slot]: neurons interpolated
  trace: u32,        // 1: record interpolations in `decisions`
  _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> tables: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> decisions: array<u32>;  // per output neuron (trace)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let map = i / P.nonGrid;
  let k = i % P.nonGrid;
  let e = P.neighbourAt + 5u * k;
  let p = atomicLoad(&tables[e]);
  let base = map * P.hw;
  let a = y[base + atomicLoad(&tables[e + 1u])];
  let b = y[base + atomicLoad(&tables[e + 2u])];
  let ci = atomicLoad(&tables[e + 3u]);
  var lo = min(a, b);
  var hi = max(a, b);
  var mean = (a + b) * 0.5;
  if (ci != 0xffffffffu) {
    let c = y[base + ci];
    let d = y[base + atomicLoad(&tables[e + 4u])];
    lo = min(lo, min(c, d));
    hi = max(hi, max(c, d));
    mean = ((a + b) + (c + d)) * 0.25;
  }
  if (hi - lo <= P.delta) {
    y[base + p] = mean;
    atomicAdd(&stats[P.slot], 1u);
    if (P.trace == 1u) { decisions[base + p] = 2u; }
  } else {
    let n = atomicAdd(&tables[P.countAt + map], 1u);
    atomicStore(&tables[P.listAt + map * P.nonGrid + n], p);
    atomicMax(&tables[P.maxAt], n + 1u);
  }
}
