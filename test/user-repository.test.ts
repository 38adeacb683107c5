import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readTree, tempDir } from './helpers/app';

// The one test file about the repository's own serving.yaml, registry.yaml, dist/ and packaging/:
// the files a platform team edits and commits release after release. It asserts only what must
// hold whatever they contain. Every other test builds on fixtures under test/.

const CLI = path.join(REPO_ROOT, 'bin', 'model-serving');
const ENV = { ...process.env, SERVING_CONFIG: undefined, MODEL_REGISTRY: undefined, CDK8S_OUTDIR: undefined };

describe('the serving repository at the root', () => {
  it('passes "model-serving check": valid fleet and registry, a fresh dist/, strict schemas, policies, Kustomize builds', () => {
    const run = spawnSync(CLI, ['check'], { cwd: REPO_ROOT, env: ENV, encoding: 'utf-8' });
    expect(`${run.stdout}${run.stderr}`, 'run "npm run synth" and commit dist/, or fix what check lists').toContain('check: OK');
    expect(run.status).toBe(0);
  });

  it('synthesizes exactly the committed dist/ through the cdk8s CLI too, as users run it', () => {
    const outdir = path.join(tempDir(), 'out');
    const result = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--check-upgrade', 'false', '-o', outdir], { cwd: REPO_ROOT, env: ENV, encoding: 'utf-8' });
    expect(result.status, result.stderr).toBe(0);
    expect(readTree(outdir)).toEqual(readTree(path.join(REPO_ROOT, 'dist')));
  });
});
