// Writes the indirect dispatch arguments of a dynamic convolution over per-map lists (SDSS's
// failing neurons, SPET's survivors): x = tiles of the longest list, y = output channels,
// z = images (the dynamic convolution's workgroup mapping; workgroups past their own map's list
// return at once). The arguments live in their own buffer: an indirect buffer may not also be
// bound writable by the dispatch it sizes.
//
// Thread mapping: a single invocation.
struct Params { tile: u32, outC: u32, images: u32, maxAt: u32, argsAt: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> lists: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> args: array<u32>;

@compute @workgroup_size(1)
fn main() {
  let longest = atomicLoad(&lists[P.maxAt]);
  args[P.argsAt] = (longest + P.tile - 1u) / P.tile;
  args[P.argsAt + 1u] = P.outC;
  args[P.argsAt + 2u] = P.images;
}
