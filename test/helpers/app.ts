import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadFleet, parseFleet } from '../../lib/fleet';
import { synthesizeFleet } from '../../lib/output';
import { registryBesideFleet } from '../../lib/registry';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_FLEET = path.join(REPO_ROOT, 'serving.yaml');

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'model-serving-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Synthesizes a fleet (file path or YAML text) in-process into a new temporary folder. */
export function synthToTemp(fleet: { file?: string; text?: string } = { file: DEFAULT_FLEET }): string {
  const config = fleet.text !== undefined ? parseFleet(fleet.text) : loadFleet(fleet.file ?? DEFAULT_FLEET);
  const outdir = path.join(tempDir(), 'dist');
  // As the app does: the registry beside a fleet file decides versions; inline fleets have none.
  const registry = fleet.text !== undefined ? undefined : registryBesideFleet(fleet.file ?? DEFAULT_FLEET);
  synthesizeFleet({ fleet: config, outdir, registry });
  return outdir;
}

export interface AppRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real app command (`node bin/run-ts.mjs main.ts`, as in cdk8s.yaml) as a user would. */
export function runApp(args: string[], env: Record<string, string | undefined> = {}, cwd = REPO_ROOT): AppRun {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), 'main.ts', ...args], {
    cwd,
    env: { ...process.env, SERVING_CONFIG: undefined, CDK8S_OUTDIR: undefined, ...env },
    encoding: 'utf-8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file under `dir` with its bytes, keyed by relative path: compares trees byte for byte. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else out[child] = fs.readFileSync(path.join(dir, child), 'latin1');
    }
  };
  walk('');
  return out;
}
