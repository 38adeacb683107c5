import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_FLEET, REGISTRY_FLEET, REPO_ROOT, fixtureWorkspace, readTree, tempDir } from './helpers/app';
import { runCli } from './helpers/cli';
import { editFleet } from './helpers/fleets';

// Every case of issue 14, through the real command a user would run: the app (npm run synth) for
// broken files, the CLI for the registry flow. A refusal exits 1, prints the file, line and field
// once per real problem and no stack trace, and leaves dist/ byte for byte as it was.

const FLEET = fs.readFileSync(DEFAULT_FLEET, 'utf-8');
const MANAGED = fs.readFileSync(REGISTRY_FLEET, 'utf-8');
const REGISTRY = fs.readFileSync(path.join(path.dirname(REGISTRY_FLEET), 'registry.yaml'), 'utf-8');
const lineOf = (text: string, pattern: RegExp) => text.split('\n').findIndex((l) => pattern.test(l)) + 1;

const ALIAS_BOMB = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((name, i) => `${name}: &${name} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n');
const LONG = (c: string) => `${c.repeat(63)}`;
const renameEnvironment = (from: string, to: string) => editFleet((d) => {
  d.setIn(['environments', to], d.getIn(['environments', from]));
  d.deleteIn(['environments', from]);
  d.setIn(['argocd', 'automatedSync'], d.createNode([]));
});
const TAB_FLEET = FLEET.replace(/\n {4}replicas: 1\n/, '\n\treplicas: 1\n');
const PINNED_NOT_REGISTERED = MANAGED.replace(/(production:[\s\S]*?versions:[^\n]*\n\s+intent_classifier: )1\.0\.0/, '$12.0.0');

interface Case {
  /** The fleet file's content (bytes for encodings). */
  readonly fleet: string | Buffer;
  readonly registry?: string;
  /** Every line the error must print. */
  readonly expected: readonly (string | RegExp)[];
  /** How many problems the error lists. */
  readonly problems: number;
}

const CASES: Record<string, Case> = {
  'an alias bomb in the fleet file': {
    fleet: `${ALIAS_BOMB}\n${FLEET}`,
    expected: [/serving\.yaml:1:4: a: has an anchor \(&a\), repeated by 10 aliases \(line 2\); anchors and aliases are not supported here/],
    problems: 9,
  },
  'an alias bomb in the registry': {
    fleet: MANAGED,
    registry: `${REGISTRY}${ALIAS_BOMB}\n`,
    expected: [/registry\.yaml:\d+:4: a: has an anchor \(&a\)/],
    problems: 9,
  },
  'an alias whose anchor does not exist (fleet file)': {
    fleet: FLEET.replace(/^models:\n[\s\S]*?\n(?=environments:)/m, 'models: *nowhere\n\n'),
    expected: [/serving\.yaml:\d+:9: models: is an alias \(\*nowhere\), and no anchor &nowhere comes before it/],
    problems: 1,
  },
  'an alias whose anchor does not exist (registry)': {
    fleet: MANAGED,
    registry: REGISTRY.replace(/^models:\n[\s\S]*$/m, 'models: *nowhere\n'),
    expected: [/registry\.yaml:\d+:9: models: is an alias \(\*nowhere\)/],
    problems: 1,
  },
  'a 300 KiB handler': {
    fleet: editFleet((d) => d.setIn(['models', 0, 'handler'], 'h'.repeat(300 * 1024))),
    expected: [`serving.yaml:${lineOf(FLEET, /^\s+handler:/)}:14: models[0].handler: got "hhhh`, 'must be at most 1024 characters: a built-in handler name or a handler file path, which is recorded in a pod annotation'],
    problems: 1,
  },
  'a 63-character fleet name with argocd': {
    fleet: editFleet((d) => d.set('name', LONG('f'))),
    expected: [`serving.yaml:${lineOf(FLEET, /^name:/)}:7: name: got "${LONG('f').slice(0, 56)}...; is too long for argocd: Argo CD names each environment's Application "<name>-<environment>"`, 'with these environments the name may have at most 55 characters'],
    problems: 1,
  },
  'a 63-character environment name with argocd': {
    fleet: renameEnvironment('staging', LONG('e')),
    expected: [`environments.${LONG('e')}: got "${LONG('e').slice(0, 56)}...; is too long for argocd: the Application "betterprompts-eeeeeeeeeeeeeeeeeeeeeee..." has 77 characters`],
    problems: 1,
  },
  'a duplicate nested key': {
    fleet: FLEET.replace(/\n( {4}replicas: 1\n)/, '\n$1$1'),
    expected: [`serving.yaml:${lineOf(FLEET, /^ {4}replicas: 1$/) + 1}:5: environments.staging.replicas: duplicate key "replicas": line ${lineOf(FLEET, /^ {4}replicas: 1$/)} sets it already`],
    problems: 1,
  },
  'a GPU memory fraction of .nan': {
    fleet: FLEET.replace(/gpuMemoryFraction: 0\.8/, 'gpuMemoryFraction: .nan'),
    expected: [`serving.yaml:${lineOf(FLEET, /gpuMemoryFraction/)}:24: models[0].gpuMemoryFraction: got .nan; expected a number`],
    problems: 1,
  },
  'a pinned version that is not registered': {
    fleet: PINNED_NOT_REGISTERED,
    registry: REGISTRY,
    expected: [
      new RegExp(`serving\\.yaml:${lineOf(PINNED_NOT_REGISTERED, /intent_classifier: 2\.0\.0/)}:\\d+: environments\\.production\\.versions\\.intent_classifier: pins intent_classifier 2\\.0\\.0, which registry\\.yaml:${lineOf(REGISTRY, /^ {4}versions:/)} \\(models\\.intent_classifier\\.versions\\) does not register`),
    ],
    problems: 1,
  },
  'a tab that indents a line': {
    fleet: TAB_FLEET,
    expected: [`serving.yaml:${lineOf(TAB_FLEET, /^\treplicas/)}:1: a tab indents this line; YAML indents with spaces only: replace the tab with spaces`],
    problems: 1,
  },
  'a fleet file in UTF-16': {
    fleet: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(FLEET, 'utf16le')]),
    expected: ['serving.yaml: is UTF-16 text; save the fleet file as UTF-8'],
    problems: 1,
  },
  'a custom tag': {
    fleet: FLEET.replace(/^name: betterprompts/m, 'name: !secret betterprompts'),
    expected: [`serving.yaml:${lineOf(FLEET, /^name:/)}:15: name: has the tag !secret, which is not supported: the fleet file holds plain strings, numbers, booleans, lists and mappings; remove the tag`],
    problems: 1,
  },
};

