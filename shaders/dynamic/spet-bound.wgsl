// Exact SPET's bound per (image, o): B = sum over o's rest kept channels c of
// P[o, c] * hi_c + N[o, c] * lo_c (P / N: sums of o's positive / negative taps of channel c;
// [lo_c, hi_c] the map's range from map-statistics.wgsl). A neuron terminates when its partial
// sum + B < 0: the full sum is then provably negative and the ReLU output 0.
//
// Thread mapping: one invocation per (image, o). Dispatch: 2-D grid covering `total`.
override WG: u32 = 64;

struct Params {
  inC: u32, outC: u32, cpg: u32, m: u32,
  nSig: u32, total: u32,
  orderAt: u32, posAt: u32, negAt: u32,   // tables
  keepAt: u32, rangeAt: u32, boundAt: u32, // run
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> tables: array<u32>;
@group(0) @binding(2) var<storage, read_write> run: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let o = i % P.outC;
  let img = i / P.outC;
  let c0 = img * P.inC + (o / P.m) * P.cpg;
  var b = 0.0;
  for (var j = P.nSig; j < P.cpg; j++) {
    let c = tables[P.orderAt + o * P.cpg + j];
    if (run[P.keepAt + c0 + c] == 0.0) { continue; }
    let pos = bitcast<f32>(tables[P.posAt + o * P.cpg + c]);
    let neg = bitcast<f32>(tables[P.negAt + o * P.cpg + c]);
    b += pos * run[P.rangeAt + 2u * (c0 + c) + 1u] + neg * run[P.rangeAt + 2u * (c0 + c)];
  }
  run[P.boundAt + i] = b;
}
