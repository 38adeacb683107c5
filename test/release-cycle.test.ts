import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REGISTRY_FLEET, REPO_ROOT, tempDir } from './helpers/app';
import { runCliInProcess } from './helpers/cli-in-process';

// The README's release flow, run as a platform team runs it, release after release, on a copy of
// this repository with its own git history: package, register, promote, deploy, a second release,
// a rollback, a second model and a gateway switch. After every step the users' own check passes;
// at the end, so does this project's test of the repository's own files.

const HANDLER = path.join(REPO_ROOT, 'test', 'fixtures', 'registry', 'handlers', 'intent_classifier_handler.py');
const MAR = (model: string, version: string) => `s3://betterprompts-models/${model}/${version}/${model}.mar`;
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Release Tester', GIT_AUTHOR_EMAIL: 'release@example.com', GIT_COMMITTER_NAME: 'Release Tester', GIT_COMMITTER_EMAIL: 'release@example.com',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
};

interface Run { status: number | null; stdout: string; stderr: string }

/** A copy of the repository: the code as it is here, the fleet and registry of the registry-managed fixture. */
function copyRepository(): string {
  const dir = tempDir('release-cycle-');
  const tracked = spawnSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf-8' }).stdout.split('\0').filter(Boolean);
  const untracked = spawnSync('git', ['ls-files', '-z', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf-8' }).stdout.split('\0').filter(Boolean);
  // The files a team keeps for its own fleet: the example fleet's are left behind.
  const userFiles = /^(serving\.yaml|registry\.yaml|dist\/|packaging\/|images\/|handlers\/|\.dockerignore$)/;
  for (const file of [...tracked, ...untracked].filter((f) => !userFiles.test(f) && fs.existsSync(path.join(REPO_ROOT, f)))) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    // Modification times kept, so the esbuild bundles in .build/ are reused rather than rebuilt.
    fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
    const { atime, mtime } = fs.statSync(path.join(REPO_ROOT, file));
    fs.utimesSync(path.join(dir, file), atime, mtime);
  }
  if (fs.existsSync(path.join(REPO_ROOT, '.build'))) fs.cpSync(path.join(REPO_ROOT, '.build'), path.join(dir, '.build'), { recursive: true, preserveTimestamps: true });
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  for (const file of ['serving.yaml', 'registry.yaml']) fs.copyFileSync(path.join(path.dirname(REGISTRY_FLEET), file), path.join(dir, file));
  return dir;
}

describe('the release cycle, on a copy of the repository', () => {
  let repo: string;
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, { cwd: repo, env: { ...process.env, ...GIT_ENV }, encoding: 'utf-8' });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  const cli = (...args: string[]): Run => {
    const result = spawnSync(path.join(repo, 'bin', 'model-serving'), args, {
      cwd: repo,
      env: { ...process.env, ...GIT_ENV, SERVING_CONFIG: undefined, MODEL_REGISTRY: undefined, CDK8S_OUTDIR: undefined },
      encoding: 'utf-8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  /**
   * Runs a step's commands as a user would (bin/model-serving in the copy), each of which must
   * succeed; then the users' check must pass, and the step is committed. The check runs the CLI
   * in this process, so the schemas are compiled once for all the steps.
   */
  const check = () => runCliInProcess(['--config', path.join(repo, 'serving.yaml'), 'check']);
  const step = async (message: string, ...commands: string[][]): Promise<Run[]> => {
    const runs = commands.map((args) => {
      const run = cli(...args);
      expect(run.status, `${args.join(' ')}\n${run.stderr}`).toBe(0);
      return run;
    });
    const checked = await check();
    expect(checked.status, `check after "${message}":\n${checked.stdout}${checked.stderr}`).toBe(0);
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
    return runs;
  };
  const fleet = () => parse(fs.readFileSync(path.join(repo, 'serving.yaml'), 'utf-8'));
  const registry = () => parse(fs.readFileSync(path.join(repo, 'registry.yaml'), 'utf-8'));

  beforeAll(async () => {
    repo = copyRepository();
    git('init', '-q', '-b', 'main');
    await step('a serving repository', ['synth']);
  });

  it('releases 1.1.0: package and register, promote and deploy to staging, then a canary in production', async () => {
    const [packaged] = await step('package 1.1.0', ['model', 'package', '--name', 'intent_classifier', '--version', '1.1.0',
      '--model-path', 's3://betterprompts-training/intent_classifier/run-42/', '--handler', HANDLER,
      '--role-arn', 'arn:aws:iam::123456789012:role/betterprompts-model-packager', '--register']);
    expect(packaged.stderr).toContain('wrote packaging/intent_classifier-1.1.0/');
    // A promotion approves a version; nothing runs it until a deploy.
    const dist = git('rev-parse', 'HEAD:dist');
    await step('promote 1.1.0 to staging', ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'staging', '--reason', 'offline eval +2.1% F1']);
    expect(git('rev-parse', 'HEAD:dist')).toBe(dist);
    await step('deploy 1.1.0 to staging', ['deploy', 'staging', '1.1.0', 'rolling']);
    await step('promote 1.1.0 to production', ['model', 'promote', '--name', 'intent_classifier', '--version', '1.1.0', '--to', 'production', '--reason', 'staging clean']);
    const [deployed] = await step('deploy 1.1.0 to production, canary', ['deploy', 'production', '1.1.0', 'canary']);
    expect(deployed.stdout).toMatch(/\| production \| `Rollout betterprompts-production\/intent-classifier` \| model version \| 1\.0\.0 → 1\.1\.0/);
    expect(fleet().environments.production.versions.intent_classifier).toBe('1.1.0');
    expect(fs.existsSync(path.join(repo, 'dist', 'production', 'Rollout.intent-classifier.k8s.yaml'))).toBe(true);
  });

  it('releases 1.2.0 with blue-green, then rolls production back to 1.1.0', async () => {
    await step('register 1.2.0', ['model', 'register', '--name', 'intent_classifier', '--version', '1.2.0', '--path', MAR('intent_classifier', '1.2.0')]);
    await step('1.2.0 to staging, blue-green',
      ['model', 'promote', '--name', 'intent_classifier', '--version', '1.2.0', '--to', 'staging', '--reason', 'eval'],
      ['deploy', 'staging', '1.2.0', 'blue-green']);
    await step('1.2.0 to production, blue-green',
      ['model', 'promote', '--name', 'intent_classifier', '--version', '1.2.0', '--to', 'production', '--reason', 'preview smoke-tested'],
      ['deploy', 'production', '1.2.0', 'blue-green']);
    const [rolledBack] = await step('roll production back', ['rollback', 'production', '--reason', 'p95 regression']);
    expect(rolledBack.stdout).toContain('Rolled back intent_classifier on production from 1.2.0 to 1.1.0');
    expect(fleet().environments.production.versions.intent_classifier).toBe('1.1.0');
    expect(registry().models.intent_classifier.stages).toEqual({ staging: '1.2.0', production: '1.1.0' });
    // The pull request's diff against the release before shows the version going back.
    const diff = cli('diff', '--base', 'HEAD~1');
    expect(diff.status).toBe(0);
    expect(diff.stdout).toContain('| production | `Rollout betterprompts-production/intent-classifier` | model version | 1.2.0 → 1.1.0 |');
  });

  it('adds a second model, staging first, and switches a gateway', async () => {
    const file = path.join(repo, 'serving.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf-8').replace('\nenvironments:\n', '\n  - name: sentiment\n    handler: text_classifier\n    workers: { min: 1, max: 2 }\n\nenvironments:\n'));
    // Not registered yet: check names the model and what to do.
    const unregistered = await check();
    expect(unregistered.status).toBe(1);
    expect(unregistered.stderr).toMatch(/serving\.yaml:\d+:\d+: models\[1\]: sentiment is not in \S*registry\.yaml and has no version and mar: register it/);
    await step('sentiment 0.1.0 in staging',
      ['model', 'register', '--name', 'sentiment', '--version', '0.1.0', '--path', MAR('sentiment', '0.1.0')],
      ['model', 'promote', '--name', 'sentiment', '--version', '0.1.0', '--to', 'staging', '--reason', 'first'],
      ['deploy', 'staging', '0.1.0', 'rolling', '--model', 'sentiment']);
    expect(fs.existsSync(path.join(repo, 'dist', 'staging', 'Deployment.sentiment.k8s.yaml'))).toBe(true);
    expect(fs.readdirSync(path.join(repo, 'dist', 'production')).some((f) => f.includes('sentiment'))).toBe(false);
    await step('sentiment 0.1.0 in production',
      ['model', 'promote', '--name', 'sentiment', '--version', '0.1.0', '--to', 'production', '--reason', 'staging clean'],
      ['deploy', 'production', '0.1.0', 'rolling', '--model', 'sentiment']);
    // The other model keeps its version and its strategy.
    expect(fleet().environments.production.strategy.models.intent_classifier).toBe('blue-green');

    fs.writeFileSync(file, fs.readFileSync(file, 'utf-8').replace(/(staging:[\s\S]*?implementation: )kong/, '$1traefik'));
    expect((await check()).status).toBe(1);
    await step('staging on Traefik', ['synth']);
    expect(fs.readdirSync(path.join(repo, 'dist', 'staging')).some((f) => f.startsWith('Middleware.'))).toBe(true);
  });

  it("leaves the repository's own test passing", () => {
    const result = spawnSync(process.execPath, [path.join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/user-repository.test.ts'], {
      cwd: repo,
      env: { ...process.env, SERVING_CONFIG: undefined, MODEL_REGISTRY: undefined, CDK8S_OUTDIR: undefined },
      encoding: 'utf-8',
    });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(git('status', '--porcelain')).toBe('');
  });
});
