// Dense convolution (grouped, strided, padded, dilated), bias and an optional fused ReLU.
//
// Thread mapping: one invocation computes 4 output channels (one vec4 of the packed weights) x
// PX consecutive output positions of one image: 4 x PX accumulators in registers, no shared
// memory (on CPU-backed adapters barriers cost more than they save; see WEBGPU-ON-CPU.md).
// Dispatch: x = ceil(outH * outW / (PX * WG)), y = group * ceil(m / 4), z = images.
// Weights are packed by the host as [g][c][ky][kx][o rounded up to 4] (vec4 over 4 output
// channels of a group; the padding lanes hold 0 and are never stored).
override WG: u32 = 64;
override PX: u32 = 8;        // positions per invocation, at most MAX_PX
const MAX_PX: u32 = 8u;

struct Params {
  inC: u32, inH: u32, inW: u32, outC: u32,
  outH: u32, outW: u32, kH: u32, kW: u32,
  sH: u32, sW: u32, pH: u32, pW: u32,
  dH: u32, dW: u32, cpg: u32, m: u32,
  quads: u32,      // ceil(m / 4): vec4 columns per group
  relu: u32,       // 1: apply the fused ReLU at the store
  slope: f32,      // its negative slope
  _pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let hw = P.outH * P.outW;
  let p0 = (wid.x * WG + lid.x) * PX;
  if (p0 >= hw) { return; }
  let g = wid.y / P.quads;
  let q = wid.y % P.quads;
  let img = wid.z;

  // Top-left input coordinate of each of the 4 positions (signed: padding).
  var iy0: array<i32, MAX_PX>;
  var ix0: array<i32, MAX_PX>;
  for (var i = 0u; i < PX; i++) {
    let p = min(p0 + i, hw - 1u);
    iy0[i] = i32((p / P.outW) * P.sH) - i32(P.pH);
    ix0[i] = i32((p % P.outW) * P.sW) - i32(P.pW);
  }
  var acc: array<vec4f, MAX_PX>;
  let b = bias[g * P.quads + q];
  for (var i = 0u; i < PX; i++) { acc[i] = b; }

  let plane = P.inH * P.inW;
  let taps = P.kH * P.kW;
  var xBase = (img * P.inC + g * P.cpg) * plane;
  var wIdx = (g * P.cpg * taps) * P.quads + q;
  for (var c = 0u; c < P.cpg; c++) {
    for (var ky = 0u; ky < P.kH; ky++) {
      for (var kx = 0u; kx < P.kW; kx++) {
        let wv = w[wIdx];
        wIdx += P.quads;
        for (var i = 0u; i < PX; i++) {
          let iy = iy0[i] + i32(ky * P.dH);
          let ix = ix0[i] + i32(kx * P.dW);
          if (iy >= 0 && iy < i32(P.inH) && ix >= 0 && ix < i32(P.inW)) {
            acc[i] += x[xBase + u32(iy) * P.inW + u32(ix)] * wv;
          }
        }
      }
    }
    xBase += plane;
  }

  let yBase = img * P.outC * hw + (g * P.m + q * 4u) * hw;
  let lanes = min(4u, P.m - q * 4u);
  for (var i = 0u; i < PX; i++) {
    let p = p0 + i;
    if (p >= hw) { break; }
    var v = acc[i];
    if (P.relu == 1u) { v = select(v * P.slope, v, v > vec4f(0.0)); }
    for (var j = 0u; j < lanes; j++) { y[yBase + j * hw + p] = v[j]; }
  }
}
