// SPET's workgroup vote for shaders/dynamic/convolution.wgsl on any adapter: workgroup memory and
// barriers make the map's list length and the vote uniform across the workgroup.
// (Prepended to the kernel; vote-subgroup.wgsl is the barrier-free alternative.)

var<workgroup> wgCount: u32;
var<workgroup> alive: atomic<u32>;
var<workgroup> anyAlive: u32;

// The number of positions of the workgroup's map, uniform across the workgroup.
fn uniformCount(lid: u32, at: u32) -> u32 {
  if (lid == 0u) { wgCount = tables[at]; }
  return workgroupUniformLoad(&wgCount);
}

// True when any invocation has a neuron not predicted to saturate.
fn anyAliveInTile(mine: bool, lid: u32) -> bool {
  if (mine) { atomicOr(&alive, 1u); }
  workgroupBarrier();
  if (lid == 0u) { anyAlive = atomicLoad(&alive); }
  return workgroupUniformLoad(&anyAlive) != 0u;
}
