// Per input map (image, channel): mean, population variance (two passes), and the range
// [min(0, min), max(0, max)]. Feeds SFMA (a map is dropped when variance <= epsilon * (mean^2 +
// 1e-12)) and exact SPET (the channel ranges its bound multiplies).
//
// Thread mapping: one invocation per map, looping over its planeSize values.
// Dispatch: 2-D grid of WG-sized workgroups covering images x channels.
override WG: u32 = 64;

struct Params {
  planeSize: u32, maps: u32, epsilon: f32,
  sfma: u32,       // 1: decide drops; 0: keep every map
  keepAt: u32, meanAt: u32, rangeAt: u32,
  slot: u32,       // stats[slot]: maps dropped
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> run: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.maps) { return; }
  let base = i * P.planeSize;
  var s = 0.0;
  var lo = 0.0;
  var hi = 0.0;
  for (var k = 0u; k < P.planeSize; k++) {
    let v = x[base + k];
    s += v;
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let m = s / f32(P.planeSize);
  var sq = 0.0;
  for (var k = 0u; k < P.planeSize; k++) {
    let d = x[base + k] - m;
    sq += d * d;
  }
  let variance = sq / f32(P.planeSize);
  let drop = P.sfma == 1u && variance <= P.epsilon * (m * m + 1e-12);
  run[P.keepAt + i] = select(1.0, 0.0, drop);
  run[P.meanAt + i] = m;
  run[P.rangeAt + 2u * i] = lo;
  run[P.rangeAt + 2u * i + 1u] = hi;
  if (drop) { atomicAdd(&stats[P.slot], 1u); }
}
