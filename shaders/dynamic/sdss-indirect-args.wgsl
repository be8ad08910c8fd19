// Writes the indirect dispatch arguments of SDSS's evaluation pass: x = tiles of the longest list
// of neurons still to evaluate, y = output channels, z = images (the dynamic convolution's
// workgroup mapping; workgroups past their own map's list return at once).
//
// Thread mapping: a single invocation.
struct Params { tile: u32, outC: u32, images: u32, maxAt: u32, argsAt: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> tables: array<atomic<u32>>;

@compute @workgroup_size(1)
fn main() {
  let longest = atomicLoad(&tables[P.maxAt]);
  atomicStore(&tables[P.argsAt], (longest + P.tile - 1u) / P.tile);
  atomicStore(&tables[P.argsAt + 1u], P.outC);
  atomicStore(&tables[P.argsAt + 2u], P.images);
}
