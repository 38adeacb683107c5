import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFleet } from '../lib/fleet';
import {
  RegistryError, RegistryStage, compareVersions, emptyRegistry, loadRegistry, parseRegistry, promoteVersion, registerVersion,
  serializeRegistry, versionForStage,
} from '../lib/registry';
import { DEFAULT_FLEET, REGISTRY_FLEET, REPO_ROOT, tempDir } from './helpers/app';

const CLI = path.join(REPO_ROOT, 'bin', 'model-serving');
/** The registry-managed fixture's registry, as the commands wrote it. */
const SHIPPED = path.join(path.dirname(REGISTRY_FLEET), 'registry.yaml');
const SHIPPED_TEXT = fs.readFileSync(SHIPPED, 'utf-8');
const ROOT = tempDir();
let folders = 0;

const ENV = { ...process.env, MODEL_REGISTRY: undefined, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'Tester' };

function cli(cwd: string, args: string[]) {
  return spawnSync(CLI, args, { cwd, encoding: 'utf-8', env: ENV });
}

/** A folder holding the registry-managed fleet file and `registry.yaml` with `text`. */
function withRegistry(text: string): { dir: string; file: string } {
  const dir = path.join(ROOT, String(folders++));
  fs.mkdirSync(dir);
  fs.copyFileSync(REGISTRY_FLEET, path.join(dir, 'serving.yaml'));
  fs.writeFileSync(path.join(dir, 'registry.yaml'), text);
  return { dir, file: path.join(dir, 'registry.yaml') };
}

/** The shipped registry with one line replaced (the first match of `from`). */
function edited(from: string | RegExp, to: string): string {
  const text = SHIPPED_TEXT.replace(from, to);
  expect(text).not.toBe(SHIPPED_TEXT);
  return text;
}

// Each broken file: the lines the error must contain (file:line:column where the problem is).
const BROKEN: [string, string, string[]][] = [
  ['a truncated file (interrupted by a tool that does not write atomically)', SHIPPED_TEXT.slice(0, SHIPPED_TEXT.indexOf('      - action: promote') + 30), [
    'registry.yaml:19:9: models.intent_classifier.history[1].actor: is required',
    'registry.yaml:19:9: models.intent_classifier.history[1].time: is required',
    'registry.yaml:19:9: models.intent_classifier.history[1].version: is required',
  ]],
  ['an empty file', '', ['registry.yaml: is empty; a registry holds at least "models: {}" (restore it from git if it was truncated)']],
  ['text that is not YAML', 'models:\n  intent_classifier: [\n', ['registry.yaml:3:1: not valid YAML:']],
  ['a list instead of a mapping', '- intent_classifier\n', ['registry.yaml:1:1: must be a YAML mapping with a "models" key; got a list']],
  ['two documents', `${SHIPPED_TEXT}---\nmodels: {}\n`, ['holds 2 YAML documents; a registry is exactly one document']],
  ['a duplicate key', edited('    versions:\n', '    versions:\n      1.0.0:\n        path: s3://b/x.mar\n'), ['registry.yaml:12:7: models.intent_classifier.versions.1.0.0: duplicate key "1.0.0": line 10 sets it already']],
  ['an unknown top-level key', `owner: ml-platform\n${SHIPPED_TEXT}`, ['registry.yaml:1:1: owner: unknown key; allowed keys here: models']],
  ['an unknown key in an audit entry', edited('        actor: release-bot\n', '        actor: release-bot\n        approvedBy: bob\n'), [
    'registry.yaml:18:9: models.intent_classifier.history[0].approvedBy: unknown key; allowed keys here: action, version, stage, path, reason, forced, actor, time',
  ]],
  ['a misspelt key', edited('    versions:', '    version:'), [
    'registry.yaml:9:5: models.intent_classifier.version: unknown key; did you mean "versions", which is required? allowed keys here: stages, versions, history',
  ]],
  ['a stage moved by hand, bypassing the audit trail', edited('      production: 1.0.0', '      production: 1.1.0'), [
    'registry.yaml:8:19: models.intent_classifier.stages.production: is 1.1.0, but history last promoted 1.0.0 to production; stages change only through "model-serving model promote"',
  ]],
  ['a version added by hand, without a register entry', edited('    versions:\n', '    versions:\n      2.0.0:\n        path: s3://betterprompts-models/x/intent_classifier.mar\n'), [
    'registry.yaml:10:7: models.intent_classifier.versions.2.0.0: has no register entry in history; register versions with "model-serving model register"',
  ]],
  ['an archive path changed by hand', edited(/        path: s3:\/\/betterprompts-models\/intent_classifier\/1\.0\.0/, '        path: s3://betterprompts-models/intent_classifier/patched'), [
    'registry.yaml:15:15: models.intent_classifier.history[0].path: registered "s3://betterprompts-models/intent_classifier/1.0.0/intent_classifier.mar", but versions.1.0.0.path is "s3://betterprompts-models/intent_classifier/patched/intent_classifier.mar"; a version\'s archive never changes',
  ]],
  ['a version key that YAML reads as a number', edited('      1.0.0:', '      1.0:'), [
    'registry.yaml:10:7: models.intent_classifier.versions.1: got key "1"; must be a semantic version such as "1.0.0", "1.1.0-rc.1" or "1.1.0+build.7"',
  ]],
  ['a time that is not UTC ISO 8601', edited(/time: \S+/, 'time: yesterday'), [
    'registry.yaml:18:15: models.intent_classifier.history[0].time: got "yesterday"; must be a UTC time such as "2026-01-31T12:00:00Z"',
  ]],
  ['an unknown stage', edited('        stage: staging', '        stage: canary'), [
    'registry.yaml:21:16: models.intent_classifier.history[1].stage: got "canary"; expected one of: "staging", "production"',
  ]],
];

