// Dense inner product y[n, o] = bias[o] + sum_k W[o, k] x[n, k], with an optional fused ReLU.
//
// Thread mapping: one invocation computes 4 outputs (one vec4 of the packed weights) of one
// image, reading each input value once. Dispatch: x = ceil(quads / WG), y = images.
// A layer whose weights exceed one storage binding runs as several dispatches, each over its own
// range of outputs [outOffset, outOffset + 4 * quads) with its own weight buffer.
// Weights are packed by the host as [k][4 * quads] (padding lanes 0, never stored).
override WG: u32 = 64;

struct Params {
  inSize: u32,
  outC: u32,       // outputs of the whole layer (the row length of y)
  quads: u32,      // vec4 columns of this dispatch's weights
  relu: u32,
  slope: f32,
  outOffset: u32,  // first output of this dispatch
  _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let q = gid.x;
  if (q >= P.quads) { return; }
  let img = wid.y;
  var acc = bias[q];
  let xBase = img * P.inSize;
  var wIdx = q;
  for (var k = 0u; k < P.inSize; k++) {
    acc += x[xBase + k] * w[wIdx];
    wIdx += P.quads;
  }
  if (P.relu == 1u) { acc = select(acc * P.slope, acc, acc > vec4f(0.0)); }
  let first = P.outOffset + q * 4u;
  let lanes = min(4u, P.outC - first);
  for (var j = 0u; j < lanes; j++) { y[img * P.outC + first + j] = acc[j]; }
}
