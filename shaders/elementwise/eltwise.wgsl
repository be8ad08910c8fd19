// One step of an element-wise combination of two or more blobs of one shape (Caffe Eltwise), the
// operation chosen by the override OP (0 sum, 1 product, 2 maximum). A layer with k bottoms runs
// k - 1 steps into its output: the first combines bottoms 0 and 1, each later one folds the next
// bottom into the output, in bottom order as Caffe does:
//   first step: y = ca * a op cb * b      later steps: y = y op cb * b
// The coefficients scale a sum's terms (Caffe's coeff; 1 for the other operations). The last step
// may apply a fused ReLU at the store (residual Add-ReLU).
//
// Thread mapping: one invocation per value. Dispatch: 2-D grid of WG-sized workgroups.
override WG: u32 = 256;
override OP: u32 = 0;

struct Params {
  total: u32,   // values of the whole batch
  first: u32,   // 1: the first step (reads a); 0: folds b into y
  ca: f32,      // coefficient of a (first step of a sum)
  cb: f32,      // coefficient of b (sums)
  relu: u32,    // 1: apply the fused ReLU at the store (last step only)
  slope: f32,   // its negative slope
  _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= P.total) { return; }
  var r: f32;
  if (OP == 0u) {
    let acc = select(y[i], P.ca * a[i], P.first == 1u);
    r = acc + P.cb * b[i];
  } else if (OP == 1u) {
    r = select(y[i], a[i], P.first == 1u) * b[i];
  } else {
    r = max(select(y[i], a[i], P.first == 1u), b[i]);
  }
  if (P.relu == 1u) { r = select(r * P.slope, r, r > 0.0); }
  y[i] = r;
}
