import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REGISTRY_FLEET, fixtureWorkspace, readTree } from './helpers/app';
import { type CliRun, runCli, runCliAsync, twoAtATime } from './helpers/cli';
import { changedLines } from './helpers/text';
import { ServingRepository } from '../lib/repository';

const MAR = (model: string, version: string) => `s3://betterprompts-models/${model}/${version}/${model}.mar`;

/**
 * A workspace with the registry-managed fixture fleet, its registry, and dist/ as synth writes it
 * (synthesized in-process: the synth command has tests of its own).
 */
function workspace(): string {
  const dir = fixtureWorkspace(REGISTRY_FLEET, 'deploy-');
  ServingRepository.open({ config: path.join(dir, 'serving.yaml') }, {}).synthesize();
  return dir;
}

function snapshot(dir: string): Record<string, string> {
  return { ...readTree(path.join(dir, 'dist')), 'serving.yaml': fs.readFileSync(path.join(dir, 'serving.yaml'), 'latin1'), 'registry.yaml': fs.readFileSync(path.join(dir, 'registry.yaml'), 'latin1') };
}

function cli(dir: string, args: string[]) {
  const run = runCli(args, { cwd: dir });
  expect(run.status, run.stderr).toBe(0);
  return run;
}


const REFUSED: [string, string[], string][] = [
  ['a version not promoted to the stage', ['production', '1.1.0', 'rolling'], 'environments.production.versions.intent_classifier: pins intent_classifier 1.1.0, which registry.yaml never promoted to production'],
  ['an unregistered version', ['staging', '2.0.0', 'rolling'], 'pins intent_classifier 2.0.0, which registry.yaml'],
  ['an unknown environment', ['prod', '1.0.0', 'rolling'], '<environment> "prod" is not an environment of the fleet; it defines: staging, production'],
  ['an unknown strategy', ['staging', '1.0.0', 'shadow'], 'unknown strategy "shadow"; use one of: rolling, canary, blue-green'],
  ['a version that is not semver', ['staging', 'v2', 'rolling'], '<version> "v2": must be a semantic version'],
];

