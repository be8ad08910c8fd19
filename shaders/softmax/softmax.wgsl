// Softmax over channels at every spatial position of every image (Caffe's default axis 1):
// y_c = exp(x_c - max) / sum_c' exp(x_c' - max).
//
// Thread mapping: one invocation per (image, position), looping over the C channels.
// Dispatch: 2-D grid of WG-sized workgroups covering images x H x W.
override WG: u32 = 64;

struct Params { C: u32, hw: u32, total: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let base = (i / P.hw) * P.C * P.hw + i % P.hw;
  var m = x[base];
  for (var c = 1u; c < P.C; c++) { m = max(m, x[base + c * P.hw]); }
  var s = 0.0;
  for (var c = 0u; c < P.C; c++) { s += exp(x[base + c * P.hw] - m); }
  for (var c = 0u; c < P.C; c++) { y[base + c * P.hw] = exp(x[base + c * P.hw] - m) / s; }
}
