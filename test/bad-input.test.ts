import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { REGISTRY_FLEET, REPO_ROOT, readTree, runApp, tempDir } from './helpers/app';
import { type CliRun, spawnAsync, twoAtATime } from './helpers/cli';
import { editFleet } from './helpers/fleets';

const REGISTRY = fs.readFileSync(path.join(path.dirname(REGISTRY_FLEET), 'registry.yaml'), 'utf-8');
/** The registry-managed fixture fleet, for the cases that come with a registry. */
const MANAGED_TEXT = fs.readFileSync(REGISTRY_FLEET, 'utf-8');
const editManaged = (edit: (doc: ReturnType<typeof parseDocument>) => void): string => {
  const doc = parseDocument(MANAGED_TEXT);
  edit(doc);
  return doc.toString();
};

/** [case, fleet file text, the field the error must name, registry file text (default: none)]. */
const CASES: [string, string, string, string?][] = [
  ['a typo in a top-level key', editFleet((d) => { d.set('imagee', d.get('image')); d.delete('image'); }), 'imagee: unknown key; did you mean "image", which is required?'],
  ['a typo in an environment key', editFleet((d) => { d.setIn(['environments', 'production', 'replica'], 3); d.deleteIn(['environments', 'production', 'replicas']); }), 'environments.production.replica: unknown key; did you mean "replicas", which is required?'],
  ['a typo in a model key', editFleet((d) => d.setIn(['models', 0, 'batchsize'], 4)), 'models[0].batchsize: unknown key; did you mean "batchSize"?'],
  ['replicas as a word', editFleet((d) => d.setIn(['environments', 'production', 'replicas'], 'three')), 'environments.production.replicas: got "three"'],
  ['a GPU count as a word', editFleet((d) => d.setIn(['environments', 'staging', 'resources', 'gpu'], 'one')), 'environments.staging.resources.gpu: got "one"'],
  ['negative replicas', editFleet((d) => d.setIn(['environments', 'production', 'replicas'], -1)), 'environments.production.replicas: got -1; must be >= 1'],
  ['zero replicas', editFleet((d) => d.setIn(['environments', 'staging', 'replicas'], 0)), 'environments.staging.replicas: got 0; must be >= 1'],
  ['a fractional replica count', editFleet((d) => d.setIn(['environments', 'staging', 'replicas'], 1.5)), 'environments.staging.replicas: got 1.5'],
  ['duplicate model names', editFleet((d) => { d.addIn(['models'], (d.getIn(['models', 0]) as { clone(): unknown }).clone()); }), 'models[1].name: got "intent_classifier"; duplicates models[0]'],
  ['a model name that is not DNS-1123', editFleet((d) => d.setIn(['models', 0, 'name'], 'Intent_Classifier')), 'models[0].name: got "Intent_Classifier"'],
  ['a namespace that is not DNS-1123', editFleet((d) => d.setIn(['environments', 'production', 'namespace'], 'Prod_NS')), 'environments.production.namespace: got "Prod_NS"; must be a DNS-1123 label'],
  ['an environment name that is not DNS-1123', editFleet((d) => { d.setIn(['environments', 'Prod'], d.getIn(['environments', 'production'])); d.deleteIn(['environments', 'production']); }), 'environments.Prod: got "Prod"; must be a DNS-1123 label'],
  ['an unknown gateway', editFleet((d) => d.setIn(['environments', 'production', 'gateway', 'kind'], 'istio')), 'environments.production.gateway.kind: got "istio"; expected one of: "gateway-api", "kong", "traefik", "nginx"'],
  ['a missing TLS issuer in production', editFleet((d) => d.deleteIn(['environments', 'production', 'gateway', 'tls'])), 'environments.production.gateway.tls: is required'],
  ['an empty TLS issuer', editFleet((d) => d.setIn(['environments', 'production', 'gateway', 'tls', 'issuer'], '')), 'environments.production.gateway.tls.issuer: got ""'],
  ['a CIDR with a bad prefix length', editFleet((d) => d.setIn(['environments', 'production', 'gateway', 'management', 'allowFrom', 0], '10.20.0.0/33')), 'environments.production.gateway.management.allowFrom[0]: got "10.20.0.0/33"; the prefix length must be at most 32'],
  ['a CIDR that is not an address', editFleet((d) => d.setIn(['environments', 'staging', 'network', 'managementCidrs'], d.createNode(['office']))), 'environments.staging.network.managementCidrs[0]: got "office"; must be a CIDR block'],
  ['a CIDR with host bits set', editFleet((d) => d.setIn(['environments', 'production', 'gateway', 'management', 'allowFrom', 0], '10.20.1.5/16')), 'did you mean "10.20.0.0/16"'],
  ['a version that is not semver', editFleet((d) => d.setIn(['models', 0, 'version'], '1.0')), 'models[0].version: got "1.0"; must be a semantic version'],
  ['a version YAML reads as a number', editFleet((d) => d.setIn(['models', 0, 'version'], 2)), 'models[0].version: got 2 (a number); expected a string, so quote it: "2"'],
  ['an unpinned image', editFleet((d) => d.setIn(['image', 'tag'], 'latest')), 'image.tag: got "latest"; must be a pinned tag'],
  ['an archive that is not s3:// or pvc://', editFleet((d) => d.setIn(['models', 0, 'mar'], 'gs://bucket/m.mar')), 'models[0].mar: got "gs://bucket/m.mar"; must be s3://<bucket>/<key>.mar or pvc://<claim>/<path>.mar'],
  ['a GPU memory fraction of zero', editFleet((d) => d.setIn(['models', 0, 'gpuMemoryFraction'], 0)), 'models[0].gpuMemoryFraction: got 0; must be > 0'],
  ['more min workers than max', editFleet((d) => d.setIn(['models', 0, 'workers'], d.createNode({ min: 6, max: 2 }))), 'models[0].workers.min: got 6; must not exceed the maximum number of workers (2)'],
  ['a CPU that is not a quantity', editFleet((d) => d.setIn(['environments', 'staging', 'resources', 'cpu'], 'four')), 'environments.staging.resources.cpu: got "four"; must be a Kubernetes quantity'],
  ['spot nodes in production', editFleet((d) => d.setIn(['environments', 'production', 'placement', 'spot'], true)), 'environments.production.placement.spot: got true; spot nodes are not allowed for a production environment'],
  ['two environments in one namespace', editFleet((d) => d.setIn(['environments', 'staging', 'namespace'], 'betterprompts-production')), 'is already used by environment'],
  ['a JVM heap above the memory limit', editFleet((d) => d.setIn(['environments', 'staging', 'resources', 'jvmHeap'], '32Gi')), 'environments.staging.resources.jvmHeap: got "32Gi"; must be below resources.memory'],
  ['a feature the gateway cannot do', editFleet((d) => { d.setIn(['environments', 'staging', 'gateway', 'kind'], 'nginx'); d.deleteIn(['environments', 'staging', 'gateway', 'implementation']); d.setIn(['environments', 'staging', 'gateway', 'cache'], true); }), 'environments.staging.gateway.cache: got true; gateway "nginx" cannot do this'],
  ['a rate limit of zero', editFleet((d) => d.setIn(['environments', 'staging', 'gateway', 'rateLimit', 'requestsPerSecond'], 0)), 'environments.staging.gateway.rateLimit.requestsPerSecond: got 0; must be >= 1'],
  ['an empty management allow-list', editFleet((d) => d.setIn(['environments', 'staging', 'gateway', 'management', 'allowFrom'], d.createNode([]))), 'environments.staging.gateway.management.allowFrom: got a list; must list at least one CIDR'],
  ['an unknown stage', editFleet((d) => d.setIn(['environments', 'production', 'stage'], 'prod')), 'environments.production.stage: got "prod"; expected one of: "staging", "production"'],
  ['no models', editFleet((d) => d.set('models', d.createNode([]))), 'models: got a list; must list at least one model'],
  ['an empty file', '', 'is empty'],
  ['a file that is not YAML', 'models: [\n  - {name: a\n', 'not valid YAML'],
  ['a YAML list instead of a mapping', '- name: a\n', 'must be a YAML mapping'],
  ['two YAML documents', 'name: a\n---\nname: b\n', 'holds 2 YAML documents'],
  ['a duplicate key', 'name: a\nname: b\n', ':2:1: name: duplicate key "name": line 1 sets it already'],
  ['a file that is too large', `# ${'x'.repeat(1024 * 1024)}\n`, 'a fleet file may be at most 1048576 bytes (1 MiB)'],
  ['a canary weight of 150', editFleet((d) => d.setIn(['environments', 'production', 'strategy'], d.createNode({ type: 'canary', canary: { weights: [10, 150] } }))), 'environments.production.strategy.canary.weights[1]: got 150; must be an integer from 1 to 99, the percent of traffic a step sends to the canary (100 is the promotion itself)'],
  ['a pinned version that is not registered', editManaged((d) => d.setIn(['environments', 'production', 'versions', 'intent_classifier'], '2.0.0')), 'environments.production.versions.intent_classifier: pins intent_classifier 2.0.0, which', REGISTRY],
  ['a pinned version never promoted to the stage', editManaged((d) => d.setIn(['environments', 'production', 'versions', 'intent_classifier'], '1.1.0')), 'environments.production.versions.intent_classifier: pins intent_classifier 1.1.0, which', REGISTRY
    .replace('    versions:\n', '    versions:\n      1.1.0:\n        path: s3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar\n')
    .replace(/\n$/, '\n      - action: register\n        version: 1.1.0\n        path: s3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar\n        actor: release-bot\n        time: 2026-11-27T10:00:00Z\n')],
  ['a version in the fleet file and in the registry', editManaged((d) => d.setIn(['models', 0, 'version'], '1.0.0')), 'models[0].version: intent_classifier is registered in', REGISTRY],
  ['an environment that runs no model', editManaged((d) => d.deleteIn(['environments', 'staging', 'versions'])), 'environments.staging: runs no model: pin one with "model-serving deploy staging <version> <strategy>"', REGISTRY],
  ['a registry that is not YAML', MANAGED_TEXT, 'not valid YAML', 'models: [\n'],
  ['a registry with an unknown key', MANAGED_TEXT, 'models.intent_classifier.stagez', REGISTRY.replace('    stages:', '    stagez:')],
  ['a registry version that is not semver', MANAGED_TEXT, 'models.intent_classifier.versions.v1', REGISTRY.replace(/1\.0\.0/g, 'v1')],
  ['a registry stage pointing at an unregistered version', MANAGED_TEXT, 'models.intent_classifier.stages.production', REGISTRY.replace('      production: 1.0.0', '      production: 9.9.9')],
  ['an empty registry', MANAGED_TEXT, 'registry', ''],
];

