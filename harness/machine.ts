import { cpus, totalmem } from 'node:os';

/** One line naming the machine a measurement ran on. */
export function machineDescription(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${list.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version} (${process.platform}/${process.arch})`;
}
