import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { FleetConfigError, MAX_FLEET_FILE_BYTES, loadFleet, parseFleet } from '../lib/fleet';
import { DEFAULT_FLEET, tempDir } from './helpers/app';

const DEFAULT_TEXT = fs.readFileSync(DEFAULT_FLEET, 'utf-8');

/** The default fleet with one field changed (`value === undefined` deletes it). */
function fleetWith(fieldPath: (string | number)[], value: unknown): string {
  const doc = parseDocument(DEFAULT_TEXT);
  if (value === undefined) doc.deleteIn(fieldPath);
  else doc.setIn(fieldPath, value);
  return doc.toString();
}

function errorOf(text: string): FleetConfigError {
  try {
    parseFleet(text, 'fleet.yaml');
  } catch (error) {
    if (error instanceof FleetConfigError) return error;
    throw error;
  }
  throw new Error('expected the fleet to be rejected');
}

describe('fleet file errors', () => {
  it('accepts the default fleet and applies documented defaults', () => {
    const fleet = loadFleet(DEFAULT_FLEET);
    expect(fleet.models[0]).toMatchObject({ name: 'intent_classifier', batchSize: 8, workers: { min: 4, max: 4 }, responseTimeoutSeconds: 60, gpuMemoryFraction: 0.8 });
    expect(Object.keys(fleet.environments)).toEqual(['staging', 'production']);
  });

  const cases: [string, (string | number)[], unknown, string][] = [
    ['a typo in a key', ['environments', 'production', 'replica'], 3,
      'environments.production.replica: unknown key; did you mean "replicas"? allowed keys here: stage, namespace, replicas, resources, placement, serviceAccount, grpc'],
    ['a typo in a nested key', ['models', 0, 'workers', 'mni'], 2,
      'models[0].workers.mni: unknown key; did you mean "min"? allowed keys here: min, max'],
    ['negative replicas', ['environments', 'production', 'replicas'], -1,
      'environments.production.replicas: got -1; must be >= 1'],
    ['replicas of the wrong type', ['environments', 'staging', 'replicas'], 'two',
      'environments.staging.replicas: got "two"; expected a number'],
    ['an unpinned image', ['image', 'tag'], 'latest',
      'image.tag: got "latest"; must be a pinned tag; "latest" changes under you and cannot be rolled back'],
    ['a version that is not semver', ['models', 0, 'version'], 'v1',
      'models[0].version: got "v1"; must be a semantic version such as "1.0.0", "1.1.0-rc.1" or "1.1.0+build.7"'],
    ['a version YAML reads as a number', ['models', 0, 'version'], 1.5,
      'models[0].version: got 1.5 (a number); expected a string, so quote it: "1.5"'],
    ['a model name that is not DNS-safe', ['models', 0, 'name'], 'Intent Classifier',
      'models[0].name: got "Intent Classifier"; must start with a lowercase letter and contain only lowercase letters, digits, "_" and "-"'],
    ['a bad archive location', ['models', 0, 'mar'], 'https://example.com/model.mar',
      'models[0].mar: got "https://example.com/model.mar"; must be s3://<bucket>/<key>.mar or pvc://<claim>/<path>.mar'],
    ['a namespace that is not DNS-1123', ['environments', 'staging', 'namespace'], 'Staging_NS',
      'environments.staging.namespace: got "Staging_NS"; must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit'],
    ['an unknown stage', ['environments', 'staging', 'stage'], 'qa',
      'environments.staging.stage: got "qa"; expected one of: "staging", "production"'],
    ['a bad quantity', ['environments', 'staging', 'resources', 'memory'], '16 GB',
      'environments.staging.resources.memory: got "16 GB"; must be a Kubernetes quantity such as "500m", "4", "16Gi"'],
    ['a GPU memory fraction above 1', ['models', 0, 'gpuMemoryFraction'], 1.5,
      'models[0].gpuMemoryFraction: got 1.5; must be <= 1'],
    ['spot nodes in production', ['environments', 'production', 'placement', 'spot'], true,
      'environments.production.placement.spot: got true; spot nodes are not allowed for a production environment; remove "spot" or set it to false'],
    ['a missing required field', ['environments', 'staging', 'resources', 'cpu'], undefined,
      'environments.staging.resources.cpu: is required'],
    ['a JVM heap as large as the memory limit', ['environments', 'staging', 'resources', 'jvmHeap'], '16Gi',
      'environments.staging.resources.jvmHeap: got "16Gi"; must be below resources.memory, which also has to hold the Python workers'],
    ['a peak window that ends when it starts', ['environments', 'production', 'autoscaling', 'peakHours', 'end'], '0 7 * * 1-5',
      'environments.production.autoscaling.peakHours.end: got "0 7 * * 1-5"; must differ from start: KEDA refuses a window that ends when it starts'],
    ['a bad IAM role', ['environments', 'staging', 'serviceAccount', 'roleArn'], 'model-reader',
      'environments.staging.serviceAccount.roleArn: got "model-reader"; must be an IAM role ARN such as "arn:aws:iam::123456789012:role/model-reader"'],
  ];

  it.each(cases)('rejects %s', (_label, fieldPath, value, expected) => {
    const error = errorOf(fleetWith(fieldPath, value));
    expect(error.message).toMatch(/^fleet\.yaml is not a valid fleet file \(\d+ problems?\):\n/);
    expect(error.message).toContain(expected);
    // Every problem is located in the file.
    for (const problem of error.problems) expect(problem.line).toBeGreaterThan(0);
  });

  it('rejects duplicate model names, counting "_" and "-" as the same', () => {
    const doc = parseDocument(DEFAULT_TEXT);
    const copy = doc.getIn(['models', 0]) as { clone(): unknown };
    doc.addIn(['models'], copy.clone());
    doc.setIn(['models', 1, 'name'], 'intent-classifier');
    expect(errorOf(doc.toString()).message).toContain('models[1].name: got "intent-classifier"; duplicates models[0] ("intent_classifier")');
  });

  it('rejects two environments sharing a namespace', () => {
    const text = fleetWith(['environments', 'production', 'namespace'], 'betterprompts-staging');
    expect(errorOf(text).message).toContain('environments.production.namespace: got "betterprompts-staging"; is already used by environment "staging"');
  });

  it('points at the line and column of the bad value', () => {
    const text = fleetWith(['environments', 'production', 'replicas'], -1);
    const line = text.split('\n').findIndex((l) => /^\s+replicas: -1$/.test(l)) + 1;
    const problem = errorOf(text).problems[0];
    expect(problem).toMatchObject({ path: 'environments.production.replicas', line, column: 15 });
  });

  it.each([
    ['an empty file', '', 'fleet.yaml: is empty; a fleet file needs at least name, image, models and environments (see serving.yaml)'],
    ['a file that is not YAML', 'models: [\n', 'fleet.yaml:2:1: not valid YAML:'],
    ['a YAML scalar', 'hello', 'fleet.yaml:1:1: must be a YAML mapping with name, image, models and environments; got "hello"'],
    ['two YAML documents', 'a: 1\n---\nb: 2\n', 'fleet.yaml:3:1: holds 2 YAML documents; a fleet file is exactly one document'],
    ['a duplicate key', 'name: a\nname: b\n', 'fleet.yaml:2:1: name: duplicate key "name": line 1 sets it already'],
  ])('rejects %s', (_label, text, expected) => {
    expect(errorOf(text).message).toContain(expected);
  });

  it('rejects a missing file and a file over 1 MiB', () => {
    const dir = tempDir();
    const missing = path.join(dir, 'nope.yaml');
    expect(() => loadFleet(missing)).toThrow(`${missing}: file not found; pass --config <file> or set SERVING_CONFIG to an existing fleet file`);
    const large = path.join(dir, 'large.yaml');
    fs.writeFileSync(large, `# ${'x'.repeat(MAX_FLEET_FILE_BYTES)}\n${DEFAULT_TEXT}`);
    expect(() => loadFleet(large)).toThrow(/large\.yaml: is \d+ bytes; a fleet file may be at most 1048576 bytes \(1 MiB\)/);
  });
});
