import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { EnvironmentChart, type EnvironmentChartProps } from '../lib/environment';
import { type FleetConfig, parseFleet } from '../lib/fleet';
import { type KubeObject, checkPolicies } from '../lib/policy';
import { expectValid, objectOf, synthObjects } from './helpers/constructs';
import type { Manifest } from './helpers/manifests';

/**
 * The chart built directly from a small fleet written here, not the shipped example: what the
 * chart itself decides (which constructs, how they are wired, the quota it sizes) rather than
 * what each construct renders, which the construct tests check.
 */

const FLEET = `
name: chart-fixture
image: { repository: pytorch/torchserve, tag: 0.12.0-gpu }
models:
  - name: intent_classifier
    version: 1.0.0
    mar: s3://chart-models/intent_classifier/1.0.0/intent_classifier.mar
    handler: handlers/intent_classifier_handler.py
  - name: toxicity
    version: 2.1.0
    mar: s3://chart-models/toxicity/2.1.0/toxicity.mar
    handler: handlers/toxicity_handler.py
environments:
  staging:
    stage: staging
    namespace: chart-staging
    replicas: 1
    resources: { cpu: "2", memory: 8Gi, gpu: 0 }
    network: { gatewayNamespaces: [ingress] }
  production:
    stage: production
    namespace: chart-production
    replicas: 2
    resources: { cpu: "4", memory: 16Gi, gpu: 1 }
    gateway: { kind: traefik, host: api.example.com, tls: { issuer: letsencrypt-prod } }
    autoscaling: { backend: keda, maxReplicas: 3 }
    monitoring: { runbookBaseUrl: "https://git.example.com/ml/serving" }
    redis: {}
    backup: { destination: "s3://chart-backups/model-store/", roleArn: "arn:aws:iam::123456789012:role/model-backup" }
`;

/** The fleet with `edit` applied to its YAML. */
function fleet(edit: (doc: ReturnType<typeof parseDocument>) => void = () => undefined): FleetConfig {
  const doc = parseDocument(FLEET);
  edit(doc);
  return parseFleet(doc.toString(), 'fleet.yaml');
}

function build(environment: string, config = fleet(), props: Partial<EnvironmentChartProps> = {}) {
  const chart = new EnvironmentChart(Testing.app(), environment, { fleet: config, environment, ...props });
  return { chart, objects: () => synthObjects(chart) };
}

const production = (edit?: (doc: ReturnType<typeof parseDocument>) => void) => build('production', fleet(edit));

