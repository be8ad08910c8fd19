// Copies one input of a channel Concat into its slot of the output (also a plain copy: offset 0,
// same channel count), per image: y[n, offset + c, s] = x[n, c, s].
//
// Thread mapping: one invocation per input value. Dispatch: 2-D grid of WG-sized workgroups.
override WG: u32 = 256;

struct Params { inC: u32, outC: u32, offset: u32, hw: u32, total: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let per = P.inC * P.hw;
  let img = i / per;
  y[img * P.outC * P.hw + P.offset * P.hw + i % per] = x[i];
}