/** The app command, as cdk8s.yaml runs it. */
function runAppAsync(args: string[], env: Record<string, string>): Promise<CliRun> {
  return spawnAsync(process.execPath, [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), 'main.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
}

describe('bad input loses nothing', () => {
  const dir = tempDir();
  const outdir = path.join(dir, 'dist');
  let before: Record<string, string>;
  const results = new Map<string, CliRun>();

  beforeAll(async () => {
    expect(runApp([], { CDK8S_OUTDIR: outdir }).status).toBe(0);
    before = readTree(outdir);
    // Run the cases two at a time (the machine has two cores), all against the same dist/.
    const queue = CASES.map(([name, text, , registry], i) => ({ name, file: path.join(dir, `case-${i}.yaml`), text, registry: registry === undefined ? undefined : path.join(dir, `registry-${i}.yaml`), registryText: registry }));
    for (const c of queue) {
      fs.writeFileSync(c.file, c.text);
      if (c.registry) fs.writeFileSync(c.registry, c.registryText as string);
    }
    const runs = await twoAtATime(queue.map((c) => () => runAppAsync(['--config', c.file], { CDK8S_OUTDIR: outdir, ...(c.registry ? { MODEL_REGISTRY: c.registry } : {}) })));
    queue.forEach((c, i) => results.set(c.name, runs[i]));
  }, 120_000);

  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('%s: names the field, exits non-zero, leaves dist/ untouched', (name, _text, field) => {
    const run = results.get(name)!;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(field);
    expect(run.stderr).toContain(`Nothing was written; ${outdir}/ is unchanged.`);
    expect(readTree(outdir)).toEqual(before);
  });
});

