import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_FLEET, REPO_ROOT, fixtureWorkspace } from './app';

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/model-serving as a user would, by default in a fresh copy of the default fixture fleet's folder. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): CliRun {
  const result = spawnSync(path.join(REPO_ROOT, 'bin', 'model-serving'), args, {
    cwd: options.cwd ?? fixtureWorkspace(DEFAULT_FLEET, 'cli-'),
    env: { ...process.env, SERVING_CONFIG: undefined, CDK8S_OUTDIR: undefined, MODEL_REGISTRY: undefined, ...options.env },
    encoding: 'utf-8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