describe('a registry file that cannot be used', () => {
  it.each(BROKEN)('%s: is refused with file:line for every problem', (_what, text, expected) => {
    let message = '';
    try {
      parseRegistry(text, 'registry.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(RegistryError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^registry\.yaml is not a valid model registry \(\d+ problems?\):\n/);
    for (const line of expected) expect(message).toContain(line);
  });

  // Through the real command: a corrupt file, an unknown key and a hand edit, for a reading and a writing command.
  it.each([BROKEN[0], BROKEN[7], BROKEN[9]])('%s: the CLI exits 1 and leaves the file byte-identical', (_what, text, expected) => {
    const { dir, file } = withRegistry(text);
    const before = fs.readFileSync(file);
    for (const args of [
      ['model', 'promote', '--name', 'intent_classifier', '--version', '1.0.0', '--to', 'staging', '--reason', 'x'],
      ...(text === BROKEN[0][1] ? [['model', 'list']] : []),
    ]) {
      const run = cli(dir, args);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^error: registry\.yaml is not a valid model registry \(\d+ problems?\):\n/);
      for (const line of expected) expect(run.stderr).toContain(line);
      expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('Nothing was changed; registry.yaml is as it was.');
    }
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['registry.yaml', 'serving.yaml']);
  });

  it('is a RegistryError that lists every problem, for library callers', () => {
    try {
      parseRegistry(edited('      production: 1.0.0', '      production: 9.9.9'), 'registry.yaml');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).problems).toEqual([expect.objectContaining({ path: 'models.intent_classifier.stages.production', line: 8, column: 19 })]);
    }
  });
});

