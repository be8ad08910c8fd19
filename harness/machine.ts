import { cpus, totalmem } from 'node:os';

/** The runtime's name and version: Deno reports a Node version through its compatibility layer. */
function runtime(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? `Deno ${deno.version.deno}` : `Node ${process.version}`;
}

/** One line naming the machine a measurement ran on. */
export function machineDescription(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${list.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${runtime()} (${process.platform}/${process.arch})`;
}
