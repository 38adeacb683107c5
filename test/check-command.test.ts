import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_FLEET, fixtureWorkspace, readTree } from './helpers/app';
import { runCli } from './helpers/cli';

/** A synthesized copy of the registry-managed fixture repository. */
function repository(): string {
  const dir = fixtureWorkspace(REGISTRY_FLEET, 'check-');
  expect(runCli(['synth'], { cwd: dir }).status).toBe(0);
  return dir;
}

/** Everything in the folder, so a test can show that check wrote nothing. */
const everything = (dir: string) => readTree(dir);

describe('model-serving check', () => {
  let fresh: string;
  beforeAll(() => {
    fresh = repository();
  });

  it('passes on a fresh repository, saying what it checked', () => {
    const run = runCli(['check'], { cwd: fresh });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')).toEqual(expect.arrayContaining([
      'check: serving.yaml and registry.yaml: valid (1 model, environments production, staging)',
      'check: dist/ is fresh',
      expect.stringMatching(/^check: dist\/: \d+ objects valid against the strict Kubernetes and CRD schemas$/),
      'check: dist/: no Pod Security "restricted" or kube-linter violations',
      'check: dist/: 3 Kustomize folders build (argocd, production, staging)',
      'check: OK',
    ]));
  });

  it('fails on a dist/ that the fleet file no longer gives, listing the files and the fix, writing nothing', () => {
    const dir = repository();
    const fleetFile = path.join(dir, 'serving.yaml');
    const text = fs.readFileSync(fleetFile, 'utf-8');
    const edited = text.replace(/(production:[\s\S]*?memory: )32Gi/, '$130Gi');
    expect(edited).not.toBe(text);
    fs.writeFileSync(fleetFile, edited);
    const before = everything(dir);
    const run = runCli(['check'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('error: check: FAILED\n- dist/ is not what the fleet file synthesizes; run "npm run synth" (or "model-serving synth") and commit dist/:\n');
    expect(run.stderr).toMatch(/ {2}changed {2}dist\/production\/Deployment\.intent-classifier\.k8s\.yaml/);
    expect(run.stderr).not.toContain('dist/staging/');
    expect(everything(dir)).toEqual(before);
  });

  it('fails on an object the API server would refuse, and on a policy violation, naming file and field', () => {
    const dir = repository();
    const file = path.join(dir, 'dist', 'staging', 'Service.intent-classifier.k8s.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf-8').replace('  type: ClusterIP\n', '  type: ClusterIP\n  externalName: x\n  clusterIPs: 1\n'));
    const deployment = path.join(dir, 'dist', 'staging', 'Deployment.intent-classifier.k8s.yaml');
    fs.writeFileSync(deployment, fs.readFileSync(deployment, 'utf-8').replace('runAsNonRoot: true', 'runAsNonRoot: false'));
    const run = runCli(['check'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/dist\/: \d+ schema problem\(s\):\n {2}dist\/staging\/Service\.intent-classifier\.k8s\.yaml: Service\/intent-classifier: \/spec\/clusterIPs/);
    expect(run.stderr).toMatch(/policy violation\(s\):\n {2}dist\/staging: Deployment\/betterprompts-staging\/intent-classifier: \[/);
  });

  it('fails with the located error of an invalid fleet file, and of a registry that disagrees with it', () => {
    const dir = repository();
    const fleetFile = path.join(dir, 'serving.yaml');
    const text = fs.readFileSync(fleetFile, 'utf-8');
    fs.writeFileSync(fleetFile, text.replace('    replicas: 3\n', '    replicas: three\n'));
    const invalid = runCli(['check'], { cwd: dir });
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/serving\.yaml:\d+:\d+: environments\.production\.replicas: got "three"/);
    expect(invalid.stderr.trimEnd().split('\n').at(-1)).toBe('check: FAILED');
    fs.writeFileSync(fleetFile, text.replace('      intent_classifier: 1.0.0', '      intent_classifier: 9.9.9'));
    const unregistered = runCli(['check'], { cwd: dir });
    expect(unregistered.status).toBe(1);
    expect(unregistered.stderr).toMatch(/serving\.yaml:\d+:\d+: environments\.staging\.versions\.intent_classifier: pins intent_classifier 9\.9\.9, which registry\.yaml:\d+ \(models\.intent_classifier\.versions\) does not register/);
  });

  it('checks packaging Jobs too, and tells where an old dist/packaging/ goes', () => {
    const dir = repository();
    fs.mkdirSync(path.join(dir, 'dist', 'packaging', 'intent_classifier-1.1.0'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dist', 'packaging', 'intent_classifier-1.1.0', 'kustomization.yaml'), 'resources: []\n');
    const run = runCli(['check'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('extra    dist/packaging/intent_classifier-1.1.0/kustomization.yaml (packaging Jobs live beside the fleet file now: git mv the folder to packaging/)');
    // The synth refuses to delete it rather than losing it.
    const synth = runCli(['synth'], { cwd: dir });
    expect(synth.status).toBe(1);
    expect(synth.stderr).toContain('dist/packaging/ holds packaging Jobs, which a synth would delete with the rest of dist/; they live beside the fleet file now: git mv dist/packaging packaging');
    expect(fs.existsSync(path.join(dir, 'dist', 'packaging', 'intent_classifier-1.1.0', 'kustomization.yaml'))).toBe(true);
  });

  it('runs from another folder with --config, and with the output folder named', () => {
    const dir = repository();
    const sub = path.join(dir, 'docs');
    fs.mkdirSync(sub);
    expect(runCli(['--config', '../serving.yaml', 'check'], { cwd: sub }).status).toBe(0);
    fs.renameSync(path.join(dir, 'dist'), path.join(dir, 'out'));
    const missing = runCli(['check'], { cwd: dir });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('- dist/ does not exist; run "npm run synth" (or "model-serving synth") and commit dist/');
    expect(runCli(['check', '--output', 'out'], { cwd: dir }).status).toBe(0);
    expect(runCli(['check'], { cwd: dir, env: { CDK8S_OUTDIR: 'out' } }).status).toBe(0);
  });
});
