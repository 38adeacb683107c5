import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { loadFleet } from '../lib/fleet';
import { ServingRepository } from '../lib/repository';
import { REGISTRY_FLEET, REPO_ROOT, fixtureWorkspace, synthToTemp, tempDir } from './helpers/app';

const FILE = path.join(REPO_ROOT, '.github', 'workflows', 'model-deployment.yml');
const TEXT = fs.readFileSync(FILE, 'utf-8');
const workflow = parse(TEXT) as any;
const steps = (job: string): any[] => workflow.jobs[job].steps;
const allSteps = (): any[] => Object.keys(workflow.jobs).flatMap((job) => steps(job));
const step = (job: string, name: string): any => {
  const found = steps(job).find((s) => s.name === name);
  if (!found) throw new Error(`no step "${name}" in job ${job}`);
  return found;
};

/**
 * The errors GitHub's own parser finds, against its workflow schema (the one the Actions service
 * and the VS Code extension use). It runs in a child process under tsx; see the fixture.
 */
function githubErrors(content: string): string[] {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'operations', 'github-workflow-errors.mts'), 'model-deployment.yml'], {
    cwd: REPO_ROOT,
    input: content,
    encoding: 'utf-8',
  });
  if (result.status !== 0) throw new Error(`the workflow parser failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

/** The script of a `node <<'EOF' ... EOF` step. */
function nodeScript(run: string): string {
  const match = /node <<'EOF'\n([\s\S]*?)\nEOF/.exec(run);
  if (!match) throw new Error('not a node heredoc step');
  return match[1];
}

/** Runs a node step of the workflow as the runner would, with its env; returns its outputs. */
function runNodeStep(run: string, env: Record<string, string>, cwd = REPO_ROOT) {
  const outputFile = path.join(tempDir(), 'github-output');
  fs.writeFileSync(outputFile, '');
  const result = spawnSync(process.execPath, ['-'], {
    cwd,
    input: nodeScript(run),
    env: { PATH: process.env.PATH, NODE_PATH: path.join(REPO_ROOT, 'node_modules'), GITHUB_OUTPUT: outputFile, ...env },
    encoding: 'utf-8',
  });
  const outputs = Object.fromEntries(fs.readFileSync(outputFile, 'utf-8').split('\n').filter(Boolean).map((line) => line.split(/=(.*)/s).slice(0, 2)));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, outputs };
}

describe('.github/workflows/model-deployment.yml', () => {
  it('is a valid workflow for GitHub\'s own parser and schema; a misspelt key would not be', () => {
    expect(githubErrors(TEXT)).toEqual([]);
    const broken = TEXT.replace('    timeout-minutes: 30\n', '    timeout-minute: 30\n');
    expect(broken).not.toBe(TEXT);
    expect(githubErrors(broken).join('\n')).toContain("Unexpected value 'timeout-minute'");
  });

  it('is started by hand with the model version, the environment and the strategy', () => {
    expect(Object.keys(workflow.on)).toEqual(['workflow_dispatch']);
    const inputs = workflow.on.workflow_dispatch.inputs;
    expect(inputs.model_version).toMatchObject({ required: true, type: 'string' });
    // Any environment of the fleet file: the fleet step refuses others, so the workflow needs no edit per environment.
    expect(inputs.environment).toMatchObject({ required: true, type: 'string', default: 'staging' });
    expect(inputs.strategy).toMatchObject({ required: true, type: 'choice', options: ['rolling', 'canary', 'blue-green'], default: 'rolling' });
    expect(inputs.deployer).toMatchObject({ type: 'choice', options: ['kubectl', 'argocd'], default: 'kubectl' });
  });

  it('checks the serving repository (not the project\'s own tests), validates, deploys, smoke-tests, then updates the registry, in that order', () => {
    const commands = allSteps().map((s) => `${s.uses ?? ''} ${s.run ?? ''}`);
    const at = (pattern: RegExp) => {
      const index = commands.findIndex((c) => pattern.test(c));
      expect(index, String(pattern)).toBeGreaterThanOrEqual(0);
      return index;
    };
    const order = [
      at(/^ npm ci$/m),
      at(/^ bin\/model-serving check$/m),
      at(/kubeconform -strict/),
      at(/kubectl apply --server-side --field-manager=model-serving -k "dist\/\$\{ENVIRONMENT\}"/),
      at(/argocd app sync "\$\{ARGOCD_APP\}"/),
      at(/curl --fail[\s\S]*"https:\/\/\$\{HOST\}\/ping"/),
      at(/bin\/model-serving model promote --name "\$\{MODEL\}" --version "\$\{MODEL_VERSION\}" --to "\$\{STAGE\}" \\\n\s+--reason "deployed to/),
      at(/git push origin "HEAD:\$\{GITHUB_REF_NAME\}"/),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The users' pipeline must pass release after release: it never runs the project's own suite.
    expect(commands.some((c) => /npm (run )?test/.test(c))).toBe(false);
    expect(workflow.jobs.deploy.needs).toEqual(['verify', 'images']);
    // Production approvals: the deploy job runs in the GitHub environment of the same name.
    expect(workflow.jobs.deploy.environment.name).toBe('${{ inputs.environment }}');
  });

  it('retries the smoke test and fails on an HTTP error', () => {
    const run: string = step('deploy', 'Smoke test /ping through the gateway').run;
    expect(run).toContain('--fail');
    expect(run).toMatch(/--retry \d+ --retry-delay \d+ --retry-all-errors/);
    expect(run).toMatch(/--max-time \d+/);
  });

  it('pins every action to a full commit SHA, and kubeconform and the Argo CD CLI to a verified release', () => {
    const uses = allSteps().filter((s) => s.uses).map((s) => s.uses as string);
    expect(uses.length).toBeGreaterThanOrEqual(4);
    for (const ref of uses) expect(ref).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    for (const line of TEXT.split('\n').filter((l) => /uses: /.test(l))) expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    expect(workflow.env.KUBECONFORM_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(workflow.env.KUBECONFORM_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(step('verify', 'Install kubeconform').run).toContain('sha256sum --check --strict');
    expect(step('deploy', 'Install the Argo CD CLI').run).toContain('sha256sum --check --strict');
  });

  it('keeps secrets and inputs out of scripts and never writes a credential inline', () => {
    for (const s of allSteps()) {
      // Expressions in a script are a code-injection path; values reach scripts only through env.
      expect(s.run ?? '', s.name).not.toContain('${{');
    }
    const secretUses = [...TEXT.matchAll(/\$\{\{\s*secrets\.(\w+)\s*\}\}/g)].map((m) => m[1]);
    expect(secretUses).toEqual(['ARGOCD_AUTH_TOKEN']);
    expect(TEXT).toMatch(/^ {10}ARGOCD_AUTH_TOKEN: \$\{\{ secrets\.ARGOCD_AUTH_TOKEN \}\}$/m);
    expect(TEXT).not.toMatch(/AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{20,}|-----BEGIN|password\s*[:=]/i);
    // AWS access comes from GitHub OIDC, not stored keys.
    expect(TEXT).not.toMatch(/aws-access-key-id|aws-secret-access-key/);
    expect(workflow.permissions).toEqual({ 'contents': 'read' });
    expect(workflow.jobs.deploy.permissions).toEqual({ 'contents': 'write', 'id-token': 'write' });
    expect(workflow.jobs.images.permissions).toEqual({ 'contents': 'read', 'id-token': 'write' });
    expect(workflow.jobs.verify.permissions).toBeUndefined();
    expect(step('verify', 'Check out').with['persist-credentials']).toBe(false);
  });

  it('refers only to inputs, job outputs and step outputs that exist', () => {
    const inputs = new Set(Object.keys(workflow.on.workflow_dispatch.inputs));
    for (const [, name] of TEXT.matchAll(/\binputs\.(\w+)/g)) expect(inputs, `inputs.${name}`).toContain(name);
    const verifyOutputs = new Set(Object.keys(workflow.jobs.verify.outputs));
    for (const [, name] of TEXT.matchAll(/needs\.verify\.outputs\.(\w+)/g)) expect(verifyOutputs, `needs.verify.outputs.${name}`).toContain(name);
    const fleetScript = nodeScript(step('verify', 'Read the fleet file').run);
    const written = /const out = \{([^}]*)\}/.exec(fleetScript)?.[1] ?? '';
    for (const [, name] of TEXT.matchAll(/steps\.fleet\.outputs\.(\w+)/g)) expect(written, `steps.fleet.outputs.${name}`).toMatch(new RegExp(`(^|[\\s,])${name}(:|,|\\s*$)`));
  });

  it('refuses an input that is not a semantic version before doing anything (the step\'s script, run in bash)', () => {
    const run: string = step('verify', 'Check the inputs').run;
    const check = (MODEL_VERSION: string, MODEL = '') => spawnSync('bash', ['-e', '-c', run], { env: { PATH: process.env.PATH, MODEL_VERSION, MODEL }, encoding: 'utf-8' });
    expect(check('1.2.0').status).toBe(0);
    expect(check('2.0.0-rc.1').status).toBe(0);
    const bad = check('1.2');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('::error::model_version "1.2" is not a semantic version such as 1.2.0');
    expect(check('1.2.0', 'Intent Classifier').stdout).toContain('::error::model "Intent Classifier" is not a TorchServe model name');
  });

  it('reads the gateway host, namespace and stage from the fleet file (the step\'s script, run in node)', () => {
    const run: string = step('verify', 'Read the fleet file').run;
    // A checkout of a serving repository: the registry-managed fixture, synthesized.
    const repo = fixtureWorkspace(REGISTRY_FLEET, 'workflow-');
    ServingRepository.open({ config: path.join(repo, 'serving.yaml') }, {}).synthesize();
    const fleet = loadFleet(path.join(repo, 'serving.yaml'));
    for (const [name, env] of Object.entries(fleet.environments)) {
      const result = runNodeStep(run, { ENVIRONMENT: name, MODEL: '' }, repo);
      expect(result.status).toBe(0);
      expect(result.outputs).toEqual({
        namespace: env.namespace,
        stage: env.stage,
        host: env.gateway?.host,
        model: fleet.models[0].name,
        // The Argo CD Application synthesized for the environment, and the branch it tracks.
        argocd_app: fleet.argocd ? `${fleet.name}-${name}` : '',
        argocd_revision: fleet.argocd ? fleet.argocd.targetRevision : '',
      });
    }
    const unknown = runNodeStep(run, { ENVIRONMENT: 'qa', MODEL: '' }, repo);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toContain(`::error::environment "qa" is not in serving.yaml (it has: ${Object.keys(fleet.environments).join(', ')})`);
  });

  it('stops before the cluster when dist/ deploys another version or strategy (the step\'s script, run in node)', () => {
    const run: string = step('verify', 'Check that dist/ deploys the requested release').run;
    const check = (env: Record<string, string>, cwd: string) => runNodeStep(run, { ENVIRONMENT: 'staging', MODEL: 'intent_classifier', ...env }, cwd);
    // The operations tests' own fleet, rolling, then the same with a canary release in staging.
    const fixture = path.join(__dirname, 'fixtures', 'operations', 'fleet.yaml');
    const rolling = path.dirname(synthToTemp({ file: fixture }));
    const ok = check({ MODEL_VERSION: '1.0.0', STRATEGY: 'rolling' }, rolling);
    expect(ok.stdout).toContain('dist/staging deploys intent_classifier 1.0.0 with rolling');
    expect(ok.status).toBe(0);
    const wrong = check({ MODEL_VERSION: '1.1.0', STRATEGY: 'canary' }, rolling);
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toContain('::error::dist/staging deploys intent_classifier 1.0.0, not 1.1.0; set the release in a pull request (model-serving deploy staging 1.1.0 canary)');
    expect(wrong.stdout).toContain('::error::dist/staging releases with rolling, not canary');

    const doc = parseDocument(fs.readFileSync(fixture, 'utf-8'));
    doc.setIn(['environments', 'staging', 'strategy'], doc.createNode({ type: 'canary' }));
    // A Kong canary's gates read TorchServe's pods, which the monitoring ServiceMonitor scrapes.
    doc.setIn(['environments', 'staging', 'monitoring'], doc.createNode({ runbookBaseUrl: 'https://git.example.com/ml/serving' }));
    const canary = path.dirname(synthToTemp({ text: doc.toString() }));
    expect(check({ MODEL_VERSION: '1.0.0', STRATEGY: 'canary' }, canary).stdout).toContain('dist/staging deploys intent_classifier 1.0.0 with canary');
    expect(check({ MODEL_VERSION: '1.0.0', STRATEGY: 'blue-green' }, canary).stdout).toContain('releases with canary, not blue-green');
  });
});

describe('the serving images in .github/workflows/model-deployment.yml', () => {
  const images = workflow.jobs.images;
  const imageStep = (name: string): any => {
    const found = images.steps.find((s: any) => s.name === name);
    if (!found) throw new Error(`no step "${name}" in job images`);
    return found;
  };

  it('builds, scans, then pushes each serving image, and deploys only after that', () => {
    const names = images.steps.map((s: any) => s.name);
    const at = (name: string) => {
      expect(names, name).toContain(name);
      return names.indexOf(name);
    };
    const order = [at('Log in to ECR'), at('Build the image'), at('Scan with Trivy'), at('Push with an SBOM'), at('Show the digest to pin')];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(at('Configure AWS credentials')).toBeLessThan(at('Log in to ECR'));
    // The scan looks at the image built locally, before any push: loaded into Docker, not pushed.
    expect(imageStep('Build the image').with).toMatchObject({ load: true, push: false });
    expect(imageStep('Scan with Trivy').with['image-ref']).toBe(imageStep('Build the image').with.tags);
    expect(imageStep('Push with an SBOM').with).toMatchObject({ push: true, sbom: true });
    expect(imageStep('Push with an SBOM').with.tags).toBe(imageStep('Build the image').with.tags);
    expect(imageStep('Push with an SBOM').with.file).toBe(imageStep('Build the image').with.file);
    // The deploy waits for every image, and runs without images only when the fleet has none.
    expect(images.needs).toBe('verify');
    expect(workflow.jobs.deploy.needs).toContain('images');
    expect(workflow.jobs.deploy.if).toContain("needs.images.result == 'success' || needs.images.result == 'skipped'");
    expect(workflow.jobs.deploy.if).toContain("needs.verify.result == 'success'");
    expect(images.if).toBe("needs.verify.outputs.images != '[]'");
  });

  it('fails the scan on fixable HIGH and CRITICAL findings, with Trivy pinned by commit', () => {
    const scan = imageStep('Scan with Trivy');
    expect(scan.uses).toMatch(/^aquasecurity\/trivy-action@[0-9a-f]{40}$/);
    expect(scan.with).toMatchObject({ 'severity': 'HIGH,CRITICAL', 'ignore-unfixed': true, 'exit-code': '1', 'scan-type': 'image' });
    expect(scan.if).toBeUndefined();
    for (const name of ['Build the image', 'Push with an SBOM']) expect(imageStep(name).uses).toMatch(/^docker\/build-push-action@[0-9a-f]{40}$/);
    expect(imageStep('Log in to ECR').uses).toMatch(/^aws-actions\/amazon-ecr-login@[0-9a-f]{40}$/);
    expect(imageStep('Set up Docker Buildx').uses).toMatch(/^docker\/setup-buildx-action@[0-9a-f]{40}$/);
  });

  it('builds the committed, fresh Dockerfiles that "model-serving image list" gives the matrix', () => {
    // model-serving check fails on stale image files, before the matrix is read.
    expect(step('verify', 'Check the serving repository').run).toBe('bin/model-serving check');
    expect(workflow.jobs.verify.outputs.images).toBe('${{ steps.images.outputs.images }}');
    expect(images.strategy.matrix.image).toBe('${{ fromJSON(needs.verify.outputs.images) }}');
    // Every matrix field the workflow reads is one the command prints.
    const dir = tempDir();
    fs.cpSync(path.join(__dirname, 'fixtures', 'image'), dir, { recursive: true });
    const list = spawnSync(path.join(REPO_ROOT, 'bin', 'model-serving'), ['--config', 'fleet.yaml', 'image', 'list', '--json'], { cwd: dir, encoding: 'utf-8' });
    const [row] = JSON.parse(list.stdout);
    for (const [, field] of TEXT.matchAll(/matrix\.image\.([\w.]+)/g)) {
      expect(field.split('.').reduce((node: any, key) => node?.[key], row), `matrix.image.${field}`).toEqual(expect.anything());
    }
    for (const [, name] of TEXT.matchAll(/steps\.decide\.outputs\.(\w+)/g)) expect(['ref', 'build']).toContain(name);
  });

  it('rebuilds nothing that is pinned, and builds a new tag (the decision step\'s script, run in bash with a stand-in aws)', () => {
    const run: string = imageStep('Decide whether to build').run;
    const bin = tempDir();
    // The stand-in answers like the AWS CLI: found for the images listed in $HELD, else ImageNotFoundException.
    fs.writeFileSync(path.join(bin, 'aws'), '#!/bin/sh\nfor a in "$@"; do case " $HELD " in *" $a "*) echo "{}"; exit 0 ;; esac; done\n[ -n "$AWS_BROKEN" ] && { echo "AccessDeniedException: no" >&2; exit 255; }\necho "An error occurred (ImageNotFoundException) when calling the DescribeImages operation" >&2\nexit 254\n', { mode: 0o755 });
    const decide = (env: Record<string, string>) => {
      const output = path.join(tempDir(), 'out');
      fs.writeFileSync(output, '');
      const result = spawnSync('bash', ['-e', '-c', run], {
        env: { PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: output, IMAGE_NAME: 'default', REPOSITORY: 'r.example/serving', ECR_REPOSITORY: 'serving', PINNED_TAG: '', PINNED_DIGEST: '', HELD: '', ...env },
        encoding: 'utf-8',
      });
      return { status: result.status, stdout: result.stdout, outputs: Object.fromEntries(fs.readFileSync(output, 'utf-8').split('\n').filter(Boolean).map((l) => l.split('='))) };
    };
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(decide({ PINNED_TAG: 'r1', PINNED_DIGEST: digest, HELD: `imageDigest=${digest}` }).outputs).toEqual({ ref: `r.example/serving@${digest}`, build: 'false' });
    const missing = decide({ PINNED_TAG: 'r1', PINNED_DIGEST: digest });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain(`::error::r.example/serving@${digest} (servingImages.default.digest) is not in ECR`);
    expect(decide({ PINNED_TAG: 'r1', HELD: 'imageTag=r1' }).outputs).toEqual({ ref: 'r.example/serving:r1', build: 'false' });
    expect(decide({ PINNED_TAG: 'r2', HELD: 'imageTag=r1' }).outputs).toEqual({ ref: 'r.example/serving:r2', build: 'true' });
    const broken = decide({ PINNED_TAG: 'r2', AWS_BROKEN: '1' });
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain('::error::aws ecr describe-images failed for serving: AccessDeniedException');
  });
});
