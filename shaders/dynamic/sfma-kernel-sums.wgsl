// SFMA's kernel sums: K_o[tap] = sum over the dropped maps c of o's group (ascending) of
// mean[c] * w[o, c, tap], per image. The dynamic convolution adds K_o over the in-bounds taps of
// each position: the exact contribution of a constant map, borders included.
//
// Thread mapping: one invocation per (image, o, tap). Dispatch: 2-D grid covering `total`.
override WG: u32 = 64;

struct Params {
  inC: u32, outC: u32, cpg: u32, m: u32,
  taps: u32, total: u32,
  keepAt: u32, meanAt: u32, kAt: u32,
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> run: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let t = i % P.taps;
  let o = (i / P.taps) % P.outC;
  let img = i / (P.taps * P.outC);
  let c0 = img * P.inC + (o / P.m) * P.cpg;
  var k = 0.0;
  for (var c = 0u; c < P.cpg; c++) {
    if (run[P.keepAt + c0 + c] == 0.0) { k += run[P.meanAt + c0 + c] * w[(o * P.cpg + c) * P.taps + t]; }
  }
  run[P.kAt + i] = k;
}