describe('model-serving deploy <environment> <version> <strategy>', () => {
  let dir: string;
  const refused = new Map<string, { before: Record<string, string>; run: CliRun; after: Record<string, string> }>();
  beforeAll(async () => {
    dir = workspace();
    // 1.1.0 is registered and promoted to staging only.
    cli(dir, ['model', 'register', '--name', 'intent_classifier', '--version', '1.1.0', '--path', MAR('intent_classifier', '1.1.0'), '--reason', 'retrained']);
    cli(dir, ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--reason', 'offline eval passed']);
    // The refusals change nothing, so they run first, two at a time, each on its own copy.
    const copies = REFUSED.map(() => {
      const copy = fixtureWorkspace(REGISTRY_FLEET, 'deploy-refused-');
      fs.cpSync(dir, copy, { recursive: true });
      return copy;
    });
    const befores = copies.map(snapshot);
    const runs = await twoAtATime(REFUSED.map(([, args], i) => () => runCliAsync(['deploy', ...args], { cwd: copies[i] })));
    REFUSED.forEach(([name], i) => refused.set(name, { before: befores[i], run: runs[i], after: snapshot(copies[i]) }));
  }, 120_000);

  it('pins the version and strategy, changing only those lines of the fleet file, synthesizes, and prints what changes', () => {
    const before = fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf-8');
    const production = readTree(path.join(dir, 'dist', 'production'));
    const run = cli(dir, ['deploy', 'staging', '1.1.0', 'canary']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Deployed intent_classifier 1.1.0 to staging (stage staging) with the canary strategy (was rolling).');
    expect(run.stdout).toContain('## Manifest changes');
    expect(run.stdout).toMatch(/Rollout/);
    // Every other byte stays: comments, alignment, flow-style lists.
    const after = fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf-8');
    expect(changedLines(before, after)).toEqual({
      removed: ['      intent_classifier: 1.0.0'],
      added: ['      intent_classifier: 1.1.0', '    strategy:', '      models:', '        intent_classifier: canary'],
    });
    const fleet = parse(after);
    expect(fleet.environments.staging.versions).toEqual({ intent_classifier: '1.1.0' });
    expect(fleet.environments.staging.strategy).toEqual({ models: { intent_classifier: 'canary' } });
    const rollout = parse(fs.readFileSync(path.join(dir, 'dist', 'staging', 'Rollout.intent-classifier.k8s.yaml'), 'utf-8'));
    expect(rollout.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('1.1.0');
    expect(rollout.spec.template.metadata.annotations['model-serving/model-archive']).toBe(MAR('intent_classifier', '1.1.0'));
    expect(fs.existsSync(path.join(dir, 'dist', 'staging', 'Deployment.intent-classifier.k8s.yaml'))).toBe(false);
    // Production is untouched; every folder that changed is named, and the version change is risky.
    expect(readTree(path.join(dir, 'dist', 'production'))).toEqual(production);
    expect(run.stdout).toContain('Changed: serving.yaml, dist/argocd/, dist/staging/.');
    expect(run.stdout).toMatch(/\| staging \| `Rollout betterprompts-staging\/intent-classifier` \| model version \| 1\.0\.0 → 1\.1\.0; a new Rollout has no stable version/);
    expect(runCli(['check'], { cwd: dir }).status).toBe(0);
  });

  it.each(REFUSED)('refuses %s, changing nothing', (name, _args, message) => {
    const { before, run, after } = refused.get(name)!;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(after).toEqual(before);
  });

  it('names the file and line of a refused pin', () => {
    const run = runCli(['deploy', 'production', '1.1.0', 'rolling'], { cwd: dir });
    expect(run.stderr).toMatch(/serving\.yaml:\d+:\d+: environments\.production\.versions\.intent_classifier: pins intent_classifier 1\.1\.0/);
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
    expect(run.stderr).toContain('environments.staging.strategy.models.intent_classifier: got "canary"; needs a gateway');
    expect(snapshot(fresh)).toEqual(before);
  });

  it('--model changes only that model: its version and its own strategy', () => {
    const repo = workspace();
    // A second model, with its archive in the fleet file (not registry-managed).
    const fleetFile = path.join(repo, 'serving.yaml');
    fs.writeFileSync(fleetFile, fs.readFileSync(fleetFile, 'utf-8').replace('\nenvironments:\n', '\n  - name: sentiment\n    handler: text_classifier\n    version: 2.0.0\n    mar: s3://betterprompts-models/sentiment/2.0.0/sentiment.mar\n\nenvironments:\n'));
    cli(repo, ['synth']);
    const sentiment = (folder: string) => Object.fromEntries(Object.entries(readTree(path.join(repo, 'dist', folder))).filter(([file]) => file.includes('sentiment')));
    const before = sentiment('staging');
    const run = cli(repo, ['deploy', 'staging', '1.0.0', 'blue-green', '--model', 'intent_classifier']);
    expect(run.stdout).toContain('Deployed intent_classifier 1.0.0 to staging (stage staging) with the blue-green strategy (was rolling).');
    expect(fs.existsSync(path.join(repo, 'dist', 'staging', 'Rollout.intent-classifier.k8s.yaml'))).toBe(true);
    expect(fs.existsSync(path.join(repo, 'dist', 'staging', 'Deployment.sentiment.k8s.yaml'))).toBe(true);
    expect(sentiment('staging')).toEqual(before);
    expect(parse(fs.readFileSync(fleetFile, 'utf-8')).environments.staging.strategy).toEqual({ models: { intent_classifier: 'blue-green' } });
    // Without --model, a fleet of several models is refused.
    const ambiguous = runCli(['deploy', 'staging', '1.0.0', 'rolling'], { cwd: repo });
    expect(ambiguous.status).toBe(1);
    expect(ambiguous.stderr).toContain('the fleet has several models (intent_classifier, sentiment); choose one with --model. Nothing was changed.');
  });

  it('finds the registry and dist/ beside the fleet file when run from another folder', () => {
    const repo = workspace();
    const sub = path.join(repo, 'docs');
    fs.mkdirSync(sub);
    cli(repo, ['model', 'register', '--name', 'intent_classifier', '--version', '1.1.0', '--path', MAR('intent_classifier', '1.1.0')]);
    cli(repo, ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--reason', 'ok']);
    const run = cli(sub, ['--config', '../serving.yaml', 'deploy', 'staging', '1.1.0', 'rolling']);
    expect(run.stdout).toContain('Changed: ../serving.yaml, ../dist/staging/.');
    expect(fs.readdirSync(sub)).toEqual([]);
    expect(runCli(['check'], { cwd: repo }).status).toBe(0);
  });
});
