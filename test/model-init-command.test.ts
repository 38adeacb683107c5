import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_FLEET, REGISTRY_FLEET, fixtureWorkspace, readTree } from './helpers/app';
import { runCli } from './helpers/cli';

describe('model-serving model init', () => {
  it('creates the registry beside the fleet file from what the fleet runs, moving versions to pins; dist/ does not change', () => {
    const dir = fixtureWorkspace(DEFAULT_FLEET, 'init-');
    expect(runCli(['synth'], { cwd: dir }).status).toBe(0);
    const dist = readTree(path.join(dir, 'dist'));
    const before = fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf-8');
    const run = runCli(['model', 'init'], { cwd: dir, env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'Tester' } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('model-serving: created registry.yaml (beside serving.yaml) with intent_classifier 1.0.0, promoted to staging and production');
    const registry = parse(fs.readFileSync(path.join(dir, 'registry.yaml'), 'utf-8'));
    expect(registry.models.intent_classifier.stages).toEqual({ staging: '1.0.0', production: '1.0.0' });
    expect(registry.models.intent_classifier.history.map((e: { action: string; stage?: string }) => `${e.action} ${e.stage ?? ''}`.trim())).toEqual(['register', 'promote staging', 'promote production']);
    const after = fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf-8');
    const fleet = parse(after);
    expect(fleet.models[0].version).toBeUndefined();
    expect(fleet.models[0].mar).toBeUndefined();
    expect(fleet.environments.staging.versions).toEqual({ intent_classifier: '1.0.0' });
    expect(fleet.environments.production.versions).toEqual({ intent_classifier: '1.0.0' });
    // Only those lines changed: every comment of the file is still there.
    const comments = (text: string) => text.split('\n').filter((l) => l.trimStart().startsWith('#') && !l.includes('Where the model archive lives'));
    expect(comments(after)).toEqual(comments(before));
    expect(readTree(path.join(dir, 'dist'))).toEqual(dist);
    expect(runCli(['check'], { cwd: dir }).status).toBe(0);
  });

  it('only creates: an existing registry is refused, and nothing changes', () => {
    const dir = fixtureWorkspace(REGISTRY_FLEET, 'init-');
    const before = readTree(dir);
    const run = runCli(['model', 'init'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('error: registry.yaml exists already; "model init" only creates a registry');
    expect(readTree(dir)).toEqual(before);
  });

  it('creates a registry where --registry names it', () => {
    const dir = fixtureWorkspace(DEFAULT_FLEET, 'init-');
    const run = runCli(['model', 'init', '--registry', 'models/registry.yaml'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('created models/registry.yaml');
    expect(fs.existsSync(path.join(dir, 'models', 'registry.yaml'))).toBe(true);
    expect(runCli(['check', '--registry', 'models/registry.yaml'], { cwd: dir }).status).toBe(0);
  });
});
