// PReLU: y = x > 0 ? x : x * a[c], one learned slope per channel (a channel-shared slope is the
// same table with one entry: the encoder passes channels = 1), out of place, then an optional
// fused ReLU at the store.
//
// Thread mapping: one invocation per value. Dispatch: 2-D grid of WG-sized workgroups.
override WG: u32 = 256;

struct Params {
  total: u32,     // values of the whole batch
  hw: u32,        // values per channel plane
  channels: u32,  // entries of the slope table (C, or 1 when shared)
  relu: u32,      // 1: apply the fused ReLU at the store
  slope: f32,     // its negative slope
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let v = x[i];
  var r = select(v * a[(i / P.hw) % P.channels], v, v > 0.0);
  if (P.relu == 1u) { r = select(r * P.slope, r, r > 0.0); }
  y[i] = r;
}
