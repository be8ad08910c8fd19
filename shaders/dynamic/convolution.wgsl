// Dynamic convolution: evaluates a LIST of output positions per output map, with SPET's
// workgroup-level saturation prediction and SFMA's dropped maps (each mechanism's own passes
// prepare what this kernel reads; with every knob off it is a plain convolution). Also serves the
// inner product (a convolution whose kernel is the whole input map).
//
// Thread mapping: workgroup (x, y, z) = (tile of positions, output channel o, image); each of its
// WG invocations evaluates PX positions k = tile * WG * PX + i * WG + lid of the map's list.
// All invocations of a workgroup share o, so they walk o's channel order together.
// Phases (P.phase):
//   0  whole neurons (SPET off): acc = bias (+ SFMA's correction: the kernel sums K_o of the
//      dropped maps over the in-bounds taps), then every kept channel; stored.
//   1  SPET, significant part: acc = bias (+ correction) + o's significant kept channels
//      (order[o][0 .. nSig)); a neuron is predicted to saturate when acc + bound < threshold
//      (threshold mode: bound 0; exact mode: threshold 0 and the bound of the rest). Predicted
//      neurons store 0; each surviving neuron stores its partial sum and joins its map's
//      survivor list (compaction, as SDSS compacts its failing neurons).
//   2  SPET, the rest: over the survivor lists (an indirect dispatch sized by
//      sdss-indirect-args.wgsl), acc = the stored partial sum + the rest kept channels; stored.
// So SPET executes exactly the MACs of per-neuron termination, in full workgroups: a workgroup
// that stopped when all its neurons saturate, and finished all of them otherwise, executed 1.02x
// fewer MACs than dense on squeezenet-dc where per-neuron termination executes 1.20x fewer.
// Counted with atomics per dispatch slot: [0, 1] MACs executed (64 bits), [2] SPET neurons
// predicted, [3] of those terminated, [4] workgroups that had positions to evaluate.
// Decision trace (P.trace = 1): phase 1 writes 1 (NEURON_SPET_TERMINATED) for each predicted
// neuron into `decisions` (one u32 per output neuron, cleared before the layer), next to the
// counter it feeds; untraced plans bind a placeholder and write nothing.
override WG: u32 = 64;
override PX: u32 = 4;        // positions per invocation, at most MAX_PX
const MAX_PX: u32 = 8u;

