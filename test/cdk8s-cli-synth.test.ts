import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readTree, tempDir } from './helpers/app';

describe('cdk8s synth (the cdk8s CLI, as users run it in CI)', () => {
  it('runs the app from cdk8s.yaml and writes exactly the committed dist/', () => {
    const outdir = path.join(tempDir(), 'out');
    const cli = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk8s');
    const result = spawnSync(cli, ['synth', '--check-upgrade', 'false', '-o', outdir], {
      cwd: REPO_ROOT,
      env: { ...process.env, SERVING_CONFIG: undefined, CDK8S_OUTDIR: undefined },
      encoding: 'utf-8',
    });
    expect(result.status, result.stderr).toBe(0);
    const committed = Object.fromEntries(Object.entries(readTree(path.join(REPO_ROOT, 'dist'))).filter(([file]) => !file.startsWith('packaging/')));
    expect(readTree(outdir)).toEqual(committed);
  });
});
