import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { emptyRegistry, promoteVersion, registerVersion, serializeRegistry } from '../lib/registry';
import { tempDir } from './helpers/app';
import { registryManaged } from './helpers/fleets';
import { runCli, runCliAsync, twoAtATime } from './helpers/cli';

const FLEET = path.join(__dirname, 'fixtures', 'operations', 'fleet.yaml');

/** A fixed identity and clock, so the fixture's commits are the same on every machine. */
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Fixture', GIT_AUTHOR_EMAIL: 'fixture@example.com', GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'Fixture', GIT_COMMITTER_EMAIL: 'fixture@example.com', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
  GIT_CONFIG_NOSYSTEM: '1', HOME: '',
};

function git(repo: string, ...args: string[]): string {
  const result = spawnSync('git', args, { cwd: repo, env: { ...process.env, ...GIT_ENV, HOME: repo }, encoding: 'utf-8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** The release a pull request would make: a new model version, more production replicas, a new TorchServe image, tighter management access, no staging management route. */
const NEXT_RELEASE = (() => {
  const doc = parseDocument(fs.readFileSync(FLEET, 'utf-8'));
  doc.setIn(['models', 0, 'version'], '1.1.0');
  doc.setIn(['models', 0, 'mar'], 's3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar');
  doc.setIn(['image', 'tag'], '0.12.1-gpu');
  doc.setIn(['environments', 'production', 'replicas'], 4);
  doc.setIn(['environments', 'production', 'network'], doc.createNode({ managementCidrs: ['10.20.0.0/16'] }));
  doc.deleteIn(['environments', 'staging', 'gateway', 'management']);
  return doc.toString();
})();

describe('model-serving diff, on real git history', () => {
  let repo: string;
  let firstCommit: string;
  /** `model-serving diff` against the committed dist/, with the next release in the fleet file. */
  let onDisk: { status: number | null; stdout: string; stderr: string };

  beforeAll(() => {
    // A repository like a user's: the fleet file and its committed dist/, then a change to the fleet.
    repo = tempDir('model-serving-diff-');
    fs.copyFileSync(FLEET, path.join(repo, 'serving.yaml'));
    git(repo, 'init', '-q', '-b', 'main');
    const synth = runCli(['synth'], { cwd: repo });
    expect(synth.status, synth.stderr).toBe(0);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'release 1.0.0');
    firstCommit = git(repo, 'rev-parse', 'HEAD');
    fs.writeFileSync(path.join(repo, 'serving.yaml'), NEXT_RELEASE);
    onDisk = runCli(['diff'], { cwd: repo });
  });

  it('compares a fresh synthesis with the committed dist/ and prints Markdown for a pull request', () => {
    expect(onDisk.stderr).toBe('');
    expect(onDisk.status).toBe(0);
    const md = onDisk.stdout;
    expect(md).toMatch(/^## Manifest changes\n\n`dist\/` as committed → a fresh synthesis of `serving.yaml`\n/);
    // Counts of changed objects follow whatever the constructs stamp the version on; the removals are exact.
    expect(md).toMatch(/\*\*production\*\*: \d+ changed · \*\*staging\*\*: \d+ changed, 2 removed · ⚠️ \*\*\d+ risky changes\*\*/);
    // The risky changes, first and in one table.
    expect(md).toContain('| production | `Deployment betterprompts-production/intent-classifier` | model version | 1.0.0 → 1.1.0 |');
    expect(md).toContain('| staging | `Deployment betterprompts-staging/intent-classifier` | model version | 1.0.0 → 1.1.0 |');
    expect(md).toContain('| production | `Deployment betterprompts-production/intent-classifier` | image | container torchserve: pytorch/torchserve:0.12.0-gpu → pytorch/torchserve:0.12.1-gpu |');
    expect(md).toContain('| production | `Deployment betterprompts-production/intent-classifier` | replicas | replicas 3 → 4 |');
    expect(md).toContain('| production | `NetworkPolicy betterprompts-production/intent-classifier` | network policy | ingress rules changed |');
    // Every object, per environment: the staging management route and its allow list are gone.
    expect(md).toContain('| removed | `HTTPRoute betterprompts-staging/intent-classifier-management` |  |');
    expect(md).toContain('| removed | `KongPlugin betterprompts-staging/intent-classifier-management-allow-list` |  |');
    expect(md).toContain('| changed ⚠️ | `Deployment betterprompts-production/intent-classifier` |');
    expect(md).toContain('- `spec.replicas`: `3` → `4`');
    expect(md).toContain('- `spec.template.spec.containers[torchserve].env[MODEL_VERSION].value`: `1.0.0` → `1.1.0`');
    // config.properties changes read as a line diff.
    expect(md).toContain('  - models={"intent_classifier":{"1.0.0":');
    expect(md).toContain('  + models={"intent_classifier":{"1.1.0":');
  });

  it('compares with dist/ at a git revision, from any folder of the repository', async () => {
    fs.mkdirSync(path.join(repo, 'docs'), { recursive: true });
    const [atHead, fromSubfolder, absolute] = await twoAtATime([
      () => runCliAsync(['diff', '--base', 'HEAD'], { cwd: repo }),
      () => runCliAsync(['--config', '../serving.yaml', 'diff', '--base', firstCommit, '--dist', '../dist'], { cwd: path.join(repo, 'docs') }),
      () => runCliAsync(['--config', '../serving.yaml', 'diff', '--base', firstCommit, '--dist', path.join(repo, 'dist')], { cwd: path.join(repo, 'docs') }),
    ]);
    expect(atHead.status).toBe(0);
    expect(atHead.stdout).toContain(`\`dist/\` at \`HEAD\` (${firstCommit.slice(0, 7)}) → a fresh synthesis of \`serving.yaml\``);
    // dist/ on disk is HEAD's dist/, so everything but the title is the same.
    const body = (md: string) => md.split('\n').slice(3).join('\n');
    expect(body(atHead.stdout)).toBe(body(onDisk.stdout));

    expect(fromSubfolder.status).toBe(0);
    expect(body(fromSubfolder.stdout)).toBe(body(onDisk.stdout));
    expect(body(absolute.stdout)).toBe(body(onDisk.stdout));
  });

  it('shows what a merged release changed, and nothing once dist/ is synthesized and committed', () => {
    const before = onDisk.stdout;
    expect(runCli(['synth'], { cwd: repo }).status).toBe(0);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'release 1.1.0');

    const fresh = runCli(['diff'], { cwd: repo });
    expect(fresh.stdout).toContain('No changes: every object is identical.');
    const sinceRelease = runCli(['diff', '--base', 'HEAD~1'], { cwd: repo });
    expect(sinceRelease.stdout.split('\n').slice(3).join('\n')).toBe(before.split('\n').slice(3).join('\n'));
    git(repo, 'reset', '-q', '--hard', firstCommit);
    fs.writeFileSync(path.join(repo, 'serving.yaml'), NEXT_RELEASE);
  });

  it('synthesizes with the model registry, as synth does: a deployed version shows as a new version', () => {
    const author = { actor: 'fixture', time: new Date('2026-01-01T00:00:00Z') };
    let registry = emptyRegistry();
    for (const version of ['1.0.0', '1.1.0']) {
      registry = registerVersion(registry, { model: 'intent_classifier', version, path: `s3://betterprompts-models/intent_classifier/${version}/intent_classifier.mar`, ...author }).registry;
    }
    registry = promoteVersion(registry, { model: 'intent_classifier', version: '1.0.0', stage: 'production', reason: 'live', force: true, ...author }).registry;
    registry = promoteVersion(registry, { model: 'intent_classifier', version: '1.1.0', stage: 'staging', reason: 'try it', ...author }).registry;
    const file = path.join(tempDir(), 'registry.yaml');
    fs.writeFileSync(file, serializeRegistry(registry));
    // Registry-managed: staging is deployed with 1.1.0, production stays on 1.0.0.
    fs.writeFileSync(path.join(repo, 'serving.yaml'), registryManaged(fs.readFileSync(FLEET, 'utf-8'), { staging: { intent_classifier: '1.1.0' }, production: { intent_classifier: '1.0.0' } }));
    try {
      const run = runCli(['diff', '--registry', file], { cwd: repo });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain('| staging | `Deployment betterprompts-staging/intent-classifier` | model version | 1.0.0 → 1.1.0 |');
      expect(run.stdout).toContain('**production**: no changes');
    } finally {
      fs.writeFileSync(path.join(repo, 'serving.yaml'), NEXT_RELEASE);
    }
  });

  it('reports a revision git does not know, or a missing dist/, as a usage error', async () => {
    const [unknown, missing] = await twoAtATime([
      () => runCliAsync(['diff', '--base', 'no-such-branch'], { cwd: repo }),
      () => runCliAsync(['diff', '--dist', 'out'], { cwd: repo }),
    ]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe(`error: --base "no-such-branch" is not a commit of the git repository in ${fs.realpathSync(repo)}\n`);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('error: out/ does not exist; run "model-serving synth" first, or compare with a git revision: --base <ref>\n');
  });

  it('treats a revision without dist/ as an empty output: everything is added', () => {
    const empty = git(repo, 'commit-tree', git(repo, 'mktree'), '-m', 'empty');
    expect(empty).toMatch(/^[0-9a-f]{40}$/);
    const run = runCli(['diff', '--base', empty], { cwd: repo });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\*\*production\*\*: \d+ added · \*\*staging\*\*: \d+ added/);
    expect(run.stdout).not.toContain('| changed');
  });
});
