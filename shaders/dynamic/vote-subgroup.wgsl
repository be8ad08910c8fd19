// SPET's workgroup vote for shaders/dynamic/convolution.wgsl when the workgroup is a single
// subgroup (WG <= the adapter's smallest subgroup size, checked by the host): subgroup operations
// need no barrier, which CPU-backed adapters pay dearly for (measured on lavapipe: the two
// barriers cost more than the convolution of cifar10-quick's conv2 itself).
// (Prepended to the kernel; vote-workgroup.wgsl is the portable alternative.)
enable subgroups;
diagnostic(off, subgroup_uniformity);

// The number of positions of the workgroup's map (the same load in every invocation).
fn uniformCount(lid: u32, at: u32) -> u32 {
  return subgroupBroadcastFirst(tables[at]);
}

// True when any invocation has a neuron not predicted to saturate.
fn anyAliveInTile(mine: bool, lid: u32) -> bool {
  return subgroupAny(mine);
}
