import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_FLEET, REPO_ROOT, fixtureWorkspace } from './app';

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const CLI = path.join(REPO_ROOT, 'bin', 'model-serving');

function cliEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, SERVING_CONFIG: undefined, CDK8S_OUTDIR: undefined, MODEL_REGISTRY: undefined, ...env };
}

/** Runs bin/model-serving as a user would, by default in a fresh copy of the default fixture fleet's folder. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): CliRun {
  const result = spawnSync(CLI, args, {
    cwd: options.cwd ?? fixtureWorkspace(DEFAULT_FLEET, 'cli-'),
    env: cliEnv(options.env),
    encoding: 'utf-8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** {@link runCli} without blocking: for independent runs, started {@link twoAtATime}. */
export function runCliAsync(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliRun> {
  return spawnAsync(CLI, args, { cwd: options.cwd ?? fixtureWorkspace(DEFAULT_FLEET, 'cli-'), env: cliEnv(options.env) });
}

/** Runs a command to its end without blocking the test process. */
export function spawnAsync(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs independent tasks two at a time (the machine has two cores); the results in the tasks' order. */
export async function twoAtATime<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < tasks.length; i = next++) results[i] = await tasks[i]();
  };
  await Promise.all([worker(), worker()]);
  return results;
}
