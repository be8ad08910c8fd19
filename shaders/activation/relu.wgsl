// ReLU (Caffe's, with negative_slope), in place: y = x > 0 ? x : x * slope. Used where a ReLU
// could not be fused into the layer before it (see the scheduler's fusion rule).
//
// Thread mapping: one invocation per value. Dispatch: 2-D grid of WG-sized workgroups.
override WG: u32 = 256;

struct Params { total: u32, slope: f32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let v = data[i];
  data[i] = select(v * P.slope, v, v > 0.0);
}