describe('the registry format', () => {
  it('is exactly what the code writes: the shipped registry.yaml round-trips byte for byte', () => {
    expect(serializeRegistry(parseRegistry(SHIPPED_TEXT))).toBe(SHIPPED_TEXT);
  });

  it('keeps models and versions sorted (semantic precedence) and the history in order', () => {
    const at = { actor: 'tester', time: new Date('2026-01-02T03:04:05.678Z') };
    let registry = emptyRegistry();
    for (const [model, version] of [['zeta', '1.10.0'], ['alpha', '1.2.0'], ['zeta', '1.9.0'], ['zeta', '1.10.0-rc.1']]) {
      registry = registerVersion(registry, { model, version, path: `s3://models/${model}/${version}/${model}.mar`, ...at }).registry;
    }
    const text = serializeRegistry(registry);
    expect([...text.matchAll(/^ {2}(\w+):$/gm)].map((m) => m[1])).toEqual(['alpha', 'zeta']);
    expect([...text.matchAll(/^ {6}(\S+):$/gm)].map((m) => m[1])).toEqual(['1.2.0', '1.9.0', '1.10.0-rc.1', '1.10.0']);
    expect(registry.models.zeta.history.map((e) => e.version)).toEqual(['1.10.0', '1.9.0', '1.10.0-rc.1']);
    expect(registry.models.zeta.history[0].time).toBe('2026-01-02T03:04:05Z');
    expect(parseRegistry(text)).toEqual(registry);
  });

  it('orders versions by semantic precedence', () => {
    const versions = ['1.0.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '0.9.9', '10.0.0', '2.0.0'];
    expect([...versions].sort(compareVersions)).toEqual([
      '0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '10.0.0',
    ]);
  });
});

describe('the version a stage deploys', () => {
  it('comes from the stage in the shipped registry, and matches what the default fleet deploys', () => {
    const registry = loadRegistry(SHIPPED);
    const fleet = loadFleet(DEFAULT_FLEET);
    for (const env of Object.values(fleet.environments)) {
      for (const model of fleet.models) {
        expect(versionForStage(registry, model.name, env.stage)).toEqual({ model: model.name, version: model.version, path: model.mar, stage: env.stage });
        expect(loadFleet(REGISTRY_FLEET).environments[Object.keys(fleet.environments).find((name) => fleet.environments[name] === env) as string].versions).toEqual({ [model.name]: model.version });
      }
    }
  });

  it('follows promotions, and says how to fix a stage with nothing promoted', () => {
    const at = { actor: 'tester', time: new Date() };
    let registry = loadRegistry(SHIPPED);
    registry = registerVersion(registry, { model: 'intent_classifier', version: '1.1.0', path: 's3://bucket-1/intent_classifier/1.1.0/intent_classifier.mar', ...at }).registry;
    registry = promoteVersion(registry, { model: 'intent_classifier', version: '1.1.0', stage: RegistryStage.STAGING, reason: 'test', ...at }).registry;
    expect(versionForStage(registry, 'intent_classifier', 'staging')?.version).toBe('1.1.0');
    expect(versionForStage(registry, 'intent_classifier', RegistryStage.PRODUCTION)?.version).toBe('1.0.0');

    registry = registerVersion(registry, { model: 'fraud_detector', version: '0.1.0', path: 's3://bucket-1/fraud_detector/0.1.0/fraud_detector.mar', ...at }).registry;
    expect(versionForStage(registry, 'fraud_detector', 'staging')).toBeUndefined();
    expect(versionForStage(registry, 'unknown', 'staging')).toBeUndefined();
  });

  it('is empty when there is no file yet, for library callers; a registry named on the command line must exist', () => {
    const dir = path.join(ROOT, String(folders++));
    expect(loadRegistry(path.join(dir, 'registry.yaml'))).toEqual({ models: {} });
    const { dir: repo } = withRegistry(SHIPPED_TEXT);
    const run = cli(repo, ['model', 'list', '--registry', path.join(dir, 'registry.yaml')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('registry.yaml: file not found; pass --registry <file> or set MODEL_REGISTRY to an existing registry, or create one with: model-serving model init');
    expect(fs.existsSync(dir)).toBe(false);
  });
});