struct Params {
  inC: u32, inH: u32, inW: u32, outC: u32,
  outH: u32, outW: u32, kH: u32, kW: u32,
  sH: u32, sW: u32, pH: u32, pW: u32,
  dH: u32, dW: u32, cpg: u32, m: u32,
  nSig: u32,       // o's significant channels (cpg when SPET is off)
  phase: u32,      // 0, 1 or 2 (above)
  threshold: f32,
  relu: u32,       // 1: fused ReLU at the store (slope 0)
  rectify: u32,    // 1: store max(v, 0) (SDSS grid neurons of a rectified layer)
  sfma: u32,       // 1: add the correction of dropped maps
  biasAt: u32,     // tables: bias as f32 bits, per o
  orderAt: u32,    // tables: per o, its cpg channels (group-relative): significant, then rest
  posAt: u32,      // list (tables; phase 2: survivors): map (img, o)'s positions at posAt + (img * outC + o) * posStride
  posStride: u32,
  countAt: u32,    // list: how many positions map (img, o) has, at countAt + map * countStride
  countStride: u32,
  keepAt: u32,     // run: per (img, c) 1 = kept, 0 = dropped by SFMA
  kAt: u32,        // run: per (img, o, tap) K_o
  boundAt: u32,    // run: per (img, o) the exact-SPET bound (0 otherwise)
  slot: u32,       // stats: this dispatch's 8 counters
  survAt: u32,     // survivors (phase 1): map's survivor list at survAt + map * survStride
  survStride: u32,
  survCountAt: u32, // survivors: per map, its list length (cleared before phase 1)
  survMaxAt: u32,  // survivors: the longest list (cleared before phase 1)
  trace: u32,      // 1: record SPET's terminations in `decisions`
  residual: u32,   // 1: SPET through a residual sum: tests acc + addend; a predicted neuron stores -addend
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;        // Caffe layout (o, c, ky, kx)
@group(0) @binding(3) var<storage, read> tables: array<u32>;
@group(0) @binding(4) var<storage, read> run: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> stats: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> survivors: array<atomic<u32>>;
@group(0) @binding(8) var<storage, read_write> decisions: array<u32>;  // per output neuron (trace)
@group(0) @binding(9) var<storage, read> addend: array<f32>;           // residual: laid out like y

// An entry of the list the dispatch evaluates.
fn entry(at: u32) -> u32 {
  if (P.phase == 2u) { return atomicLoad(&survivors[at]); }
  return tables[at];
}

fn add64(at: u32, v: u32) {
  if (v == 0u) { return; }
  let old = atomicAdd(&stats[at], v);
  if (old > 0xffffffffu - v) { atomicAdd(&stats[at + 1u], 1u); }
}

// acc[i] += the taps of one input channel for the 4 positions.
fn channel(acc: ptr<function, array<f32, MAX_PX>>, xc: u32, wc: u32, iy0: array<i32, MAX_PX>, ix0: array<i32, MAX_PX>) {
  for (var ky = 0u; ky < P.kH; ky++) {
    for (var kx = 0u; kx < P.kW; kx++) {
      let wv = w[wc + ky * P.kW + kx];
      for (var i = 0u; i < PX; i++) {
        let iy = iy0[i] + i32(ky * P.dH);
        let ix = ix0[i] + i32(kx * P.dW);
        if (iy >= 0 && iy < i32(P.inH) && ix >= 0 && ix < i32(P.inW)) {
          (*acc)[i] += x[xc + u32(iy) * P.inW + u32(ix)] * wv;
        }
      }
    }
  }
}

fn correction(kBase: u32, iy0: i32, ix0: i32) -> f32 {
  var s = 0.0;
  for (var ky = 0u; ky < P.kH; ky++) {
    let iy = iy0 + i32(ky * P.dH);
    if (iy < 0 || iy >= i32(P.inH)) { continue; }
    for (var kx = 0u; kx < P.kW; kx++) {
      let ix = ix0 + i32(kx * P.dW);
      if (ix >= 0 && ix < i32(P.inW)) { s += run[kBase + ky * P.kW + kx]; }
    }
  }
  return s;
}

fn store(at: u32, v: f32) {
  var r = v;
  if (P.relu == 1u || P.rectify == 1u) { r = max(r, 0.0); }
  y[at] = r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = wid.y;
  let img = wid.z;
  let map = img * P.outC + o;
  let count = entry(P.countAt + map * P.countStride);
  let tileStart = wid.x * WG * PX;
  if (tileStart >= count) { return; }

  let g = o / P.m;
  let hw = P.outH * P.outW;
  let taps = P.kH * P.kW;
  var pos: array<u32, MAX_PX>;
  var valid: array<bool, MAX_PX>;
  var iy0: array<i32, MAX_PX>;
  var ix0: array<i32, MAX_PX>;
  var nValid = 0u;
  for (var i = 0u; i < PX; i++) {
    let k = tileStart + i * WG + lid;
    valid[i] = k < count;
    let p = entry(P.posAt + map * P.posStride + min(k, count - 1u));
    pos[i] = p;
    iy0[i] = i32((p / P.outW) * P.sH) - i32(P.pH);
    ix0[i] = i32((p % P.outW) * P.sW) - i32(P.pW);
    nValid += u32(valid[i]);
  }

  var acc: array<f32, MAX_PX>;
  let b = bitcast<f32>(tables[P.biasAt + o]);
  for (var i = 0u; i < PX; i++) {
    if (P.phase == 2u) {
      acc[i] = y[map * hw + pos[i]];
    } else {
      acc[i] = b;
      if (P.sfma == 1u) { acc[i] += correction(P.kAt + map * taps, iy0[i], ix0[i]); }
    }
  }

  // Phase 0: every channel; 1: the significant ones; 2: the rest.
  let first = select(0u, P.nSig, P.phase == 2u);
  let last = select(P.nSig, P.cpg, P.phase != 1u);
  let plane = P.inH * P.inW;
  let xGroup = (img * P.inC + g * P.cpg) * plane;
  let keepBase = P.keepAt + img * P.inC + g * P.cpg;
  let orderBase = P.orderAt + o * P.cpg;
  var kept = 0u;
  for (var j = first; j < last; j++) {
    let c = tables[orderBase + j];
    if (run[keepBase + c] == 0.0) { continue; }
    kept++;
    channel(&acc, xGroup + c * plane, (o * P.cpg + c) * taps, iy0, ix0);
  }
  add64(P.slot, nValid * kept * taps);
  if (lid == 0u) { atomicAdd(&stats[P.slot + 4u], 1u); }
  if (P.phase != 1u) {
    for (var i = 0u; i < PX; i++) { if (valid[i]) { store(map * hw + pos[i], acc[i]); } }
    return;
  }

  var predicted: array<bool, MAX_PX>;
  var nPredicted = 0u;
  let bnd = run[P.boundAt + map];
  for (var i = 0u; i < PX; i++) {
    var s = acc[i];
    if (P.residual == 1u) { s += addend[map * hw + pos[i]]; }
    predicted[i] = valid[i] && s + bnd < P.threshold;
    nPredicted += u32(predicted[i]);
  }
  atomicAdd(&stats[P.slot + 2u], nValid);
  atomicAdd(&stats[P.slot + 3u], nPredicted);
  let alive = nValid - nPredicted;
  var at = 0u;
  if (alive > 0u) {
    at = atomicAdd(&survivors[P.survCountAt + map], alive);
    atomicMax(&survivors[P.survMaxAt], at + alive);
  }
  for (var i = 0u; i < PX; i++) {
    if (!valid[i]) { continue; }
    if (predicted[i]) {
      // On a residual layer the sum conv + addend becomes exactly 0.
      y[map * hw + pos[i]] = select(0.0, -addend[map * hw + pos[i]], P.residual == 1u);
      if (P.trace == 1u) { decisions[map * hw + pos[i]] = 1u; }
    } else {
      y[map * hw + pos[i]] = acc[i];  // the partial sum phase 2 goes on from
      atomicStore(&survivors[P.survAt + map * P.survStride + at], pos[i]);
      at++;
    }
  }
}
