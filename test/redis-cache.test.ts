import { Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { RedisCache, type RedisCacheProps, RedisEvictionPolicy, RedisPersistence } from '../lib/cache';
import { ModelNetworkPolicy } from '../lib/isolation';
import { type KubeObject, checkPolicies } from '../lib/policy';
import { ModelArchive, TorchServeService } from '../lib/torchserve';
import { defaultValidator, formatIssue } from '../lib/validation';

const NAMESPACE = 'betterprompts-staging';

/** A chart with one model, its network policy and the cache, wired as the environment chart would. */
function synth(props: RedisCacheProps = {}, options: { wire?: boolean } = {}) {
  const chart = new Chart(Testing.app(), 'staging');
  const cache = new RedisCache(chart, 'PredictionCache', { namespace: NAMESPACE, partOf: 'betterprompts', ...props });
  const model = new TorchServeService(chart, 'intent-classifier', {
    modelName: 'intent_classifier',
    modelVersion: '1.0.0',
    modelArchive: ModelArchive.fromUri('s3://betterprompts-models/intent_classifier/1.0.0/intent_classifier.mar'),
    handler: 'handlers/intent_classifier_handler.py',
    image: 'pytorch/torchserve:0.12.0-gpu',
    cpu: '4',
    memory: '16Gi',
    namespace: NAMESPACE,
    env: cache.connectionEnv(),
  });
  const policy = new ModelNetworkPolicy(chart, 'intent-classifier-network-policy', { service: model, gatewayNamespaces: ['kong'], monitoringNamespaces: ['monitoring'] });
  if (options.wire ?? true) {
    cache.allowFrom(model);
    policy.addEgress(cache.egressRule());
  }
  const objects = Testing.synth(chart) as any[];
  const get = (kind: string, name = 'prediction-cache') => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind}/${name}`);
    return found;
  };
  const statefulSet = objects.find((o) => o.kind === 'StatefulSet');
  const pod = statefulSet.spec.template.spec;
  const cacheObjects = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'redis');
  return { cache, model, objects, cacheObjects, get, statefulSet, pod, container: pod.containers[0] };
}

function arg(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

describe('RedisCache', () => {
  it('renders a StatefulSet with its own ServiceAccount, a Service and a NetworkPolicy named prediction-cache', () => {
    const { cacheObjects } = synth();
    expect(cacheObjects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'NetworkPolicy/betterprompts-staging/prediction-cache',
      'Service/betterprompts-staging/prediction-cache',
      'ServiceAccount/betterprompts-staging/prediction-cache',
      'StatefulSet/betterprompts-staging/prediction-cache',
    ]);
    for (const o of cacheObjects) {
      expect(o.metadata.labels).toEqual({
        'app.kubernetes.io/name': 'redis',
        'app.kubernetes.io/instance': 'prediction-cache',
        'app.kubernetes.io/component': 'cache',
        'app.kubernetes.io/version': '7.4.11-alpine',
        'app.kubernetes.io/part-of': 'betterprompts',
        'app.kubernetes.io/managed-by': 'model-serving',
      });
    }
  });

  it('without persistence: nothing on disk, an emptyDir at /data, maxmemory three quarters of the limit', () => {
    const { statefulSet, pod, container } = synth();
    expect(statefulSet.spec).toMatchObject({ replicas: 1, serviceName: 'prediction-cache', selector: { matchLabels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'prediction-cache' } } });
    expect(statefulSet.spec.volumeClaimTemplates).toBeUndefined();
    expect(container.image).toBe('redis:7.4.11-alpine');
    expect(container.command).toEqual(['redis-server']);
    expect(arg(container.args, '--save')).toBe('');
    expect(arg(container.args, '--appendonly')).toBe('no');
    expect(arg(container.args, '--maxmemory')).toBe('768mb');
    expect(arg(container.args, '--maxmemory-policy')).toBe('allkeys-lru');
    expect(arg(container.args, '--dir')).toBe('/data');
    expect(container.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(pod.volumes).toEqual([{ name: 'data', emptyDir: { sizeLimit: '256Mi' } }]);
  });

  it('with the append-only file: a PersistentVolumeClaim template whose labels never change, maxmemory half the limit', () => {
    const { statefulSet, pod, container } = synth({ persistence: RedisPersistence.appendOnly({ size: '5Gi', storageClassName: 'gp3' }), memory: '2Gi' });
    expect(pod.volumes).toBeUndefined();
    expect(statefulSet.spec.volumeClaimTemplates).toEqual([{
      metadata: {
        name: 'data',
        // No version label: volumeClaimTemplates are immutable, so an image bump must not touch them.
        labels: {
          'app.kubernetes.io/name': 'redis',
          'app.kubernetes.io/instance': 'prediction-cache',
          'app.kubernetes.io/component': 'cache',
          'app.kubernetes.io/part-of': 'betterprompts',
          'app.kubernetes.io/managed-by': 'model-serving',
        },
      },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', resources: { requests: { storage: '5Gi' } } },
    }]);
    expect(arg(container.args, '--appendonly')).toBe('yes');
    expect(arg(container.args, '--appendfsync')).toBe('everysec');
    expect(arg(container.args, '--save')).toBe('');
    expect(arg(container.args, '--maxmemory')).toBe('1024mb');
    expect(container.resources.limits).toMatchObject({ memory: '2Gi', cpu: '500m' });
  });

  it('runs as the image\'s redis user (uid 999, gid 1000), non-root, on a read-only root filesystem', () => {
    const { pod, container } = synth();
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 1000,
      fsGroup: 1000,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.resources.requests).toEqual({ 'cpu': '500m', 'memory': '1Gi', 'ephemeral-storage': '512Mi' });
    expect(container.resources.limits).toEqual(container.resources.requests);
    expect(container.readinessProbe.exec.command).toEqual(['/bin/sh', '-c', '[ "$(redis-cli -p 6379 ping)" = PONG ]']);
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 'redis' });
  });

  it('admits only the model pods, on 6379, and opens no connection of its own', () => {
    const { get, model } = synth();
    const policy = get('NetworkPolicy');
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'prediction-cache' } });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toBeUndefined();
    expect(policy.spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACE } }, podSelector: { matchLabels: { ...model.selectorLabels } } }],
      ports: [{ protocol: 'TCP', port: 6379 }],
    }]);
    expect(get('Service').spec).toEqual({
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'prediction-cache' },
      ports: [{ name: 'redis', port: 6379, targetPort: 'redis', protocol: 'TCP' }],
    });
  });

  it('lets the model pods out to it through their own policy, and hands them the address by env', () => {
    const { get } = synth();
    const modelPolicy = get('NetworkPolicy', 'intent-classifier');
    expect(modelPolicy.spec.egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACE } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'prediction-cache' } } }],
      ports: [{ protocol: 'TCP', port: 6379 }],
    });
    const env = get('Deployment', 'intent-classifier').spec.template.spec.containers[0].env;
    expect(env).toEqual(expect.arrayContaining([
      { name: 'REDIS_HOST', value: 'prediction-cache.betterprompts-staging.svc' },
      { name: 'REDIS_PORT', value: '6379' },
    ]));
  });

  it('passes the policy suite and strict schema validation, together with the model it serves', () => {
    for (const props of [{}, { persistence: RedisPersistence.appendOnly({ size: '5Gi' }), passwordSecretName: 'prediction-cache-auth' }]) {
      const { objects } = synth(props);
      expect(checkPolicies(objects as KubeObject[])).toEqual([]);
      expect(objects.flatMap((o) => defaultValidator().validate(o)).map(formatIssue)).toEqual([]);
    }
  });

  it('takes a password only from a Secret, for Redis, its probe and the clients', () => {
    const { cache, container, objects } = synth({ passwordSecretName: 'prediction-cache-auth', passwordSecretKey: 'redis-password' });
    const fromSecret = { valueFrom: { secretKeyRef: { name: 'prediction-cache-auth', key: 'redis-password' } } };
    expect(arg(container.args, '--requirepass')).toBe('$(REDIS_PASSWORD)');
    expect(container.env).toEqual([{ name: 'REDIS_PASSWORD', ...fromSecret }, { name: 'REDISCLI_AUTH', ...fromSecret }]);
    expect(cache.env()).toEqual([
      { name: 'REDIS_HOST', value: 'prediction-cache.betterprompts-staging.svc' },
      { name: 'REDIS_PORT', value: '6379' },
      { name: 'REDIS_PASSWORD', ...fromSecret },
    ]);
    expect(cache.connectionEnv()).toEqual({ REDIS_HOST: 'prediction-cache.betterprompts-staging.svc', REDIS_PORT: '6379' });
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
  });

  it('applies its options', () => {
    const { statefulSet, container } = synth({ name: 'cache', image: 'redis:7.4.2-alpine', cpu: '1', memory: '4Gi', evictionPolicy: RedisEvictionPolicy.ALLKEYS_LFU });
    expect(statefulSet.metadata.name).toBe('cache');
    expect(container.image).toBe('redis:7.4.2-alpine');
    expect(arg(container.args, '--maxmemory')).toBe('3072mb');
    expect(arg(container.args, '--maxmemory-policy')).toBe('allkeys-lfu');
    expect(container.resources.limits).toMatchObject({ cpu: '1', memory: '4Gi' });
    expect(statefulSet.metadata.labels['app.kubernetes.io/version']).toBe('7.4.2-alpine');
  });

  it('accepts an image pinned by digest; its tag, if any, is the version label', () => {
    const digest = 'sha256:a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1';
    const byDigest = synth({ image: `redis@${digest}` });
    expect(byDigest.container.image).toBe(`redis@${digest}`);
    expect(byDigest.statefulSet.metadata.labels).not.toHaveProperty(['app.kubernetes.io/version']);
    const both = synth({ image: `redis:7.4.11-alpine@${digest}` });
    expect(both.container.image).toBe(`redis:7.4.11-alpine@${digest}`);
    expect(both.statefulSet.metadata.labels['app.kubernetes.io/version']).toBe('7.4.11-alpine');
    expect(both.objects.flatMap((o) => defaultValidator().validate(o)).map(formatIssue)).toEqual([]);
  });

  it('admits each client once, however often it is allowed', () => {
    const chart = new Chart(Testing.app(), 'staging');
    const client = { namespace: NAMESPACE, selectorLabels: { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'a' } };
    new RedisCache(chart, 'Cache', { namespace: NAMESPACE, clients: [client] }).allowFrom({ ...client, selectorLabels: { 'app.kubernetes.io/instance': 'a', 'app.kubernetes.io/name': 'torchserve' } });
    const policy = (Testing.synth(chart) as any[]).find((o) => o.kind === 'NetworkPolicy');
    expect(policy.spec.ingress[0].from).toHaveLength(1);
  });

  it('fails the synth when no client may reach it', () => {
    const chart = new Chart(Testing.app(), 'staging');
    new RedisCache(chart, 'Cache', { namespace: NAMESPACE });
    expect(() => Testing.synth(chart)).toThrow("RedisCache staging/Cache admits no client: pass 'clients' or call allowFrom(service), or nothing can reach it");
  });

  it.each([
    ['without persistence', {}, 'redis-cache'],
    ['with the append-only file', { persistence: RedisPersistence.appendOnly({ size: '5Gi', storageClassName: 'gp3' }) }, 'redis-cache-persistent'],
  ] as [string, RedisCacheProps, string][])('matches its YAML file snapshot %s', async (_name, props, file) => {
    const { cacheObjects } = synth(props);
    await expect(cacheObjects.map((o) => stringify(o, { lineWidth: 0, version: '1.1' })).join('---\n')).toMatchFileSnapshot(`./__snapshots__/${file}.k8s.yaml`);
  });

  it.each<[string, RedisCacheProps, string]>([
    ['an unpinned image', { image: 'redis' }, '[RedisCache.UnpinnedImage] staging/PredictionCache: \'image\' ("redis") must carry a pinned tag such as "redis:7.4.11-alpine", never "latest"'],
    ['the latest tag', { image: 'redis:latest' }, '[RedisCache.UnpinnedImage] staging/PredictionCache: \'image\' ("redis:latest") must carry a pinned tag such as "redis:7.4.11-alpine", never "latest", or a digest'],
    ['the latest tag next to a digest', { image: 'redis:latest@sha256:a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1' }, '[RedisCache.UnpinnedImage] staging/PredictionCache: \'image\' ("redis:latest@sha256:a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1") must carry a pinned tag'],
    ['a digest that is not one', { image: 'redis@sha256:abc' }, '[RedisCache.UnpinnedImage] staging/PredictionCache: \'image\' ("redis@sha256:abc") has the digest "sha256:abc"; a digest is "sha256:" and 64 lowercase hex digits'],
    ['a tag that is not one', { image: 'redis:.7' }, '[RedisCache.UnpinnedImage] staging/PredictionCache: \'image\' ("redis:.7") has the tag ".7"; a tag is letters'],
    ['a tag that is no label value', { image: `redis:${'7'.repeat(64)}` }, 'must have a tag that is also a label value'],
    ['too little memory', { memory: '32Mi' }, '[RedisCache.InvalidQuantity] staging/PredictionCache: \'memory\' ("32Mi") must be at least 64Mi; Redis needs room beyond its maxmemory'],
    ['a bad volume size', { persistence: RedisPersistence.appendOnly({ size: 'five gigs' }) }, '\'persistence.size\' ("five gigs") must be a positive Kubernetes quantity'],
    ['a bad StorageClass', { persistence: RedisPersistence.appendOnly({ size: '1Gi', storageClassName: 'GP3' }) }, '[RedisCache.InvalidStorageClass] staging/PredictionCache: \'persistence.storageClassName\' ("GP3") must be a StorageClass name'],
    ['a bad Secret name', { passwordSecretName: 'Redis_Auth' }, '[RedisCache.InvalidSecretName] staging/PredictionCache: \'passwordSecretName\' ("Redis_Auth") must be the name of a Secret in the namespace'],
    ['a bad Secret key', { passwordSecretName: 'redis-auth', passwordSecretKey: 'redis password' }, '[RedisCache.InvalidSecretKey] staging/PredictionCache: \'passwordSecretKey\' ("redis password") must be a Secret key: letters, digits, "-", "_" and "."'],
    ['a namespace that is no DNS label', { namespace: 'Staging' }, '[RedisCache.InvalidNamespace] staging/PredictionCache: \'namespace\' ("Staging") must be a DNS-1123 label; set it on the construct or the chart'],
    ['a bad name', { name: 'Prediction-Cache' }, '[RedisCache.InvalidName] staging/PredictionCache: \'name\' ("Prediction-Cache") must be a DNS-1123 label of at most 52 characters'],
  ])('refuses %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
