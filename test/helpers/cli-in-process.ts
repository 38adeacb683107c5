import { vi } from 'vitest';
import { run } from '../../cli';
import type { CliRun } from './cli';

/**
 * Runs the CLI in this process (the same code as bin/model-serving), capturing what it prints.
 * For tests that run a command many times: the schemas are compiled once per process.
 */
export async function runCliInProcess(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => { out.push(`${parts.join(' ')}\n`); });
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => { err.push(`${parts.join(' ')}\n`); });
  try {
    const status = await run(args);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