interface Run { status: number | null; stderr: string }

function runApp(cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), 'main.ts'], { cwd, env: { ...process.env, SERVING_CONFIG: undefined, MODEL_REGISTRY: undefined, CDK8S_OUTDIR: undefined, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('the cases of issue 14, refused by npm run synth', () => {
  const results = new Map<string, { run: Run; before: Record<string, string>; after: Record<string, string> }>();

  beforeAll(async () => {
    // Each fixture synthesized once; every case gets a workspace with a copy of its dist/, and
    // runs two at a time (two cores).
    const synthesized = new Map<string, string>();
    for (const fixture of [DEFAULT_FLEET, REGISTRY_FLEET]) {
      const dir = fixtureWorkspace(fixture, 'edge-fixture-');
      const first = await runApp(dir, {});
      if (first.status !== 0) throw new Error(`${fixture} does not synthesize: ${first.stderr}`);
      synthesized.set(fixture, path.join(dir, 'dist'));
    }
    const queue = Object.entries(CASES).map(([name, c]) => {
      const fixture = c.registry === undefined ? DEFAULT_FLEET : REGISTRY_FLEET;
      const dir = fixtureWorkspace(fixture, 'edge-');
      fs.cpSync(synthesized.get(fixture) as string, path.join(dir, 'dist'), { recursive: true });
      return { name, c, dir };
    });
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const { name, c, dir } = item;
        const before = readTree(path.join(dir, 'dist'));
        fs.writeFileSync(path.join(dir, 'serving.yaml'), c.fleet);
        if (c.registry !== undefined) fs.writeFileSync(path.join(dir, 'registry.yaml'), c.registry);
        const run = await runApp(dir, {});
        results.set(name, { run, before, after: readTree(path.join(dir, 'dist')) });
      }
    };
    await Promise.all([worker(), worker()]);
  }, 240_000);

  it.each(Object.keys(CASES))('%s: one located error per problem, no stack trace, dist/ unchanged', (name) => {
    const { run, before, after } = results.get(name)!;
    const c = CASES[name];
    expect(run.status, run.stderr).toBe(1);
    for (const line of c.expected) {
      if (typeof line === 'string') expect(run.stderr).toContain(line);
      else expect(run.stderr).toMatch(line);
    }
    expect(run.stderr).toMatch(new RegExp(`\\(${c.problems} problems?\\):`));
    expect(run.stderr).not.toMatch(/\n\s+at \S+ \(/);
    expect(run.stderr).toContain('Nothing was written; dist/ is unchanged.');
    expect(after).toEqual(before);
  });
});

describe('a version with build metadata, through register, promote, deploy and synth', () => {
  const VERSION = '1.1.0+build.7';
  const MAR = `s3://betterprompts-models/intent_classifier/${VERSION}/intent_classifier.mar`;
  let dir: string;

  beforeAll(() => {
    dir = fixtureWorkspace(REGISTRY_FLEET, 'build-metadata-');
  });

  it('registers, promotes and deploys, and the workload carries the label form of the version', () => {
    for (const args of [
      ['model', 'register', '--name', 'intent_classifier', '--version', VERSION, '--path', MAR],
      ['model', 'promote', '--name', 'intent_classifier', '--version', VERSION, '--to', 'staging', '--reason', 'build 7'],
      ['deploy', 'staging', VERSION, 'rolling'],
      ['synth'],
    ]) {
      const run = runCli(args, { cwd: dir });
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    }
    const deployment = parse(fs.readFileSync(path.join(dir, 'dist', 'staging', 'Deployment.intent-classifier.k8s.yaml'), 'utf-8'));
    expect(deployment.metadata.labels['app.kubernetes.io/version']).toBe('1.1.0_build.7');
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('1.1.0_build.7');
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({ name: 'MODEL_VERSION', value: VERSION });
    expect(fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf-8')).toContain(`intent_classifier: ${VERSION}`);
  });

  it('passes validate', () => {
    const run = runCli(['validate'], { cwd: dir });
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  it('refuses a version no label can carry where it is typed, naming the flag', () => {
    const tree = readTree(path.join(dir, 'dist'));
    const registry = fs.readFileSync(path.join(dir, 'registry.yaml'), 'utf-8');
    const long = `1.2.0-${'rc'.repeat(30)}`;
    const run = runCli(['model', 'register', '--name', 'intent_classifier', '--version', long, '--path', MAR.replace(VERSION, '1.2.0')], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`error: --version "${long}": must be at most 63 characters (it has 66), so that it fits the app.kubernetes.io/version label`);
    expect(fs.readFileSync(path.join(dir, 'registry.yaml'), 'utf-8')).toBe(registry);
    expect(readTree(path.join(dir, 'dist'))).toEqual(tree);
  });
});

describe('the same refusals from other commands', () => {
  it('check names the missing requirements and handler files of a serving image at their lines', () => {
    const dir = tempDir('edge-images-');
    // The fleet file alone, without the handler folder it names.
    fs.copyFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'image', 'fleet.yaml'), path.join(dir, 'serving.yaml'));
    const run = runCli(['check'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/serving\.yaml:\d+:\d+: models\[0\]\.requirements: got "handlers\/intent_classifier\/requirements\.txt"; no such file/);
    expect(run.stderr).not.toContain('unexpected internal error');
  });

  it('validate, deploy and model list print the same located error, without a trace', () => {
    const dir = tempDir('edge-commands-');
    fs.writeFileSync(path.join(dir, 'serving.yaml'), MANAGED);
    fs.writeFileSync(path.join(dir, 'registry.yaml'), REGISTRY.replace(/^models:\n[\s\S]*$/m, 'models: *nowhere\n'));
    for (const args of [['deploy', 'staging', '1.0.0', 'rolling'], ['model', 'list'], ['check']]) {
      const run = runCli(args, { cwd: dir });
      expect(run.status, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(/registry\.yaml:\d+:9: models: is an alias \(\*nowhere\)/);
      expect(run.stderr).not.toMatch(/\n\s+at \S+ \(/);
    }
  });
});
