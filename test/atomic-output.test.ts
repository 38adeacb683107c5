import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { type FleetConfig, loadFleet } from '../lib/fleet';
import { synthesizeFleet } from '../lib/output';
import { DEFAULT_FLEET, REPO_ROOT, readTree, runApp, synthToTemp, tempDir } from './helpers/app';

/** The default fleet with `count` models, so a synth writes long enough to be killed midway. */
function bigFleet(count: number): string {
  const doc = parseDocument(fs.readFileSync(DEFAULT_FLEET, 'utf-8'));
  const model = doc.getIn(['models', 0]) as { clone(): any };
  doc.setIn(['models'], doc.createNode([]));
  for (let i = 0; i < count; i++) {
    const copy = model.clone();
    copy.set('name', `model_${String(i).padStart(3, '0')}`);
    doc.addIn(['models'], copy);
  }
  return doc.toString();
}

/** Runs the app and kills it after `delayMs`, or lets it finish when no delay is given. */
function killAfter(args: string[], env: Record<string, string>, delayMs: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), 'main.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
    const timer = delayMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('atomic output', () => {
  it('leaves the output folder either as it was or complete when a synth is killed at any point', async () => {
    const dir = tempDir();
    const outdir = path.join(dir, 'dist');
    const app = (args: string[] = []) => runApp(['--config', DEFAULT_FLEET, ...args], { CDK8S_OUTDIR: outdir });
    expect(app().status).toBe(0);
    const before = readTree(outdir);
    const fleetFile = path.join(dir, 'big.yaml');
    fs.writeFileSync(fleetFile, bigFleet(30));
    const after = readTree(synthToTemp({ file: fleetFile }));
    expect(after).not.toEqual(before);

    const outcomes = new Set<string>();
    // Kills from early on (a 60-model synth never ends within 200 ms) to late, then a run left
    // to finish: whatever the machine's speed, every outcome must be the old or the new tree.
    for (const delay of [200, 400, 600, 800, undefined]) {
      // Reset to the old tree, then interrupt a synth of the new fleet.
      fs.rmSync(outdir, { recursive: true, force: true });
      expect(app().status).toBe(0);
      await killAfter(['--config', fleetFile], { CDK8S_OUTDIR: outdir }, delay);
      const tree = readTree(outdir);
      const outcome = JSON.stringify(tree) === JSON.stringify(before) ? 'old' : JSON.stringify(tree) === JSON.stringify(after) ? 'new' : 'torn';
      expect(outcome, `killed after ${delay} ms`).not.toBe('torn');
      outcomes.add(outcome);
    }
    // The schedule reaches both sides: kills before the swap and a run that completes.
    expect(outcomes).toEqual(new Set(['old', 'new']));
    // The next run clears the staging folders that killed runs left behind.
    expect(app().status).toBe(0);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.dist.'))).toEqual([]);
  });

  it('writes nothing when a construct rejects its props halfway through the environments', () => {
    const outdir = synthToTemp();
    const before = readTree(outdir);
    const fleet: FleetConfig = loadFleet(DEFAULT_FLEET);
    // Past the schema on purpose: a library user can hand the app props the schema never saw.
    const broken = structuredClone(fleet);
    broken.environments.staging.resources.jvmHeap = '64Gi';
    expect(() => synthesizeFleet({ fleet: broken, outdir })).toThrow(/\[TorchServeService\.HeapTooLarge\] staging\/intent-classifier: 'jvmHeap' \(64Gi\) must be below 'memory' \(16Gi\)/);
    expect(readTree(outdir)).toEqual(before);
    expect(fs.readdirSync(path.dirname(outdir))).toEqual(['dist']);
  });

  it('restores the previous tree when a run died between moving it aside and swapping in', () => {
    const outdir = synthToTemp();
    const before = readTree(outdir);
    const previous = path.join(path.dirname(outdir), '.dist.previous');
    fs.renameSync(outdir, previous);
    // Any later run, even one that then fails on its input, first puts the old tree back.
    expect(runApp(['--config', path.join(tempDir(), 'missing.yaml')], { CDK8S_OUTDIR: outdir }).status).toBe(1);
    expect(readTree(outdir)).toEqual(before);
    expect(fs.existsSync(previous)).toBe(false);
  });
});
