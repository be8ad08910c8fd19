// Tile-mode dynamic convolution (src/mechanisms/tile-plan.ts has the semantics): every decision
// is taken per TILE, one output channel x TP consecutive entries of a list of output positions
// (all positions, or SDSS's grid, or SDSS's positions off the grid).
//
// One invocation evaluates ONE TILE POSITION-RANGE FOR FOUR OUTPUT CHANNELS (a quad): each loaded
// input serves 4 outputs, each loaded weight TP positions (the dense kernel's register blocking);
// the decisions stay per channel (per tile). Over a whole list (direct dispatch) the quads are
// 4 consecutive channels; the tiles that survive SPET's test are compacted into NEW quads of 4
// surviving channels of the same tile and image (any channels), so that the indirect dispatch
// that finishes them runs full quads in full workgroups; those that fail SDSS's test are
// re-packed alike, within their workgroup (phase 3). A list entry is 4
// words: (img * nTiles + tile, c0 | c1 << 16, c2 | c3 << 16, 0), 0xffff = no channel.
// Accumulators and positions sit in arrays of MAX_TP; the hot loops over a tile's TP positions (an
// override constant) are unrolled by hand; out-of-image taps read element 0 under select().
//
// One significance order of input channels per layer (tables[orderAt + j]); the weights come
// permuted into that order and transposed, wT[(j * taps + t) * outC4 + o]. SFMA's dropped maps
// are skipped (run keep flags) and their correction (the kernel sums K_o over the in-bounds taps,
// sfma-kernel-sums.wgsl) starts the sum. Ungrouped convolutions only (one order, any channels in
// a quad).
//
// Phases (P.phase):
//   0  whole tiles (SPET off): bias (+ correction) + every kept channel; stored. (SDSS's grid
//      without SPET or SFMA runs on the dense kernel instead, convolution/dense.wgsl over a list.)
//   1  SPET pass 1, test and compaction in one dispatch: bias (+ correction) + the significant
//      kept channels (j < nSig); a tile is SATURATED when every neuron's value (+ addend on a
//      residual layer) is below its limit: o's threshold, or in exact mode -bound(img, o). A
//      saturated tile stores 0 (on a residual layer -addend, so that the sum is 0); any other
//      stores its partial sums and is appended to the output list, whose indirect arguments the
//      same dispatch keeps up to date (no separate arguments pass).
//   2  SPET pass 2 over a list (indirect, full workgroups): the stored partial sums + the rest
//      kept channels (j >= nSig); stored.
//   3  SDSS over the tiles of the positions off the grid, decision and evaluation in one
//      dispatch: every neuron compares its 4 grid neighbours (a pair stored twice); when all of a
//      tile pass (max - min <= delta), it is interpolated. The workgroup's failing tiles are
//      re-packed into quads of 4 failing channels of one tile (one quad per lane, compaction in
//      workgroup memory) and evaluated at once by phase P.then: 0, or 1, whose survivors go to
//      the output list for phase 2. (A decision dispatch of its own that compacts the failing
//      tiles into a global list for an indirect one fills workgroups better, at the cost of a
//      third dispatch; on lavapipe the two designs took the same time within the noise.)
//
// Work items: direct dispatch (P.fromList = 0) = workgroup (x, y, z) -> tiles x * (WG / cb) ..,
// image z; lane l -> tile slot l / cb, channels 4 * (y * cb + l % cb) ..; list dispatch = one entry
// per lane, the count at work[inCountAt].
// Counters per dispatch slot (atomics, summed per workgroup first): [0, 1] MACs (64 bits),
// [2] SPET neurons tested, [3] of those terminated, [4] workgroups that had a tile; phase 3 also
// counts interpolated neurons at [0] of a slot of its own (P.decideSlot).
// Decision trace (P.trace = 1): 1 per terminated neuron, 2 per interpolated one, in `decisions`.
override WG: u32 = 64;
override TP: u32 = 8;        // positions per tile (1, 8 or 16), at most MAX_TP
const MAX_TP: u32 = 16u;  // the hot loops in evaluate() are unrolled for 16 positions
const NONE: u32 = 0xffffu;

