import { Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { ModelAutoscaler } from '../lib/autoscaling';
import { RedisCache } from '../lib/cache';
import { EnvironmentChart } from '../lib/environment';
import { parseFleet } from '../lib/fleet';
import { GatewayFrontend, Gateways } from '../lib/gateway';
import { ModelNetworkPolicy, NamespaceGuardrails } from '../lib/isolation';
import { MonitoringBundle } from '../lib/monitoring';
import { ModelStoreBackup } from '../lib/operations';
import { ModelRelease, ReleaseStrategy } from '../lib/release';
import { ModelArchive, TorchServeService, WorkloadKind } from '../lib/torchserve';
import { objectOf, synthObjects } from './helpers/constructs';
import type { Manifest } from './helpers/manifests';

/**
 * Each default has one home, the construct's prop. The fleet schema passes what a fleet file
 * leaves out through as undefined, and the environment hands it on, so a minimal fleet renders
 * exactly what the constructs render with nothing but their required props.
 */

const MINIMAL = `
name: minimal
image: { repository: pytorch/torchserve, tag: 0.12.0-gpu }
models:
  - name: intent_classifier
    version: 1.0.0
    mar: s3://minimal-models/intent_classifier/1.0.0/intent_classifier.mar
    handler: text_classifier
environments:
  staging:
    stage: staging
    namespace: minimal-staging
    replicas: 1
    resources: { cpu: "4", memory: 16Gi }
    gateway: { kind: traefik, host: api.example.com, tls: { issuer: letsencrypt } }
    strategy: { type: canary }
    autoscaling: { maxReplicas: 3 }
    monitoring: { runbookBaseUrl: "https://git.example.com/ml/serving" }
    redis: {}
    backup: { destination: "s3://minimal-backups/model-store/", roleArn: "arn:aws:iam::123456789012:role/model-backup" }
`;

/** The objects of a chart, in one order, without the Namespace (no construct, no defaults). */
function manifests(chart: Chart): Manifest[] {
  return synthObjects(chart)
    .filter((o) => o.kind !== 'Namespace')
    .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}

/** The staging environment written in code: the constructs, wired as the environment wires them, with only their required props. */
function byHand(): Chart {
  const namespace = 'minimal-staging';
  const partOf = 'minimal';
  const chart = new Chart(Testing.app(), 'staging', {
    disableResourceNameHashes: true,
    labels: { 'app.kubernetes.io/part-of': partOf, 'app.kubernetes.io/managed-by': 'model-serving' },
  });
  const cache = new RedisCache(chart, 'PredictionCache', { namespace, partOf });
  const service = new TorchServeService(chart, 'intent-classifier', {
    namespace,
    partOf,
    modelName: 'intent_classifier',
    modelVersion: '1.0.0',
    modelArchive: ModelArchive.fromUri('s3://minimal-models/intent_classifier/1.0.0/intent_classifier.mar'),
    handler: 'text_classifier',
    image: 'pytorch/torchserve:0.12.0-gpu',
    replicas: 1,
    cpu: '4',
    memory: '16Gi',
    // What the fleet's choices say: a canary runs as a Rollout, the autoscaler may run 3 pods.
    workload: WorkloadKind.ROLLOUT,
    maxReplicas: 3,
    env: cache.connectionEnv(),
  });
  const release = new ModelRelease(chart, 'intent-classifier-release', { service, strategy: ReleaseStrategy.canary() });
  const frontend = new GatewayFrontend(chart, 'Gateway', {
    gateway: Gateways.traefik,
    name: partOf,
    namespace,
    hosts: ['api.example.com'],
    tlsIssuerName: 'letsencrypt',
    labels: { 'app.kubernetes.io/component': 'gateway' },
  });
  const route = frontend.addRoute('intent-classifier-route', { service, host: 'api.example.com', canary: release.canaryBackend });
  new ModelAutoscaler(chart, 'intent-classifier-autoscaler', { service, maxReplicas: 3 });
  const monitoring = new MonitoringBundle(chart, 'intent-classifier-monitoring', { service, route, environment: 'staging', runbookBaseUrl: 'https://git.example.com/ml/serving' });
  release.judgeBy(route, { replicaSetScrape: monitoring });
  const policy = new ModelNetworkPolicy(chart, 'intent-classifier-network-policy', { service, gatewayNamespaces: [Gateways.traefik.defaultNamespace] });
  policy.connectTo(cache);
  new ModelStoreBackup(chart, 'ModelStoreBackup', {
    namespace,
    partOf,
    source: 's3://minimal-models/',
    destination: 's3://minimal-backups/model-store/',
    iamRoleArn: 'arn:aws:iam::123456789012:role/model-backup',
  });
  // One model at 3 pods, doubled for a rollout, plus room for 4 one-off pods; by the
  // TorchServeService defaults, each pod has 1 GPU and 20Gi of ephemeral storage.
  const pods = 1 * 3 * 2;
  new NamespaceGuardrails(chart, 'Guardrails', {
    namespace,
    labels: { 'app.kubernetes.io/component': 'guardrails' },
    budget: { pods: pods + 4, cpu: pods * 4 + 4, memoryBytes: (pods * 16 + 8) * 2 ** 30, ephemeralStorageBytes: (pods * 20 + 8) * 2 ** 30, gpus: pods },
  });
  return chart;
}

describe('defaults', () => {
  it('a minimal fleet renders what the constructs render with only their required props', () => {
    const fromFleet = manifests(new EnvironmentChart(Testing.app(), 'staging', { fleet: parseFleet(MINIMAL, 'fleet.yaml'), environment: 'staging' }));
    const inCode = manifests(byHand());
    expect(fromFleet.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(inCode.map((o) => `${o.kind}/${o.metadata.name}`));
    expect(fromFleet).toEqual(inCode);
    // The construct defaults, seen in the output: 4 workers (max = min), batches of 8, 0.8 of the GPU, 1 GPU, 20Gi, the AWS CLI image.
    const config = objectOf(fromFleet, 'ConfigMap', 'intent-classifier-config').data['config.properties'];
    expect(config).toContain('"minWorkers":4,"maxWorkers":4,"batchSize":8,"maxBatchDelay":100');
    const pod = objectOf(fromFleet, 'Rollout', 'intent-classifier').spec.template.spec;
    expect(pod.containers[0].env).toContainEqual({ name: 'GPU_MEMORY_FRACTION', value: '0.8' });
    expect(pod.containers[0].resources.limits).toMatchObject({ 'nvidia.com/gpu': 1, 'ephemeral-storage': '20Gi' });
    expect(pod.initContainers[0].image).toBe('amazon/aws-cli:2.22.35');
  });

  it('the schema passes what a fleet file leaves out through as undefined, and fills in only what picks what is built', () => {
    const fleet = parseFleet(`${MINIMAL}argocd: { repoURL: "https://git.example.com/ml/serving.git" }\nargoRollouts: {}\n`, 'fleet.yaml');
    expect(fleet.modelFetcher).toBeUndefined();
    expect(fleet.models[0]).toEqual({
      name: 'intent_classifier',
      version: '1.0.0',
      mar: 's3://minimal-models/intent_classifier/1.0.0/intent_classifier.mar',
      handler: 'text_classifier',
    });
    for (const key of ['batchSize', 'maxBatchDelayMs', 'workers', 'responseTimeoutSeconds', 'startupTimeoutSeconds', 'gpuMemoryFraction']) {
      expect(key in fleet.models[0], key).toBe(false);
    }
    const env = fleet.environments.staging;
    expect(env).toEqual({
      stage: 'staging',
      namespace: 'minimal-staging',
      replicas: 1,
      resources: { cpu: '4', memory: '16Gi' },
      gateway: { kind: 'traefik', host: 'api.example.com', tls: { issuer: 'letsencrypt' } },
      // The release type picks which constructs are built (a Deployment or a Rollout); it stays.
      strategy: { type: 'canary' },
      autoscaling: { maxReplicas: 3 },
      monitoring: { runbookBaseUrl: 'https://git.example.com/ml/serving' },
      redis: {},
      backup: { destination: 's3://minimal-backups/model-store/', roleArn: 'arn:aws:iam::123456789012:role/model-backup' },
    });
    for (const key of ['placement', 'serviceAccount', 'grpc', 'network']) expect(key in env, key).toBe(false);
    // Where the output is committed and which Applications sync by themselves, and whether to write
    // the Argo Rollouts ConfigMap: the app's choices, no construct's defaults.
    expect(fleet.argocd).toEqual({ repoURL: 'https://git.example.com/ml/serving.git', path: 'dist', automatedSync: [] });
    expect(fleet.argoRollouts).toEqual({ pluginConfigMap: false });
    expect(parseFleet(MINIMAL.replace('    strategy: { type: canary }\n', ''), 'fleet.yaml').environments.staging.strategy).toEqual({ type: 'rolling' });
  });

  it('runs workers: { min: 8 } with 8 workers at most too, as TorchServeService does', () => {
    const fleet = parseFleet(MINIMAL.replace('    handler: text_classifier\n', '    handler: text_classifier\n    workers: { min: 8 }\n'), 'fleet.yaml');
    expect(fleet.models[0].workers).toEqual({ min: 8 });
    const objects = manifests(new EnvironmentChart(Testing.app(), 'staging', { fleet, environment: 'staging' }));
    const config = objectOf(objects, 'ConfigMap', 'intent-classifier-config').data['config.properties'];
    expect(config).toContain('"minWorkers":8,"maxWorkers":8');
    expect(config).toContain('default_workers_per_model=8');
  });

  it('refuses workers whose minimum, given or by default, exceeds the maximum, at the line of the minimum', () => {
    const problem = (workers: string) => {
      try {
        parseFleet(MINIMAL.replace('    handler: text_classifier\n', `    handler: text_classifier\n    workers: ${workers}\n`), 'fleet.yaml');
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(problem('{ min: 8, max: 4 }')).toContain('fleet.yaml:9:21: models[0].workers.min: got 8; must not exceed the maximum number of workers (4)');
    expect(problem('{ max: 2 }')).toContain('models[0].workers.min: must not exceed the maximum number of workers (2); the minimum defaults to 4');
  });
});
