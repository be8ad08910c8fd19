// Local response normalisation as Caffe computes it.
// ACROSS_CHANNELS: scale = k + alpha / n * sum of x^2 over channels c - (n-1)/2 .. c + (n-1)/2
// (clipped); WITHIN_CHANNEL: scale = 1 + alpha * (sum of x^2 over the n x n window, zero padded)
// / (n * n). y = x * scale^-beta.
//
// Thread mapping: one invocation per value; linear index over (image, c, h, w).
// Dispatch: 2-D grid of WG-sized workgroups covering `total`.
override WG: u32 = 256;

struct Params {
  C: u32, H: u32, W: u32, total: u32,
  size: u32,
  within: u32,   // 0 = ACROSS_CHANNELS, 1 = WITHIN_CHANNEL
  alpha: f32, beta: f32,
  k: f32,
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let hw = P.H * P.W;
  let s = i % hw;
  let c = (i / hw) % P.C;
  let img = i / (hw * P.C);
  let half = i32((P.size - 1u) / 2u);
  var sum = 0.0;
  var scale: f32;
  if (P.within == 0u) {
    let c0 = max(0, i32(c) - half);
    let c1 = min(i32(P.C) - 1, i32(c) + half);
    for (var cc = c0; cc <= c1; cc++) {
      let v = x[(img * P.C + u32(cc)) * hw + s];
      sum += v * v;
    }
    scale = P.k + (P.alpha / f32(P.size)) * sum;
  } else {
    let h = i32(s / P.W);
    let w = i32(s % P.W);
    let base = (img * P.C + c) * hw;
    for (var hh = max(0, h - half); hh <= min(i32(P.H) - 1, h + half); hh++) {
      for (var ww = max(0, w - half); ww <= min(i32(P.W) - 1, w + half); ww++) {
        let v = x[base + u32(hh) * P.W + u32(ww)];
        sum += v * v;
      }
    }
    scale = 1.0 + P.alpha * (sum / f32(P.size * P.size));
  }
  y[i] = x[i] * pow(scale, -P.beta);
}
