// Dense convolution (grouped, strided, padded, dilated), bias and an optional fused ReLU; over
// every output position, or over a list of them (SDSS's grid in tile mode: the positions the
// dynamic layer computes exactly, at the dense kernel's rate).
//
// Thread mapping: one invocation computes 4 output channels (one vec4 of the packed weights) x
// PX consecutive output positions of one image: PX vec4 accumulators, no shared memory (on
// CPU-backed adapters barriers cost more than they save).
// Dispatch: x = ceil(positions / (PX * WG)), y = group * ceil(m / 4), z = images; positions =
// outH * outW, or listLen: then invocation position i is output position list[listAt + i].
// Weights are packed by the host as [g][c][ky][kx][o rounded up to 4] (vec4 over 4 output
// channels of a group; the padding lanes hold 0 and are never stored).
//
// Written for software adapters as much as for GPUs (measured with `dyve compare --webgpu`):
// - The accumulators are named variables (a0..a7), never an array indexed in a loop: SwiftShader
//   (Chromium's software adapter) keeps a dynamically indexed private array in memory, one
//   gather / scatter per access per lane; named variables stay in registers. This alone made
//   cifar10-quick's convolutions several times faster there.
// - The positions' coordinates travel as vec4<i32> (positions 0-3 and 4-7), so the padding test
//   and the input index of 4 positions are one vector expression each, and the row part of both
//   is hoisted out of the kx loop.
// - Out-of-image taps read element 0 and are zeroed by select(): no branch per tap.
override WG: u32 = 64;
override PX: u32 = 8;        // positions per invocation, 1 to 8

struct Params {
  inC: u32, inH: u32, inW: u32, outC: u32,
  outH: u32, outW: u32, kH: u32, kW: u32,
  sH: u32, sW: u32, pH: u32, pW: u32,
  dH: u32, dW: u32, cpg: u32, m: u32,
  quads: u32,      // ceil(m / 4): vec4 columns per group
  relu: u32,       // 1: apply the fused ReLU at the store
  slope: f32,      // its negative slope
  listLen: u32,    // 0: every output position; else the length of the list of positions
  listAt: u32,     // where the list starts in `list`
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> list: array<u32>;   // unread when listLen = 0

// The output position of invocation position i (< n).
fn position(i: u32) -> u32 {
  if (P.listLen == 0u) { return i; }
  return list[P.listAt + i];
}

// The top-left input coordinates (y, x) of the output positions of invocation positions i .. i + 3
// (clamped to the last of n).
fn origins(i: u32, n: u32) -> array<vec4i, 2> {
  let at = min(vec4u(i) + vec4u(0u, 1u, 2u, 3u), vec4u(n - 1u));
  var ps = at;
  if (P.listLen > 0u) { ps = vec4u(list[P.listAt + at.x], list[P.listAt + at.y], list[P.listAt + at.z], list[P.listAt + at.w]); }
  let oy = ps / vec4u(P.outW);
  let ox = ps - oy * vec4u(P.outW);
  return array<vec4i, 2>(vec4i(oy * P.sH) - vec4i(i32(P.pH)), vec4i(ox * P.sW) - vec4i(i32(P.pW)));
}

// The 4 input values at (iy, ix) of a channel plane starting at `base`, 0 outside the image.
fn taps4(base: i32, iy: vec4i, ix: vec4i, rowOk: vec4<bool>) -> vec4f {
  let ok = rowOk & (ix >= vec4i(0)) & (ix < vec4i(i32(P.inW)));
  let idx = select(vec4i(0), vec4i(base) + iy * i32(P.inW) + ix, ok);
  let v = vec4f(x[idx.x], x[idx.y], x[idx.z], x[idx.w]);
  return select(vec4f(0.0), v, ok);
}

fn activate(v: vec4f) -> vec4f {
  return select(v, select(v * P.slope, v, v > vec4f(0.0)), P.relu == 1u);
}

fn store(v: vec4f, i: u32, n: u32, hw: u32, yBase: u32, lanes: u32) {
  if (i >= n) { return; }
  let a = activate(v);
  let p = position(i);
  for (var j = 0u; j < lanes; j++) { y[yBase + j * hw + p] = a[j]; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let hw = P.outH * P.outW;
  let n = select(hw, P.listLen, P.listLen > 0u);
  let p0 = (wid.x * WG + lid.x) * PX;
  if (p0 >= n) { return; }
  let g = wid.y / P.quads;
  let q = wid.y % P.quads;
  let img = wid.z;
  let wide = PX > 4u;

  let oa = origins(p0, n);
  let ob = origins(p0 + 4u, n);
  let b = bias[g * P.quads + q];
  var a0 = b; var a1 = b; var a2 = b; var a3 = b;
  var a4 = b; var a5 = b; var a6 = b; var a7 = b;

  let plane = i32(P.inH * P.inW);
  let taps = P.kH * P.kW;
  var xBase = i32((img * P.inC + g * P.cpg) * P.inH * P.inW);
  var wIdx = (g * P.cpg * taps) * P.quads + q;
  for (var c = 0u; c < P.cpg; c++) {
    for (var ky = 0u; ky < P.kH; ky++) {
      let dy = vec4i(i32(ky * P.dH));
      let iya = oa[0] + dy;
      let iyb = ob[0] + dy;
      let rowA = (iya >= vec4i(0)) & (iya < vec4i(i32(P.inH)));
      let rowB = (iyb >= vec4i(0)) & (iyb < vec4i(i32(P.inH)));
      for (var kx = 0u; kx < P.kW; kx++) {
        let wv = w[wIdx];
        wIdx += P.quads;
        let dx = vec4i(i32(kx * P.dW));
        let va = taps4(xBase, iya, oa[1] + dx, rowA);
        a0 += va.x * wv; a1 += va.y * wv; a2 += va.z * wv; a3 += va.w * wv;
        if (wide) {
          let vb = taps4(xBase, iyb, ob[1] + dx, rowB);
          a4 += vb.x * wv; a5 += vb.y * wv; a6 += vb.z * wv; a7 += vb.w * wv;
        }
      }
    }
    xBase += plane;
  }

  let yBase = img * P.outC * hw + (g * P.m + q * 4u) * hw;
  let lanes = min(4u, P.m - q * 4u);
  // Positions past PX belong to the next invocation (PX < 4 computes them, but does not store them).
  store(a0, p0, n, hw, yBase, lanes);
  if (PX > 1u) { store(a1, p0 + 1u, n, hw, yBase, lanes); }
  if (PX > 2u) { store(a2, p0 + 2u, n, hw, yBase, lanes); }
  if (PX > 3u) { store(a3, p0 + 3u, n, hw, yBase, lanes); }
  if (PX > 4u) { store(a4, p0 + 4u, n, hw, yBase, lanes); }
  if (PX > 5u) { store(a5, p0 + 5u, n, hw, yBase, lanes); }
  if (PX > 6u) { store(a6, p0 + 6u, n, hw, yBase, lanes); }
  if (PX > 7u) { store(a7, p0 + 7u, n, hw, yBase, lanes); }
}
