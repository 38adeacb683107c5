import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REGISTRY_FLEET, fixtureWorkspace, readTree } from './helpers/app';
import { runCli } from './helpers/cli';

const MAR = (version: string) => `s3://betterprompts-models/intent_classifier/${version}/intent_classifier.mar`;

function ok(dir: string, args: string[]) {
  const run = runCli(args, { cwd: dir });
  expect(run.status, run.stderr).toBe(0);
  return run;
}

/** The fixture repository after a release of 1.1.0 to staging and production (canary there). */
function released(): string {
  const dir = fixtureWorkspace(REGISTRY_FLEET, 'rollback-');
  ok(dir, ['synth']);
  ok(dir, ['model', 'register', '--name', 'intent_classifier', '--version', '1.1.0', '--path', MAR('1.1.0')]);
  ok(dir, ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--reason', 'eval']);
  ok(dir, ['deploy', 'staging', '1.1.0', 'rolling']);
  ok(dir, ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'production', '--reason', 'staging ok']);
  ok(dir, ['deploy', 'production', '1.1.0', 'canary']);
  return dir;
}

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf-8');

describe('model-serving rollback <environment>', () => {
  let base: string;
  beforeAll(() => {
    base = released();
  });

  it('runs the previous version again: the pin and the registry stage move back, the strategy stays, dist/ follows', () => {
    const dir = fixtureWorkspace(REGISTRY_FLEET, 'rollback-');
    fs.cpSync(base, dir, { recursive: true });
    const fleetBefore = read(dir, 'serving.yaml');
    const staging = readTree(path.join(dir, 'dist', 'staging'));
    const run = ok(dir, ['rollback', 'production', '--reason', 'p95 regression']);
    expect(run.stdout).toContain('Rolled back intent_classifier on production from 1.1.0 to 1.0.0 (the registry\'s production stage is 1.0.0 again).');
    expect(run.stdout).toContain('Changed: registry.yaml, serving.yaml, dist/production/.');
    expect(run.stdout).toContain('| production | `Rollout betterprompts-production/intent-classifier` | model version | 1.1.0 → 1.0.0 |');
    // One line of the fleet file changes; the canary strategy stays, so the Rollout rolls back in place.
    const fleetAfter = read(dir, 'serving.yaml');
    expect(fleetAfter).toBe(fleetBefore.replace(/(production:[\s\S]*?intent_classifier: )1\.1\.0/, '$11.0.0'));
    expect(parse(fleetAfter).environments.production.strategy.models).toEqual({ intent_classifier: 'canary' });
    expect(fs.existsSync(path.join(dir, 'dist', 'production', 'Rollout.intent-classifier.k8s.yaml'))).toBe(true);
    const registry = parse(read(dir, 'registry.yaml')).models.intent_classifier;
    expect(registry.stages).toEqual({ staging: '1.1.0', production: '1.0.0' });
    expect(registry.history.at(-1)).toMatchObject({ action: 'promote', version: '1.0.0', stage: 'production', reason: 'rollback of production from 1.1.0: p95 regression' });
    expect(readTree(path.join(dir, 'dist', 'staging'))).toEqual(staging);
    expect(runCli(['check'], { cwd: dir }).status).toBe(0);
  });

  it('goes to the version named with --to, if it was promoted to the stage', () => {
    const dir = fixtureWorkspace(REGISTRY_FLEET, 'rollback-');
    fs.cpSync(base, dir, { recursive: true });
    ok(dir, ['rollback', 'staging', '--to', '1.0.0', '--reason', 'bad batch']);
    expect(parse(read(dir, 'serving.yaml')).environments.staging.versions).toEqual({ intent_classifier: '1.0.0' });
    const refused = runCli(['rollback', 'staging', '--to', '0.9.0', '--reason', 'x'], { cwd: dir });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/--to "0\.9\.0": intent_classifier 0\.9\.0 was never promoted to staging \(registry\.yaml:\d+, models\.intent_classifier\.history\), so staging cannot go back to it/);
  });

  it.each([
    ['an environment with nothing earlier', ['rollback', 'production', '--reason', 'x'], 'no version of intent_classifier was promoted to production before 1.0.0, so there is nothing to go back to; name one with --to <version>.'],
    ['an unknown environment', ['rollback', 'qa', '--reason', 'x'], '<environment> "qa" is not an environment of the fleet'],
    ['no reason', ['rollback', 'production'], "error: required option '--reason <text>' not specified"],
  ])('refuses %s, changing nothing', (_name, args, message) => {
    const dir = fixtureWorkspace(REGISTRY_FLEET, 'rollback-');
    ok(dir, ['synth']);
    const before = readTree(dir);
    const run = runCli(args, { cwd: dir });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(message);
    expect(readTree(dir)).toEqual(before);
  });
});