struct Params {
  inC: u32, inH: u32, inW: u32, outC: u32,
  outH: u32, outW: u32, kH: u32, kW: u32,
  sH: u32, sW: u32, pH: u32, pW: u32,
  dH: u32, dW: u32, cpg: u32, m: u32,
  phase: u32,      // 0 .. 3 (above)
  nSig: u32,       // significant channels per group (cpg when SPET is off)
  exact: u32,      // 1: exact SPET (limit = -bound)
  residual: u32,   // 1: SPET tests value + addend; a terminated neuron stores -addend
  relu: u32,       // 1: fused ReLU at the final store
  rectify: u32,    // 1: final store max(v, 0) (SDSS grid of a rectified layer)
  sfma: u32,       // 1: add the correction of dropped maps
  delta: f32,      // SDSS threshold (phase 3)
  biasAt: u32,     // tables: f32 bits per o
  thrAt: u32,      // tables: SPET threshold per o (f32 bits)
  orderAt: u32,    // tables: per group, cpg channels in significance order
  listAt: u32,     // tables: the positions of the list the tiles cover
  listLen: u32,
  nTiles: u32,     // tiles per map of that list: ceil(listLen / TP)
  neighbourAt: u32, // tables (phase 3): 4 grid neighbours per entry of the list
  cb: u32,         // direct dispatch: channel quads per tile in a workgroup
  fromList: u32,   // 1: entries from work[inAt + 4k ..] (indirect dispatch)
  inAt: u32,
  inCountAt: u32,
  outAt: u32,      // phases 1, 3: the list appended to, entries at work[outAt + 4k ..], its count at work[outCountAt]
  outCountAt: u32,
  argsAt: u32,     // args: (x, y, z) of the indirect dispatch over the output list
  argsY: u32,      // its fixed y (lists longer than WG x 65535 entries)
  keepAt: u32,     // run: per (img, c) 1 = kept, 0 = dropped by SFMA
  kAt: u32,        // run: per (img, o, tap) K_o
  boundAt: u32,    // run: per (img, o) the exact-SPET bound
  slot: u32,       // stats: this dispatch's 8 counters
  trace: u32,      // 1: record decisions
  outC4: u32,      // outC rounded up to 4 (a row of the weights)
  four: u32,       // 4: the bound of the loops over a quad's channels, a uniform so that the
                   // compiler does not unroll them (their bodies are large; compile time on
                   // software adapters grew by minutes)
  then: u32,       // phase 3: the phase its failing tiles are evaluated with (0 or 1)
  decideSlot: u32, // phase 3: the stats slot counting interpolated neurons
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wT: array<f32>;
@group(0) @binding(3) var<storage, read> tables: array<u32>;
@group(0) @binding(4) var<storage, read> run: array<f32>;
@group(0) @binding(5) var<storage, read> addend: array<f32>;   // residual: laid out like y
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> stats: array<atomic<u32>>;
@group(0) @binding(8) var<storage, read_write> work: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read_write> args: array<atomic<u32>>;
@group(0) @binding(10) var<storage, read_write> decisions: array<u32>;

var<workgroup> wgMacs: atomic<u32>;
var<workgroup> wgTested: atomic<u32>;
var<workgroup> wgTerminated: atomic<u32>;
var<workgroup> wgBusy: atomic<u32>;
var<workgroup> wgInterpolated: atomic<u32>;
var<workgroup> wgBase: u32;
// Compaction, per tile slot of the workgroup: its appended channels, their count, its tile key and
// the first of its new quads (relative to the workgroup's base).
var<workgroup> slotChannels: array<u32, WG * 4>;
var<workgroup> slotCount: array<atomic<u32>, WG>;
var<workgroup> slotKey: array<u32, WG>;
var<workgroup> slotFirst: array<u32, WG>;
// Phase 3: the workgroup's failing tiles as quads (tile key, channels), and how many.
var<workgroup> quadKey: array<u32, WG>;
var<workgroup> quadChannels: array<vec4u, WG>;
var<workgroup> wgQuads: u32;

// This invocation's tile: positions and their input origins, how many exist (a list's last tile is short).
var<private> pos: array<u32, MAX_TP>;
var<private> iy0: array<i32, MAX_TP>;
var<private> ix0: array<i32, MAX_TP>;
var<private> nValid: u32;

fn add64(at: u32, v: u32) {
  if (v == 0u) { return; }
  let old = atomicAdd(&stats[at], v);
  if (old > 0xffffffffu - v) { atomicAdd(&stats[at + 1u], 1u); }
}

// K_o summed over the taps of position (iy0, ix0) that fall inside the input.
fn correction(kBase: u32, y0: i32, x0: i32) -> f32 {
  var s = 0.0;
  for (var ky = 0u; ky < P.kH; ky++) {
    let iy = y0 + i32(ky * P.dH);
    if (iy < 0 || iy >= i32(P.inH)) { continue; }
    for (var kx = 0u; kx < P.kW; kx++) {
      let ix = x0 + i32(kx * P.dW);
      if (ix >= 0 && ix < i32(P.inW)) { s += run[kBase + ky * P.kW + kx]; }
    }
  }
  return s;
}

fn loadTile(ti: u32) {
  nValid = 0u;
  for (var i = 0u; i < TP; i++) {
    let k = ti * TP + i;
    let ok = k < P.listLen;
    let p = tables[P.listAt + select(ti * TP, k, ok)];
    pos[i] = p;
    iy0[i] = i32((p / P.outW) * P.sH) - i32(P.pH);
    ix0[i] = i32((p % P.outW) * P.sW) - i32(P.pW);
    nValid += u32(ok);
  }
}

// x at column ix of an input row starting at `at` (rowOk: the row is inside the image), 0
// outside the image; one unsigned comparison tests both column bounds (a negative ix wraps).
fn tapRow(at: i32, rowOk: bool, ix: i32) -> f32 {
  let ok = rowOk & (u32(ix) < P.inW);
  return select(0.0, x[select(0, at + ix, ok)], ok);
}

fn finalStore(at: u32, v: f32) {
  var r = v;
  if (P.relu == 1u || P.rectify == 1u) { r = max(r, 0.0); }
  y[at] = r;
}

// Appends channel o's tile (in tile slot `slot` of `spl` lanes, key img * nTiles + tile) for compaction.
fn append(slot: u32, spl: u32, key: u32, o: u32) {
  let n = atomicAdd(&slotCount[slot], 1u);
  slotChannels[slot * 4u * spl + n] = o;
  slotKey[slot] = key;
}

// Lane 0, after a barrier: each slot's appended channels become ceil(n / 4) quads, numbered slot
// by slot (slotFirst[s]: slot s's first); returns how many.
fn numberQuads(spl: u32) -> u32 {
  var total = 0u;
  for (var s = 0u; s < WG / spl; s++) {
    slotFirst[s] = total;
    total += (atomicLoad(&slotCount[s]) + 3u) / 4u;
  }
  return total;
}

// Quad q of a slot that holds n appended channels (NONE past them).
fn slotQuad(slot: u32, spl: u32, q: u32, n: u32) -> vec4u {
  var c = vec4u(NONE);
  for (var k = 0u; k < 4u; k++) {
    if (q * 4u + k < n) { c[k] = slotChannels[slot * 4u * spl + q * 4u + k]; }
  }
  return c;
}

// SPET's test of channel o's tile on sums s (pass 1): stores 0 (-addend) or the partial sums;
// true when the tile survives.
fn spetTest(img: u32, o: u32, s: array<f32, MAX_TP>) -> bool {
  let hw = P.outH * P.outW;
  let map = img * P.outC + o;
  var limit = bitcast<f32>(tables[P.thrAt + o]);
  if (P.exact == 1u) { limit = -run[P.boundAt + map]; }
  var saturated = true;
  for (var i = 0u; i < TP; i++) {
    var v = s[i];
    if (P.residual == 1u) { v += addend[map * hw + pos[i]]; }
    saturated = saturated && (i >= nValid || v < limit);
  }
  atomicAdd(&wgTested, nValid);
  if (saturated) { atomicAdd(&wgTerminated, nValid); }
  for (var i = 0u; i < TP; i++) {
    if (i >= nValid) { continue; }
    let at = map * hw + pos[i];
    if (saturated) {
      y[at] = select(0.0, -addend[at], P.residual == 1u);
      if (P.trace == 1u) { decisions[at] = 1u; }
    } else {
      y[at] = s[i];
    }
  }
  return !saturated;
}

// SDSS's test of channel o's tile off the grid: interpolates it (true) or not.
fn sdssTest(img: u32, o: u32, ti: u32) -> bool {
  let base = (img * P.outC + o) * P.outH * P.outW;
  var mean: array<f32, MAX_TP>;
  var allPass = true;
  for (var i = 0u; i < TP; i++) {
    let e = P.neighbourAt + 4u * (ti * TP + min(i, nValid - 1u));
    let a = y[base + tables[e]];
    let b = y[base + tables[e + 1u]];
    let c = y[base + tables[e + 2u]];
    let d = y[base + tables[e + 3u]];
    mean[i] = ((a + b) + (c + d)) * 0.25;
    allPass = allPass && (max(max(a, b), max(c, d)) - min(min(a, b), min(c, d)) <= P.delta);
  }
  if (!allPass) { return false; }
  for (var i = 0u; i < TP; i++) {
    if (i >= nValid) { continue; }
    y[base + pos[i]] = mean[i];
    if (P.trace == 1u) { decisions[base + pos[i]] = 2u; }
  }
  atomicAdd(&wgInterpolated, nValid);
  return true;
}

// Phase 0, 1 or 2 on the tile for channels ch (NONE: absent); appends what phase 1 lets survive.
fn evaluate(phase: u32, img: u32, ti: u32, ch: vec4u, slot: u32, spl: u32) {
  let hw = P.outH * P.outW;
  let taps = P.kH * P.kW;
  let present = vec4<bool>(ch.x != NONE, ch.y != NONE, ch.z != NONE, ch.w != NONE);
  let o = select(vec4u(ch.x), ch, present);  // absent lanes compute channel ch.x again, never stored
  var acc: array<vec4f, MAX_TP>;
  for (var i = 0u; i < TP; i++) {
    if (phase == 2u) {
      let at = vec4u(img * P.outC) * hw + o * hw + vec4u(pos[i]);
      acc[i] = vec4f(y[at.x], y[at.y], y[at.z], y[at.w]);
    } else {
      var b = vec4f(bitcast<f32>(tables[P.biasAt + o.x]), bitcast<f32>(tables[P.biasAt + o.y]),
                    bitcast<f32>(tables[P.biasAt + o.z]), bitcast<f32>(tables[P.biasAt + o.w]));
      if (P.sfma == 1u) {
        for (var k = 0u; k < P.four; k++) { b[k] += correction(P.kAt + (img * P.outC + o[k]) * taps, iy0[i], ix0[i]); }
      }
      acc[i] = b;
    }
  }
  let first = select(0u, P.nSig, phase == 2u);
  let last = select(P.nSig, P.cpg, phase != 1u);
  let plane = P.inH * P.inW;
  let xImg = img * P.inC * plane;
  let keepBase = P.keepAt + img * P.inC;
  var kept = 0u;
  for (var j = first; j < last; j++) {
    let c = tables[P.orderAt + j];
    if (P.sfma == 1u && run[keepBase + c] == 0.0) { continue; }
    kept++;
    let xc = i32(xImg + c * plane);
    // Both loops over a tile's TP positions are unrolled by hand (constant indices), and each
    // position's input row is found once per tap row: SwiftShader (Chromium's software adapter)
    // does not unroll, and reads and writes a dynamically indexed array with a gather / scatter
    // per lane. Together: cifar10-quick's profile 0.65x -> 1.03-1.05x dense there.
    for (var ky = 0u; ky < P.kH; ky++) {
      let dy = i32(ky * P.dH);
      var rowAt: array<i32, MAX_TP>;
      var rowOk: array<bool, MAX_TP>;
      if (TP > 0u) { let iy = iy0[0] + dy; rowAt[0] = xc + iy * i32(P.inW); rowOk[0] = u32(iy) < P.inH; }
      if (TP > 1u) { let iy = iy0[1] + dy; rowAt[1] = xc + iy * i32(P.inW); rowOk[1] = u32(iy) < P.inH; }
      if (TP > 2u) { let iy = iy0[2] + dy; rowAt[2] = xc + iy * i32(P.inW); rowOk[2] = u32(iy) < P.inH; }
      if (TP > 3u) { let iy = iy0[3] + dy; rowAt[3] = xc + iy * i32(P.inW); rowOk[3] = u32(iy) < P.inH; }
      if (TP > 4u) { let iy = iy0[4] + dy; rowAt[4] = xc + iy * i32(P.inW); rowOk[4] = u32(iy) < P.inH; }
      if (TP > 5u) { let iy = iy0[5] + dy; rowAt[5] = xc + iy * i32(P.inW); rowOk[5] = u32(iy) < P.inH; }
      if (TP > 6u) { let iy = iy0[6] + dy; rowAt[6] = xc + iy * i32(P.inW); rowOk[6] = u32(iy) < P.inH; }
      if (TP > 7u) { let iy = iy0[7] + dy; rowAt[7] = xc + iy * i32(P.inW); rowOk[7] = u32(iy) < P.inH; }
      if (TP > 8u) { let iy = iy0[8] + dy; rowAt[8] = xc + iy * i32(P.inW); rowOk[8] = u32(iy) < P.inH; }
      if (TP > 9u) { let iy = iy0[9] + dy; rowAt[9] = xc + iy * i32(P.inW); rowOk[9] = u32(iy) < P.inH; }
      if (TP > 10u) { let iy = iy0[10] + dy; rowAt[10] = xc + iy * i32(P.inW); rowOk[10] = u32(iy) < P.inH; }
      if (TP > 11u) { let iy = iy0[11] + dy; rowAt[11] = xc + iy * i32(P.inW); rowOk[11] = u32(iy) < P.inH; }
      if (TP > 12u) { let iy = iy0[12] + dy; rowAt[12] = xc + iy * i32(P.inW); rowOk[12] = u32(iy) < P.inH; }
      if (TP > 13u) { let iy = iy0[13] + dy; rowAt[13] = xc + iy * i32(P.inW); rowOk[13] = u32(iy) < P.inH; }
      if (TP > 14u) { let iy = iy0[14] + dy; rowAt[14] = xc + iy * i32(P.inW); rowOk[14] = u32(iy) < P.inH; }
      if (TP > 15u) { let iy = iy0[15] + dy; rowAt[15] = xc + iy * i32(P.inW); rowOk[15] = u32(iy) < P.inH; }
      for (var kx = 0u; kx < P.kW; kx++) {
        let row = (j * taps + ky * P.kW + kx) * P.outC4;
        let wv = vec4f(wT[row + o.x], wT[row + o.y], wT[row + o.z], wT[row + o.w]);
        let dx = i32(kx * P.dW);
        if (TP > 0u) { acc[0] += tapRow(rowAt[0], rowOk[0], ix0[0] + dx) * wv; }
        if (TP > 1u) { acc[1] += tapRow(rowAt[1], rowOk[1], ix0[1] + dx) * wv; }
        if (TP > 2u) { acc[2] += tapRow(rowAt[2], rowOk[2], ix0[2] + dx) * wv; }
        if (TP > 3u) { acc[3] += tapRow(rowAt[3], rowOk[3], ix0[3] + dx) * wv; }
        if (TP > 4u) { acc[4] += tapRow(rowAt[4], rowOk[4], ix0[4] + dx) * wv; }
        if (TP > 5u) { acc[5] += tapRow(rowAt[5], rowOk[5], ix0[5] + dx) * wv; }
        if (TP > 6u) { acc[6] += tapRow(rowAt[6], rowOk[6], ix0[6] + dx) * wv; }
        if (TP > 7u) { acc[7] += tapRow(rowAt[7], rowOk[7], ix0[7] + dx) * wv; }
        if (TP > 8u) { acc[8] += tapRow(rowAt[8], rowOk[8], ix0[8] + dx) * wv; }
        if (TP > 9u) { acc[9] += tapRow(rowAt[9], rowOk[9], ix0[9] + dx) * wv; }
        if (TP > 10u) { acc[10] += tapRow(rowAt[10], rowOk[10], ix0[10] + dx) * wv; }
        if (TP > 11u) { acc[11] += tapRow(rowAt[11], rowOk[11], ix0[11] + dx) * wv; }
        if (TP > 12u) { acc[12] += tapRow(rowAt[12], rowOk[12], ix0[12] + dx) * wv; }
        if (TP > 13u) { acc[13] += tapRow(rowAt[13], rowOk[13], ix0[13] + dx) * wv; }
        if (TP > 14u) { acc[14] += tapRow(rowAt[14], rowOk[14], ix0[14] + dx) * wv; }
        if (TP > 15u) { acc[15] += tapRow(rowAt[15], rowOk[15], ix0[15] + dx) * wv; }
      }
    }
  }
  let nCh = u32(present.x) + u32(present.y) + u32(present.z) + u32(present.w);
  atomicAdd(&wgMacs, nValid * kept * taps * nCh);
  for (var k = 0u; k < P.four; k++) {
    if (!present[k]) { continue; }
    if (phase == 1u) {
      var s: array<f32, MAX_TP>;
      for (var i = 0u; i < TP; i++) { s[i] = acc[i][k]; }
      if (spetTest(img, o[k], s)) { append(slot, spl, img * P.nTiles + ti, o[k]); }
    } else {
      let map = img * P.outC + o[k];
      for (var i = 0u; i < TP; i++) { if (i < nValid) { finalStore(map * hw + pos[i], acc[i][k]); } }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  // Lanes per tile slot: a direct dispatch's cb quads share a tile; a list's entries each have their own.
  var spl = select(P.cb, 1u, P.fromList == 1u);
  var slot = lid / spl;
  // This lane's tile (image, tile index) and channels, if it has one.
  var img = wid.z;
  var ti = 0u;
  var ch = vec4u(NONE);
  var live = false;
  if (P.fromList == 1u) {
    let idx = (wid.y * nwg.x + wid.x) * WG + lid;
    if (idx < atomicLoad(&work[P.inCountAt])) {
      let e = P.inAt + 4u * idx;
      let key = atomicLoad(&work[e]);
      let c01 = atomicLoad(&work[e + 1u]);
      let c23 = atomicLoad(&work[e + 2u]);
      img = key / P.nTiles;
      ti = key % P.nTiles;
      ch = vec4u(c01 & 0xffffu, c01 >> 16u, c23 & 0xffffu, c23 >> 16u);
      live = true;
    }
  } else {
    ti = wid.x * (WG / P.cb) + slot;
    let o0 = 4u * (wid.y * P.cb + lid % P.cb);
    let quad = vec4u(o0) + vec4u(0u, 1u, 2u, 3u);
    ch = select(vec4u(NONE), quad, quad < vec4u(P.outC));
    live = o0 < P.outC && ti < P.nTiles;
  }
  let decide = P.phase == 3u;
  if (decide && live) {
    loadTile(ti);
    for (var k = 0u; k < P.four; k++) {
      if (ch[k] != NONE && !sdssTest(img, ch[k], ti)) { append(slot, spl, img * P.nTiles + ti, ch[k]); }
    }
  }
  // The phase this lane's tiles are evaluated with, uniform (a per-lane value made the compiler
  // keep both sides of evaluate's phase tests: about 10 % slower on lavapipe).
  let phase = select(P.phase, P.then, decide);
  if (decide) {
    // The failing tiles, slot by slot, become quads of the workgroup; lane l evaluates quad l.
    workgroupBarrier();
    if (lid == 0u) { wgQuads = numberQuads(spl); }
    workgroupBarrier();
    let n = atomicLoad(&slotCount[slot]);
    let q = lid % spl;
    if (q * 4u < n) {
      quadKey[slotFirst[slot] + q] = slotKey[slot];
      quadChannels[slotFirst[slot] + q] = slotQuad(slot, spl, q, n);
    }
    let quads = workgroupUniformLoad(&wgQuads);
    // The slots are this lane's again (one tile each) for what phase 1 lets survive.
    atomicStore(&slotCount[lid], 0u);
    spl = 1u;
    slot = lid;
    live = lid < quads;
    if (live) {
      img = quadKey[lid] / P.nTiles;
      ti = quadKey[lid] % P.nTiles;
      ch = quadChannels[lid];
    }
    workgroupBarrier();
  }
  if (live && phase < 3u) {
    loadTile(ti);
    atomicOr(&wgBusy, 1u);
    evaluate(phase, img, ti, ch, slot, spl);
  }

  // Compaction: each slot's appended channels become ceil(n / 4) quads, the workgroup's quads
  // consecutive entries of the output list.
  workgroupBarrier();
  if (lid == 0u) {
    let total = numberQuads(spl);
    var base = 0u;
    if (total > 0u) {
      base = atomicAdd(&work[P.outCountAt], total);
      let perX = WG * P.argsY;
      atomicMax(&args[P.argsAt], (base + total + perX - 1u) / perX);
      atomicStore(&args[P.argsAt + 1u], P.argsY);
      atomicStore(&args[P.argsAt + 2u], 1u);
    }
    wgBase = base;
    if (decide) { atomicAdd(&stats[P.decideSlot], atomicLoad(&wgInterpolated)); }
    add64(P.slot, atomicLoad(&wgMacs));
    atomicAdd(&stats[P.slot + 2u], atomicLoad(&wgTested));
    atomicAdd(&stats[P.slot + 3u], atomicLoad(&wgTerminated));
    atomicAdd(&stats[P.slot + 4u], atomicLoad(&wgBusy));
  }
  let base = workgroupUniformLoad(&wgBase);
  // Lane u of a slot writes the slot's quad u (a slot has at most 4 x spl channels).
  let n = atomicLoad(&slotCount[slot]);
  let q = lid % spl;
  if (q * 4u < n) {
    let c = slotQuad(slot, spl, q, n);
    let e = P.outAt + 4u * (base + slotFirst[slot] + q);
    atomicStore(&work[e], slotKey[slot]);
    atomicStore(&work[e + 1u], c.x | (c.y << 16u));
    atomicStore(&work[e + 2u], c.z | (c.w << 16u));
  }
}
