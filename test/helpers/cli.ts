import { vi } from 'vitest';
import { main } from '../../harness/cli.js';

/** What one in-process `dyve` command printed, its exit code and how long it took. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly seconds: number;
}

/** Runs the CLI in-process (no child process: the tests stay fast) and captures what it prints. */
export async function dyve(...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const start = performance.now();
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n'), seconds: (performance.now() - start) / 1000 };
  } finally {
    vi.restoreAllMocks();
  }
}
