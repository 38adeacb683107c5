import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_FLEET, REGISTRY_FLEET, REPO_ROOT, readTree, tempDir } from './helpers/app';
import { spawnAsync, twoAtATime } from './helpers/cli';

const CLI = path.join(REPO_ROOT, 'bin', 'model-serving');
const MAR = (version: string) => `s3://betterprompts-models/intent_classifier/${version}/intent_classifier.mar`;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a CLI run as a git user named "tester", with the default registry file. */
function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MODEL_REGISTRY: undefined,
    SERVING_CONFIG: undefined,
    // Command-line-scoped git config beats every config file, so the actor is known.
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'user.name',
    GIT_CONFIG_VALUE_0: 'Tester',
    GIT_CONFIG_KEY_1: 'user.email',
    GIT_CONFIG_VALUE_1: 'tester@example.com',
    ...env,
  };
}

/** Runs the real CLI in `cwd`, as a git user named "tester", with the default registry file. */
function cli(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Run {
  const result = spawnSync(CLI, args, { cwd, encoding: 'utf-8', env: cliEnv(env) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const ROOT = tempDir();
let folders = 0;

/** A fresh folder under one temporary root (one exit hook for the whole file). */
function folder(): string {
  const dir = path.join(ROOT, String(folders++));
  fs.mkdirSync(dir);
  return dir;
}

/**
 * The repository every test starts from, built once by the real commands: the registry-managed
 * fixture fleet (1.0.0 in staging and production, pinned in both environments), synthesized,
 * then 1.1.0 registered only.
 */
const SEED = (() => {
  const dir = folder();
  for (const file of ['serving.yaml', 'registry.yaml']) fs.copyFileSync(path.join(path.dirname(REGISTRY_FLEET), file), path.join(dir, file));
  for (const args of [['synth'], ['model', 'register', '--name', 'intent_classifier', '--version', '1.1.0', '--path', MAR('1.1.0')]]) {
    const run = cli(dir, args);
    if (run.status !== 0) throw new Error(`seeding failed: ${args.join(' ')}\n${run.stderr}`);
  }
  return dir;
})();

/** A folder holding a copy of the seed repository. */
function seededRegistry(): { dir: string; file: string } {
  const dir = folder();
  fs.cpSync(SEED, dir, { recursive: true });
  return { dir, file: path.join(dir, 'registry.yaml') };
}

describe('the registry commands', () => {
  it('register, promote, list and history, appending one audit entry per change', () => {
    const { dir, file } = seededRegistry();
    const registry = parse(fs.readFileSync(file, 'utf-8'));
    expect(registry.models.intent_classifier.stages).toEqual({ staging: '1.0.0', production: '1.0.0' });
    expect(registry.models.intent_classifier.versions).toEqual({ '1.0.0': { path: MAR('1.0.0') }, '1.1.0': { path: MAR('1.1.0') } });
    const history = registry.models.intent_classifier.history;
    expect(history.map((e: any) => [e.action, e.version, e.stage])).toEqual([
      ['register', '1.0.0', undefined],
      ['promote', '1.0.0', 'staging'],
      ['promote', '1.0.0', 'production'],
      ['register', '1.1.0', undefined],
    ]);
    const promoted = cli(dir, ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--reason', 'retrained on May data']);
    expect(promoted.status).toBe(0);
    history.push(...parse(fs.readFileSync(file, 'utf-8')).models.intent_classifier.history.slice(4));
    expect(history.at(-1)).toMatchObject({ action: 'promote', version: '1.1.0', stage: 'staging', reason: 'retrained on May data' });
    for (const entry of history.slice(3)) {
      expect(entry.actor).toBe('Tester <tester@example.com>');
      expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Math.abs(Date.parse(entry.time) - Date.now())).toBeLessThan(5 * 60_000);
    }

    const list = cli(dir, ['model', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout.split('\n')).toEqual([
      'MODEL              VERSION  STAGES      PATH',
      `intent_classifier  1.0.0    production  ${MAR('1.0.0')}`,
      `intent_classifier  1.1.0    staging     ${MAR('1.1.0')}`,
      '',
    ]);
    const json = JSON.parse(cli(dir, ['model', 'list', '--json']).stdout);
    expect(json[1]).toEqual({ model: 'intent_classifier', version: '1.1.0', path: MAR('1.1.0'), stages: ['staging'] });

    const shown = cli(dir, ['model', 'history', '--name', 'intent_classifier']);
    expect(shown.status).toBe(0);
    const lines = shown.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME +ACTION +VERSION +STAGE +ACTOR +DETAILS$/);
    expect(lines[5]).toMatch(/^\S+Z  promote   1\.1\.0    staging     Tester <tester@example\.com>  retrained on May data$/);
    expect(JSON.parse(cli(dir, ['model', 'history', '--name', 'intent_classifier', '--json']).stdout)).toEqual(history);
  });

  it('moves a stage to a newer version, and changes nothing that runs: only a deploy does', () => {
    const { dir, file } = seededRegistry();
    const fleet = fs.readFileSync(path.join(dir, 'serving.yaml'));
    const dist = readTree(path.join(dir, 'dist'));
    const run = cli(dir, ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--reason', 'retrained on May data']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe([
      'model-serving: promoted intent_classifier 1.1.0 to staging (was 1.0.0) in registry.yaml',
      'model-serving: nothing runs it yet; deploy it with: model-serving deploy staging 1.1.0 <rolling|canary|blue-green>',
      '',
    ].join('\n'));
    expect(run.stdout).toBe('');
    expect(parse(fs.readFileSync(file, 'utf-8')).models.intent_classifier.stages).toEqual({ staging: '1.1.0', production: '1.0.0' });
    expect(fs.readFileSync(path.join(dir, 'serving.yaml')).equals(fleet)).toBe(true);
    expect(readTree(path.join(dir, 'dist'))).toEqual(dist);
  });

  it('takes the actor from $USER when git has no user', () => {
    const { dir, file } = seededRegistry();
    const noGitUser = { GIT_CONFIG_COUNT: undefined, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', HOME: dir, USER: 'ci-runner' };
    expect(cli(dir, ['model', 'register', '--name', 'intent_classifier', '--version', '1.2.0', '--path', MAR('1.2.0')], noGitUser).status).toBe(0);
    expect(parse(fs.readFileSync(file, 'utf-8')).models.intent_classifier.history.at(-1).actor).toBe('ci-runner');
  });

  it('re-registering a version at the same path is a no-op with a message', () => {
    const { dir, file } = seededRegistry();
    const before = fs.readFileSync(file);
    const run = cli(dir, ['model', 'register', '--name', 'intent_classifier', '--version', '1.0.0', '--path', MAR('1.0.0')]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(`model-serving: intent_classifier 1.0.0 is already registered at ${MAR('1.0.0')}; nothing changed\n`);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('--force takes a version to production without staging, recorded as forced with its reason', () => {
    const { dir, file } = seededRegistry();
    const run = cli(dir, ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'production', '--force', '--reason', 'hotfix for INC-42']);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('promoted intent_classifier 1.1.0 to production (was 1.0.0), skipping staging (forced)');
    const last = parse(fs.readFileSync(file, 'utf-8')).models.intent_classifier.history.at(-1);
    expect(last).toMatchObject({ action: 'promote', version: '1.1.0', stage: 'production', reason: 'hotfix for INC-42', forced: true });
  });
});

// Each refusal: a clear message, exit 1 (2 for usage errors), and the registry byte for byte as it was.
const REFUSALS: [string, string[], number, string][] = [
  [
    'an unregistered version',
    ['model', 'promote', '--name', 'intent_classifier', '--version', '2.0.0', '--to', 'staging', '--reason', 'x'],
    1,
    'error: registry.yaml:9: intent_classifier 2.0.0 is not registered (registered versions: 1.0.0, 1.1.0); register it before promoting it',
  ],
  [
    'an unregistered model',
    ['model', 'promote', '--name', 'fraud_detector', '--version', '1.0.0', '--to', 'staging', '--reason', 'x'],
    1,
    'error: registry.yaml:4: model "fraud_detector" is not registered (registered models: intent_classifier); register a version first: model-serving model register --name fraud_detector --version 1.0.0 --path <.mar location>',
  ],
  [
    'a skipped stage',
    ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'production', '--reason', 'looks fine'],
    1,
    'error: registry.yaml:6: intent_classifier 1.1.0 was never promoted to staging (staging runs 1.0.0); promote it to staging first, or force it to production with a reason',
  ],
  [
    '--force for staging',
    ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--force', '--reason', 'x'],
    1,
    'error: force applies only to a promotion to production, which may then skip staging',
  ],
  [
    'a promotion without a reason',
    ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging'],
    2,
    "error: required option '--reason <text>' not specified",
  ],
  [
    'an empty reason',
    ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--reason', '  '],
    1,
    'error: --reason "  ": must not be empty',
  ],
  [
    'an unknown stage',
    ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'prod', '--reason', 'x'],
    2,
    "error: option '--to <stage>' argument 'prod' is invalid. Allowed choices are staging, production.",
  ],
  [
    'a version that is not semantic',
    ['model', 'register', '--name', 'intent_classifier', '--version', 'v1.2', '--path', MAR('1.2.0')],
    1,
    'error: --version "v1.2": must be a semantic version such as "1.0.0", "1.1.0-rc.1" or "1.1.0+build.7"',
  ],
  [
    'a bad semantic version on promote',
    ['model', 'promote', '--name', 'intent_classifier', '--version', '1.0', '--to', 'staging', '--reason', 'x'],
    1,
    'error: --version "1.0": must be a semantic version such as "1.0.0", "1.1.0-rc.1" or "1.1.0+build.7"',
  ],
  [
    'a path conflict',
    ['model', 'register', '--name', 'intent_classifier', '--version', '1.0.0', '--path', 's3://betterprompts-models/intent_classifier/retrained/intent_classifier.mar'],
    1,
    `error: registry.yaml:10: intent_classifier 1.0.0 is already registered at ${MAR('1.0.0')}; a version's archive never changes, so register s3://betterprompts-models/intent_classifier/retrained/intent_classifier.mar as a new version`,
  ],
  [
    'a model name outside the fleet rule',
    ['model', 'register', '--name', 'Intent-Classifier', '--version', '1.0.0', '--path', MAR('1.0.0')],
    1,
    'error: --name "Intent-Classifier": must start with a lowercase letter and contain only lowercase letters, digits, "_" and "-"',
  ],
  [
    'a model name that clashes with a registered one',
    ['model', 'register', '--name', 'intent-classifier', '--version', '1.0.0', '--path', MAR('1.0.0')],
    1,
    'error: registry.yaml:5: model name "intent-classifier" clashes with registered model "intent_classifier": "_" and "-" give the same Kubernetes name',
  ],
  [
    'an archive path that is not a .mar location',
    ['model', 'register', '--name', 'intent_classifier', '--version', '1.2.0', '--path', 'https://example.com/intent_classifier.mar'],
    1,
    'error: --path "https://example.com/intent_classifier.mar": must be s3://<bucket>/<key>.mar or pvc://<claim>/<path>.mar',
  ],
  [
    'the history of an unknown model',
    ['model', 'history', '--name', 'fraud_detector'],
    1,
    'error: model "fraud_detector" is not in registry.yaml (registered models: intent_classifier)',
  ],
];

describe('registry rules', () => {
  // Each refusal in its own copy of the seed, run two at a time.
  const refusals = new Map<string, { dir: string; file: string; before: Buffer; run: Run }>();
  beforeAll(async () => {
    const cases = REFUSALS.map(([what, args]) => ({ what, args, ...seededRegistry() }));
    const befores = cases.map((c) => fs.readFileSync(c.file));
    const runs = await twoAtATime(cases.map((c) => () => spawnAsync(CLI, c.args, { cwd: c.dir, env: cliEnv({}) })));
    cases.forEach((c, i) => refusals.set(c.what, { dir: c.dir, file: c.file, before: befores[i], run: runs[i] }));
  }, 120_000);

  it.each(REFUSALS)('refuse %s, leaving the registry byte-identical', (what, args, status, message) => {
    const { dir, file, before, run } = refusals.get(what)!;
    expect(run.stderr.split('\n')[0]).toBe(message);
    if (status === 1 && args[1] !== 'history') expect(run.stderr).toContain('Nothing was changed; registry.yaml is as it was.');
    expect(run.status).toBe(status);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['dist', 'registry.yaml', 'serving.yaml']);
  });

  it('never creates a registry on the side: without one beside the fleet file, register says where it looked', () => {
    const dir = folder();
    fs.copyFileSync(DEFAULT_FLEET, path.join(dir, 'serving.yaml'));
    const run = cli(dir, ['model', 'register', '--name', 'intent_classifier', '--version', '1.1.0', '--path', MAR('1.1.0')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('error: there is no model registry at registry.yaml (beside serving.yaml); create it with "model-serving model init"');
    expect(fs.readdirSync(dir)).toEqual(['serving.yaml']);
    // Nor from a folder without a fleet file: the registry lives beside the fleet file.
    const elsewhere = cli(folder(), ['model', 'register', '--name', 'intent_classifier', '--version', '1.1.0', '--path', MAR('1.1.0')]);
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toContain('serving.yaml: file not found');
  });

  it('reads the registry from --registry, then $MODEL_REGISTRY', () => {
    const { dir, file } = seededRegistry();
    fs.copyFileSync(file, path.join(dir, 'a.yaml'));
    fs.renameSync(file, path.join(dir, 'b.yaml'));
    expect(cli(dir, ['model', 'register', '--registry', 'a.yaml', '--name', 'intent_classifier', '--version', '1.2.0', '--path', MAR('1.2.0')]).status).toBe(0);
    expect(cli(dir, ['model', 'register', '--name', 'intent_classifier', '--version', '2.0.0', '--path', MAR('2.0.0')], { MODEL_REGISTRY: 'b.yaml' }).status).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['a.yaml', 'b.yaml', 'dist', 'serving.yaml']);
    expect(cli(dir, ['model', 'list', '--json'], { MODEL_REGISTRY: 'b.yaml' }).stdout).toContain('"2.0.0"');
    expect(cli(dir, ['model', 'list', '--json'], { MODEL_REGISTRY: 'b.yaml' }).stdout).not.toContain('"1.2.0"');
    expect(cli(dir, ['model', 'list', '--json', '--registry', 'a.yaml']).stdout).toContain('"1.2.0"');
  });
});
