// Activations without weights, out of place: y = f(x), f chosen by the override KIND (the encoder
// specialises the pipeline, so each variant compiles to its own straight-line loop body):
//   KIND 0, Clip:    y = x < lo ? lo : (x > hi ? hi : x)   (NaN stays NaN, as in the CPU kernels)
//   KIND 1, Sigmoid: y = 1 / (1 + exp(-x)), evaluated as e / (1 + e) with e = exp(-|x|) for
//                    x < 0, so that exp never overflows.
//
// Thread mapping: one invocation per value. Dispatch: 2-D grid of WG-sized workgroups.
override WG: u32 = 256;
override KIND: u32 = 0;

struct Params {
  total: u32,   // values of the whole batch
  lo: f32,      // Clip: lower bound
  hi: f32,      // Clip: upper bound
  _p0: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  let v = x[i];
  if (KIND == 0u) {
    y[i] = select(select(v, P.hi, v > P.hi), P.lo, v < P.lo);
  } else {
    let e = exp(-abs(v));
    let s = 1.0 / (1.0 + e);
    y[i] = select(e * s, s, v >= 0.0);
  }
}