describe('EnvironmentChart', () => {
  it('puts everything in the environment\'s namespace, which enforces Pod Security "restricted", labelled as the fleet\'s', () => {
    const objects = build('staging').objects();
    const namespace = objectOf(objects, 'Namespace', 'chart-staging');
    expect(namespace.metadata.namespace).toBeUndefined();
    expect(namespace.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
    for (const o of objects) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({ 'app.kubernetes.io/part-of': 'chart-fixture', 'app.kubernetes.io/managed-by': 'model-serving' });
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('chart-staging');
    }
  });

  it('builds a service, a release and a network policy per model, and only the gateway, autoscaling and monitoring the environment asks for', () => {
    const staging = build('staging').chart;
    expect([...staging.services.keys()]).toEqual(['intent_classifier', 'toxicity']);
    expect([...staging.releases.keys()]).toEqual(['intent_classifier', 'toxicity']);
    expect([...staging.networkPolicies.keys()]).toEqual(['intent_classifier', 'toxicity']);
    expect([staging.routes.size, staging.autoscalers.size, staging.monitoring.size]).toEqual([0, 0, 0]);
    expect([staging.usesRollouts, staging.usesGatewayApiPlugin]).toEqual([false, false]);

    const prod = production().chart;
    expect([...prod.routes.keys()]).toEqual(['intent_classifier', 'toxicity']);
    expect([...prod.autoscalers.keys()]).toEqual(['intent_classifier', 'toxicity']);
    expect([...prod.monitoring.keys()]).toEqual(['intent_classifier', 'toxicity']);
    expect(prod.services.get('toxicity')!.name).toBe('toxicity');
  });

  it('routes /ping to the first model of the fleet file only', () => {
    const routes = production().objects().filter((o) => o.kind === 'IngressRoute' && o.metadata.name.endsWith('-health'));
    expect(routes.map((o) => o.metadata.name)).toEqual(['intent-classifier-health']);
  });

  it('sizes the quota for every model at its largest, doubled for a rollout, plus room for one-off pods', () => {
    // Two models, at most 3 replicas (autoscaling), doubled: 12 pods of 4 CPU, 16Gi, 20Gi and 1 GPU.
    expect(objectOf(production().objects(), 'ResourceQuota', 'model-serving').spec.hard).toMatchObject({
      'pods': 12 + 4,
      'requests.cpu': String(12 * 4 + 4),
      'requests.memory': `${(12 * 16 + 8) * 1024}Mi`,
      'requests.ephemeral-storage': `${(12 * 20 + 8) * 1024}Mi`,
      'requests.nvidia.com/gpu': 12,
    });
  });

  it('admits the gateway\'s usual namespace unless the fleet names others', () => {
    const ingressNamespaces = (objects: Manifest[]) => objectOf(objects, 'NetworkPolicy', 'toxicity').spec.ingress[0].from.map((p: Manifest) => p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);
    expect(ingressNamespaces(production().objects())).toEqual(['traefik']);
    expect(ingressNamespaces(production((d) => d.setIn(['environments', 'production', 'gateway', 'kind'], 'nginx')).objects())).toEqual(['ingress-nginx']);
    expect(ingressNamespaces(build('staging').objects())).toEqual(['ingress']);
  });

  it('connects every model to the cache: each model\'s egress, and the cache\'s admission of it', () => {
    const objects = production().objects();
    const redis = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'prediction-cache' };
    for (const model of ['intent-classifier', 'toxicity']) {
      expect(objectOf(objects, 'NetworkPolicy', model).spec.egress.some((rule: Manifest) => rule.to?.[0]?.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'redis')).toBe(true);
    }
    const cache = objectOf(objects, 'NetworkPolicy', 'prediction-cache');
    expect(cache.spec.podSelector).toEqual({ matchLabels: redis });
    expect(cache.spec.ingress[0].from.map((p: Manifest) => p.podSelector.matchLabels['app.kubernetes.io/instance'])).toEqual(['intent-classifier', 'toxicity']);
  });

  it('serves a Kong Ingress canary through Kong\'s Gateway API support, and lets Argo Rollouts\' plugin edit its HTTPRoutes', () => {
    const { chart, objects } = production((d) => {
      d.setIn(['environments', 'production', 'gateway', 'kind'], 'kong');
      d.setIn(['environments', 'production', 'strategy'], d.createNode({ type: 'canary' }));
    });
    expect([chart.usesRollouts, chart.usesGatewayApiPlugin]).toEqual([true, true]);
    const all = objects();
    expect(all.filter((o) => o.kind === 'Ingress')).toEqual([]);
    expect(objectOf(all, 'Gateway', 'chart-fixture').spec.gatewayClassName).toBe('kong');
    expect(objectOf(all, 'RoleBinding', 'argo-rollouts-gatewayapi').subjects).toEqual([{ kind: 'ServiceAccount', name: 'argo-rollouts', namespace: 'argo-rollouts' }]);
    // Each release is judged by its own model's route.
    expect(all.filter((o) => o.kind === 'Rollout').map((o) => o.spec.strategy.canary.canaryService)).toEqual(['intent-classifier-canary', 'toxicity-canary']);
  });

  it('releases each model by its own strategy', () => {
    const { chart, objects } = production((d) => d.setIn(['environments', 'production', 'strategy'], d.createNode({ type: 'rolling', models: { toxicity: 'blue-green' } })));
    expect(chart.releases.get('intent_classifier')!.strategy.type).toBe('rolling');
    expect(chart.releases.get('toxicity')!.strategy.type).toBe('blue-green');
    const all = objects();
    expect(all.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['intent-classifier']);
    expect(all.filter((o) => o.kind === 'Rollout').map((o) => o.metadata.name)).toEqual(['toxicity']);
    // Traefik releases through its own CRDs: no Gateway API plugin to install.
    expect(chart.usesGatewayApiPlugin).toBe(false);
    expect(all.some((o) => o.kind === 'Role')).toBe(false);
  });

  it('runs only the models a release is given for, at that version', () => {
    const { chart, objects } = build('staging', fleet(), { releases: { toxicity: { version: '2.2.0', mar: 's3://chart-models/toxicity/2.2.0/toxicity.mar' } } });
    expect([...chart.services.keys()]).toEqual(['toxicity']);
    const all = objects();
    expect(objectOf(all, 'Deployment', 'toxicity').metadata.labels?.['app.kubernetes.io/version']).toBe('2.2.0');
    expect(objectOf(all, 'ResourceQuota', 'model-serving').spec.hard.pods).toBe(1 * 1 * 2 + 4);
  });

  it('refuses an environment the fleet does not define, and a model with no version to run', () => {
    expect(() => build('prod')).toThrow('/prod: unknown environment "prod"; the fleet defines: staging, production');
    const unversioned = fleet((d) => {
      d.deleteIn(['models', 1, 'version']);
      d.deleteIn(['models', 1, 'mar']);
    });
    expect(() => build('staging', unversioned)).toThrow('staging: model "toxicity" has no version and mar in the fleet file, and releases names none; resolve them with resolveReleases');
  });

  it('gives the same objects for the same fleet', () => {
    expect(JSON.stringify(production().objects())).toBe(JSON.stringify(production().objects()));
  });

  it('passes strict schema validation and the policy suite with everything on', () => {
    const objects = production((d) => d.setIn(['environments', 'production', 'strategy'], d.createNode({ type: 'canary' }))).objects();
    expectValid(objects);
    expect(checkPolicies(objects as KubeObject[], { productionNamespaces: ['chart-production'] })).toEqual([]);
  });
});
