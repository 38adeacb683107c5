import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_FLEET, REGISTRY_FLEET, REPO_ROOT, readTree, tempDir } from './helpers/app';

const CLI = path.join(REPO_ROOT, 'bin', 'model-serving');
const HANDLER = path.join(REPO_ROOT, 'test', 'fixtures', 'registry', 'handlers', 'intent_classifier_handler.py');
const SHIPPED_REGISTRY = fs.readFileSync(path.join(path.dirname(REGISTRY_FLEET), 'registry.yaml'));
const PACKAGER = 'arn:aws:iam::123456789012:role/betterprompts-model-packager';
const TRAINED = 's3://ml-training/intent_classifier/run-42/';
const ROOT = tempDir();
let folders = 0;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A work folder holding the registry-managed fixture fleet and its registry, as a repository checkout would. */
function workdir(): string {
  const dir = path.join(ROOT, String(folders++));
  fs.mkdirSync(dir);
  fs.copyFileSync(REGISTRY_FLEET, path.join(dir, 'serving.yaml'));
  fs.writeFileSync(path.join(dir, 'registry.yaml'), SHIPPED_REGISTRY);
  return dir;
}

/** `model-serving model package <args>` in `cwd`, writing to `cwd/packaging`. */
function pack(cwd: string, args: string[]): Run {
  const result = spawnSync(CLI, ['model', 'package', ...args], {
    cwd,
    encoding: 'utf-8',
    env: { ...process.env, MODEL_REGISTRY: undefined, SERVING_CONFIG: undefined, GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'Tester', GIT_CONFIG_KEY_1: 'user.email', GIT_CONFIG_VALUE_1: 'tester@example.com' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const BASE = ['--name', 'intent_classifier', '--version', '1.1.0', '--model-path', TRAINED, '--handler', HANDLER, '--role-arn', PACKAGER];

function readFolder(cwd: string, version = '1.1.0'): Record<string, any> {
  const folder = path.join(cwd, 'packaging', `intent_classifier-${version}`);
  return Object.fromEntries(fs.readdirSync(folder).map((f) => [f.split('.')[0], parse(fs.readFileSync(path.join(folder, f), 'utf-8'))]));
}

const archiveArgs = (objects: Record<string, any>) => objects.Job.spec.template.spec.initContainers.find((c: any) => c.name === 'archive').args;

describe('model package: argument mapping', () => {
  it('maps the issue\'s example to a Job in the staging namespace, with the fleet\'s images, bucket and IRSA role', () => {
    const cwd = workdir();
    const run = pack(cwd, BASE);
    expect(run.stderr).toBe([
      'model-serving: wrote packaging/intent_classifier-1.1.0/ (4 manifests): Job package-intent-classifier-1-1-0 in betterprompts-staging packages intent_classifier 1.1.0 into s3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar',
      'model-serving: run it with: kubectl apply -k packaging/intent_classifier-1.1.0',
      '',
    ].join('\n'));
    expect(run.status).toBe(0);
    const objects = readFolder(cwd);
    expect(Object.keys(objects).sort()).toEqual(['ConfigMap', 'Job', 'NetworkPolicy', 'ServiceAccount', 'kustomization']);
    expect(archiveArgs(objects)).toEqual([
      '--model-name', 'intent_classifier', '--version', '1.1.0',
      '--serialized-file', '/workspace/model/model.pt',
      '--handler', '/packaging/source/intent_classifier_handler.py',
      '--export-path', '/workspace/export', '--archive-format', 'default', '--force',
    ]);
    const pod = objects.Job.spec.template.spec;
    expect(pod.initContainers.map((c: any) => c.image)).toEqual(['amazon/aws-cli:2.22.35', 'pytorch/torchserve:0.12.0-gpu']);
    expect(pod.initContainers[0].command.at(-2)).toBe(TRAINED);
    expect(objects.Job.metadata.namespace).toBe('betterprompts-staging');
    expect(objects.ServiceAccount.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(PACKAGER);
    expect(objects.ConfigMap.data['intent_classifier_handler.py']).toBe(fs.readFileSync(HANDLER, 'utf-8'));
    // Without --register the registry is left alone.
    expect(fs.readFileSync(path.join(cwd, 'registry.yaml')).equals(SHIPPED_REGISTRY)).toBe(true);
  });

  it('maps every optional flag', () => {
    const cwd = workdir();
    fs.writeFileSync(path.join(cwd, 'requirements.txt'), 'transformers==4.46.3\n');
    const run = pack(cwd, [
      '--name', 'intent_classifier', '--version', '1.1.0', '--model-path', 's3://ml-training/intent_classifier/run-43',
      '--handler', HANDLER, '--model-file', 'model.py', '--serialized-file', 'weights/state_dict.pth',
      '--extra-files', 'config.json,tokenizer.json', '--extra-files', 'vocab/vocab.txt', '--requirements', 'requirements.txt',
      '--environment', 'production', '--role-arn', 'arn:aws:iam::123456789012:role/model-packager', '--bucket', 'ml-archive',
      '--cpu', '4', '--memory', '8Gi', '--workspace-size', '30Gi', '--packaging-dir', 'out',
    ]);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('warning: TorchServe installs an archive\'s requirements only with models[].installAtLoad; pin them in models[].requirements');
    fs.renameSync(path.join(cwd, 'out'), path.join(cwd, 'packaging'));
    const objects = readFolder(cwd);
    expect(archiveArgs(objects)).toEqual([
      '--model-name', 'intent_classifier', '--version', '1.1.0',
      '--serialized-file', '/workspace/model/weights/state_dict.pth',
      '--model-file', '/workspace/model/model.py',
      '--handler', '/packaging/source/intent_classifier_handler.py',
      '--extra-files', '/workspace/model/config.json,/workspace/model/tokenizer.json,/workspace/model/vocab/vocab.txt',
      '--requirements-file', '/packaging/source/requirements.txt',
      '--export-path', '/workspace/export', '--archive-format', 'default', '--force',
    ]);
    const pod = objects.Job.spec.template.spec;
    expect(pod.initContainers[0].command.at(-2)).toBe('s3://ml-training/intent_classifier/run-43/');
    expect(pod.initContainers[1].resources.limits).toEqual({ 'cpu': '4', 'memory': '8Gi', 'ephemeral-storage': '30Gi' });
    expect(pod.containers[0].command.slice(3, 7)).toEqual(['--bucket', 'ml-archive', '--key', 'intent_classifier/1.1.0/intent_classifier.mar']);
    expect(objects.Job.metadata.namespace).toBe('betterprompts-production');
    expect(objects.ServiceAccount.metadata.annotations['eks.amazonaws.com/role-arn']).toBe('arn:aws:iam::123456789012:role/model-packager');
    expect(objects.ConfigMap.data['requirements.txt']).toBe('transformers==4.46.3\n');
  });

  it('passes a built-in handler by name, with no ConfigMap', () => {
    const cwd = workdir();
    const run = pack(cwd, ['--name', 'intent_classifier', '--version', '1.1.0', '--model-path', TRAINED, '--handler', 'text_classifier', '--model-file', 'model.py', '--role-arn', PACKAGER]);
    expect(run.status).toBe(0);
    const objects = readFolder(cwd);
    expect(objects.ConfigMap).toBeUndefined();
    expect(archiveArgs(objects)).toEqual([
      '--model-name', 'intent_classifier', '--version', '1.1.0', '--model-file', '/workspace/model/model.py', '--handler', 'text_classifier',
      '--export-path', '/workspace/export', '--archive-format', 'default', '--force',
    ]);
  });
});

describe('model package --register', () => {
  it('registers the archive location, with the audit entry, and is idempotent', () => {
    const cwd = workdir();
    const first = pack(cwd, [...BASE, '--register']);
    expect(first.status).toBe(0);
    expect(first.stderr).toContain('model-serving: registered intent_classifier 1.1.0 at s3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar in registry.yaml');
    const registry = parse(fs.readFileSync(path.join(cwd, 'registry.yaml'), 'utf-8'));
    expect(registry.models.intent_classifier.versions['1.1.0']).toEqual({ path: 's3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar' });
    expect(registry.models.intent_classifier.history.at(-1)).toMatchObject({
      action: 'register', version: '1.1.0', reason: `packaged from ${TRAINED}`, actor: 'Tester <tester@example.com>',
    });
    const registryBytes = fs.readFileSync(path.join(cwd, 'registry.yaml'));
    const tree = readTree(path.join(cwd, 'packaging'));

    const again = pack(cwd, [...BASE, '--register']);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('is already registered at s3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar; nothing changed');
    expect(fs.readFileSync(path.join(cwd, 'registry.yaml')).equals(registryBytes)).toBe(true);
    expect(readTree(path.join(cwd, 'packaging'))).toEqual(tree);
    // The Job folder is what check validates and builds, beside the synthesized output.
    const check = spawnSync(CLI, ['check'], { cwd, encoding: 'utf-8' });
    expect(check.stdout).toContain('check: packaging/: 1 Kustomize folder builds (intent_classifier-1.1.0)');
    expect(check.status).toBe(0);
  });
});

// Each refusal: exit 1, a message naming the problem, "Nothing was written.", no output folder, the registry as it was.
const REFUSED: [string, string[], string][] = [
  ['a model name outside the registry rule', ['--name', 'IntentClassifier', '--version', '1.1.0', '--model-path', TRAINED, '--handler', HANDLER, '--role-arn', PACKAGER],
    'error: --name "IntentClassifier": must start with a lowercase letter and contain only lowercase letters, digits, "_" and "-"'],
  ['a version that is not semantic', ['--name', 'intent_classifier', '--version', '1.1', '--model-path', TRAINED, '--handler', HANDLER, '--role-arn', PACKAGER],
    'error: --version "1.1": must be a semantic version such as "1.0.0", "1.1.0-rc.1" or "1.1.0+build.7"'],
  ['a missing handler file', ['--name', 'intent_classifier', '--version', '1.1.0', '--model-path', TRAINED, '--handler', 'handlers/missing_handler.py', '--role-arn', PACKAGER],
    'error: --handler "handlers/missing_handler.py": no such file; give the handler\'s Python file, or a built-in handler: image_classifier, image_segmenter, object_detector, text_classifier'],
  ['a handler that is a folder', ['--name', 'intent_classifier', '--version', '1.1.0', '--model-path', TRAINED, '--handler', path.dirname(HANDLER), '--role-arn', PACKAGER],
    `error: --handler "${path.dirname(HANDLER)}": is not a file`],
  ['a handler that is not Python', ['--name', 'intent_classifier', '--version', '1.1.0', '--model-path', TRAINED, '--handler', DEFAULT_FLEET, '--role-arn', PACKAGER],
    `error: --handler "${DEFAULT_FLEET}": must be a Python file (.py)`],
  ['a missing requirements file', [...BASE, '--requirements', 'requirements.txt'],
    'error: --requirements "requirements.txt": no such file'],
  ['a training output outside S3', ['--name', 'intent_classifier', '--version', '1.1.0', '--model-path', '/data/run-42', '--handler', HANDLER, '--role-arn', PACKAGER],
    'error: --model-path ("/data/run-42") must be an S3 prefix such as "s3://ml-training/intent_classifier/run-42/"'],
  ['an extra file outside the training output', [...BASE, '--extra-files', '../../other-model/weights.pt'],
    'error: --extra-files ("../../other-model/weights.pt") must be a path inside --model-path'],
  ['a quantity that is not one', [...BASE, '--memory', 'lots'],
    'error: --memory ("lots") must be a positive Kubernetes quantity such as "2" or "10Gi"'],
  ['an unknown environment', [...BASE, '--environment', 'qa'],
    'error: --environment "qa" is not in serving.yaml; it defines: production, staging'],
  ['a model the fleet does not know, without --bucket', ['--name', 'fraud_detector', '--version', '1.0.0', '--model-path', TRAINED, '--handler', HANDLER, '--role-arn', PACKAGER],
    'error: --bucket is needed: neither serving.yaml nor the registry has an s3:// archive of model "fraud_detector" to take the bucket from'],
  ['the serving pods\' read-only role', [...BASE.slice(0, -1), 'arn:aws:iam::123456789012:role/betterprompts-staging-model-reader'],
    'error: --role-arn "arn:aws:iam::123456789012:role/betterprompts-staging-model-reader" is the serving pods\' role (environments.staging.serviceAccount.roleArn in serving.yaml), which should only read archives; pass a packaging role that may write s3://<bucket>/intent_classifier/*'],
  ['--reason without --register', [...BASE, '--reason', 'retrained'],
    'error: --reason is recorded only with --register'],
  ['--register when the version is registered at another location', ['--name', 'intent_classifier', '--version', '1.0.0', '--model-path', TRAINED, '--handler', HANDLER, '--role-arn', PACKAGER, '--bucket', 'other-models', '--register'],
    "error: registry.yaml:10: intent_classifier 1.0.0 is already registered at s3://betterprompts-models/intent_classifier/1.0.0/intent_classifier.mar; a version's archive never changes, so register s3://other-models/intent_classifier/1.0.0/intent_classifier.mar as a new version"],
];

describe('model package refuses bad input before writing anything', () => {
  it.each(REFUSED)('%s', (_what, args, message) => {
    const cwd = workdir();
    const run = pack(cwd, args);
    // The message starts the output, so it is the first thing the user reads.
    expect(run.stderr.slice(0, message.length)).toBe(message);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('Nothing was written.');
    expect(run.status).toBe(1);
    expect(fs.readdirSync(cwd)).toEqual(['registry.yaml', 'serving.yaml']);
    expect(fs.readFileSync(path.join(cwd, 'registry.yaml')).equals(SHIPPED_REGISTRY)).toBe(true);
  });

  it('needs --role-arn: the Job writes the archive, which the serving role must not be able to do', () => {
    const cwd = workdir();
    const run = pack(cwd, BASE.slice(0, -2));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("error: required option '--role-arn <arn>' not specified");
    expect(fs.readdirSync(cwd)).toEqual(['registry.yaml', 'serving.yaml']);
  });

  it('a corrupt registry with --register', () => {
    const cwd = workdir();
    const corrupt = SHIPPED_REGISTRY.toString('utf-8').replace('      production: 1.0.0', '      production: 1.1.0');
    fs.writeFileSync(path.join(cwd, 'registry.yaml'), corrupt);
    const run = pack(cwd, [...BASE, '--register']);
    expect(run.stderr).toContain('error: registry.yaml is not a valid model registry (1 problem):\n  registry.yaml:8:19: models.intent_classifier.stages.production: is 1.1.0, but history last promoted 1.0.0');
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('Nothing was written.');
    expect(run.status).toBe(1);
    expect(fs.readdirSync(cwd)).toEqual(['registry.yaml', 'serving.yaml']);
    expect(fs.readFileSync(path.join(cwd, 'registry.yaml'), 'utf-8')).toBe(corrupt);
  });

  it('a refused input leaves an existing packaging folder as it was', () => {
    const cwd = workdir();
    expect(pack(cwd, BASE).status).toBe(0);
    const before = readTree(path.join(cwd, 'packaging'));
    expect(pack(cwd, [...BASE, '--extra-files', '.env']).status).toBe(1);
    expect(readTree(path.join(cwd, 'packaging'))).toEqual(before);
  });
});
