// Max and average pooling exactly as Caffe's pooling_layer.cpp (Forward_cpu): MAX over the window
// clipped to the input, starting from -FLT_MAX; AVE divides the sum over the clipped window by the
// window clipped to input + pad only (padding counts in the divisor at the borders).
//
// Thread mapping: one invocation per output value; linear index over (plane, ph, pw), planes =
// images x channels. Dispatch: 2-D grid of WG-sized workgroups covering `total`.
override WG: u32 = 256;

struct Params {
  inH: u32, inW: u32, outH: u32, outW: u32,
  kH: u32, kW: u32, sH: u32, sW: u32,
  pH: u32, pW: u32,
  average: u32,   // 0 = MAX, 1 = AVE
  total: u32,     // planes x outH x outW
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const NEG_FLT_MAX: f32 = -0x1.fffffep+127f;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let pw = i % P.outW;
  let ph = (i / P.outW) % P.outH;
  let plane = i / (P.outW * P.outH);
  let xOff = plane * P.inH * P.inW;
  var hs = i32(ph * P.sH) - i32(P.pH);
  var ws = i32(pw * P.sW) - i32(P.pW);
  if (P.average == 0u) {
    let he = min(hs + i32(P.kH), i32(P.inH));
    let we = min(ws + i32(P.kW), i32(P.inW));
    hs = max(hs, 0);
    ws = max(ws, 0);
    var m = NEG_FLT_MAX;
    for (var h = hs; h < he; h++) {
      for (var w = ws; w < we; w++) { m = max(m, x[xOff + u32(h) * P.inW + u32(w)]); }
    }
    y[i] = m;
  } else {
    var he = min(hs + i32(P.kH), i32(P.inH + P.pH));
    var we = min(ws + i32(P.kW), i32(P.inW + P.pW));
    let size = f32((he - hs) * (we - ws));
    hs = max(hs, 0);
    ws = max(ws, 0);
    he = min(he, i32(P.inH));
    we = min(we, i32(P.inW));
    var s = 0.0;
    for (var h = hs; h < he; h++) {
      for (var w = ws; w < we; w++) { s += x[xOff + u32(h) * P.inW + u32(w)]; }
    }
    y[i] = s / size;
  }
}
