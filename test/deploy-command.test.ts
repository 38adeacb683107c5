import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, readTree, tempDir } from './helpers/app';
import { runCli } from './helpers/cli';

/** A workspace with the default fleet, its registry, and a synthesized dist/. */
function workspace(): string {
  const dir = tempDir('deploy-');
  fs.copyFileSync(path.join(REPO_ROOT, 'serving.yaml'), path.join(dir, 'serving.yaml'));
  fs.copyFileSync(path.join(REPO_ROOT, 'registry.yaml'), path.join(dir, 'registry.yaml'));
  expect(runCli(['synth'], { cwd: dir }).status).toBe(0);
  return dir;
}

function snapshot(dir: string): Record<string, string> {
  return { ...readTree(path.join(dir, 'dist')), 'serving.yaml': fs.readFileSync(path.join(dir, 'serving.yaml'), 'latin1'), 'registry.yaml': fs.readFileSync(path.join(dir, 'registry.yaml'), 'latin1') };
}

describe('model-serving deploy <environment> <version> <strategy>', () => {
  let dir: string;
  beforeAll(() => {
    dir = workspace();
    // 1.1.0 is registered and promoted to staging only.
    expect(runCli(['model', 'register', '--name', 'intent_classifier', '--version', '1.1.0', '--path', 's3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar', '--reason', 'retrained'], { cwd: dir }).status).toBe(0);
    expect(runCli(['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--reason', 'offline eval passed'], { cwd: dir }).status).toBe(0);
  });

  it('pins the version and strategy in the fleet file, synthesizes, and prints what changes', () => {
    const run = runCli(['deploy', 'staging', '1.1.0', 'canary'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Deployed intent_classifier 1.1.0 to staging (stage staging) with the canary strategy');
    expect(run.stdout).toContain('## Manifest changes');
    expect(run.stdout).toMatch(/Rollout/);
    const fleetText = fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf-8');
    expect(fleetText).toContain('# The model fleet: every model we serve'); // comments survive the edit
    const fleet = parse(fleetText);
    expect(fleet.environments.staging.versions).toEqual({ intent_classifier: '1.1.0' });
    expect(fleet.environments.staging.strategy.type).toBe('canary');
    const rollout = parse(fs.readFileSync(path.join(dir, 'dist', 'staging', 'Rollout.intent-classifier.k8s.yaml'), 'utf-8'));
    expect(rollout.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('1.1.0');
    expect(rollout.spec.template.metadata.annotations['model-serving/model-archive']).toBe('s3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar');
    expect(fs.existsSync(path.join(dir, 'dist', 'staging', 'Deployment.intent-classifier.k8s.yaml'))).toBe(false);
    // Production is untouched.
    expect(fs.readFileSync(path.join(dir, 'dist', 'production', 'Deployment.intent-classifier.k8s.yaml'), 'utf-8')).toContain('app.kubernetes.io/version: 1.0.0');
  });

  it.each([
    ['a version not promoted to the stage', ['production', '1.1.0', 'rolling'], 'environments.production.versions.intent_classifier: intent_classifier 1.1.0 was never promoted to production'],
    ['an unregistered version', ['staging', '2.0.0', 'rolling'], 'intent_classifier 2.0.0 is not registered'],
    ['an unknown environment', ['prod', '1.0.0', 'rolling'], 'unknown environment "prod"; the fleet defines: staging, production'],
    ['an unknown strategy', ['staging', '1.0.0', 'shadow'], 'unknown strategy "shadow"; use one of: rolling, canary, blue-green'],
    ['a version that is not semver', ['staging', 'v2', 'rolling'], 'version "v2"'],
  ])('refuses %s, changing nothing', (_name, args, message) => {
    const before = snapshot(dir);
    const run = runCli(['deploy', ...args], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(message);
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a strategy the environment cannot run, changing nothing', () => {
    const fresh = workspace();
    const fleet = fs.readFileSync(path.join(fresh, 'serving.yaml'), 'utf-8')
      .replace(/(\n  staging:[\s\S]*?)\n    gateway:[\s\S]*?(\n    # Scale on)/, '$1\n    network:\n      gatewayNamespaces: [ingress]$2')
      .replace(/\n    monitoring:\n      runbookBaseUrl: https:\/\/git.example.com\/ml\/betterprompts-serving   # alerts link to its README troubleshooting anchors\n/, '\n    monitoring:\n      requestAlerts: false\n      runbookBaseUrl: https://git.example.com/ml/betterprompts-serving\n');
    fs.writeFileSync(path.join(fresh, 'serving.yaml'), fleet);
    expect(runCli(['synth'], { cwd: fresh }).status).toBe(0);
    const before = snapshot(fresh);
    const run = runCli(['deploy', 'staging', '1.0.0', 'canary'], { cwd: fresh });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('environments.staging.strategy.type: got "canary"; needs a gateway');
    expect(snapshot(fresh)).toEqual(before);
  });
});
