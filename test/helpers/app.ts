import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFleet } from '../../lib/fleet';
import { synthesizeFleet } from '../../lib/output';
import { ServingRepository } from '../../lib/repository';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/**
 * The fleet most tests build on: the example fleet as it shipped, with each model's version and
 * archive in the fleet file (no registry). A fixture, so that the tests do not move when a team
 * edits its own serving.yaml, registry.yaml or dist/ at the repository root.
 */
export const DEFAULT_FLEET = path.join(REPO_ROOT, 'test', 'fixtures', 'fleets', 'betterprompts', 'serving.yaml');
/** The same fleet managed by a model registry: pins per environment, registry.yaml beside it. */
export const REGISTRY_FLEET = path.join(REPO_ROOT, 'test', 'fixtures', 'fleets', 'registry-managed', 'serving.yaml');

/** The temporary folders of this worker, removed by one exit handler (workers run many test files). */
const TEMP_DIRS: string[] = [];
process.once('exit', () => {
  for (const dir of TEMP_DIRS) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'model-serving-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  TEMP_DIRS.push(dir);
  return dir;
}

/** Synthesizes a fleet (file path or YAML text) in-process into a new temporary folder. */
export function synthToTemp(fleet: { file?: string; text?: string } = { file: DEFAULT_FLEET }): string {
  const outdir = path.join(tempDir(), 'dist');
  if (fleet.text !== undefined) {
    synthesizeFleet({ fleet: parseFleet(fleet.text), outdir });
  } else {
    // As the app does: the registry beside a fleet file decides versions.
    ServingRepository.open({ config: fleet.file ?? DEFAULT_FLEET, output: outdir }, {}).synthesize();
  }
  return outdir;
}

/** A copy of a fixture fleet's folder (fleet file, registry if any) in a new temporary folder. */
export function fixtureWorkspace(fleetFile = REGISTRY_FLEET, prefix = 'workspace-'): string {
  const dir = tempDir(prefix);
  for (const file of fs.readdirSync(path.dirname(fleetFile))) fs.copyFileSync(path.join(path.dirname(fleetFile), file), path.join(dir, file));
  if (path.basename(fleetFile) !== 'serving.yaml') fs.renameSync(path.join(dir, path.basename(fleetFile)), path.join(dir, 'serving.yaml'));
  return dir;
}

export interface AppRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real app command (`node bin/run-ts.mjs main.ts`, as in cdk8s.yaml) as a user would,
 * by default in a fresh copy of the default fixture fleet's folder, never in the repository root.
 */
export function runApp(args: string[], env: Record<string, string | undefined> = {}, cwd = fixtureWorkspace(DEFAULT_FLEET, 'app-')): AppRun {
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
