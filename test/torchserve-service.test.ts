import { Chart, Duration, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { ModelArchive, TORCHSERVE_CONFIG_KEYS, TorchServeService, type TorchServeServiceProps, WorkloadKind } from '../lib/torchserve';

const BASE: TorchServeServiceProps = {
  modelName: 'intent_classifier',
  modelVersion: '1.0.0',
  modelArchive: ModelArchive.fromUri('s3://models/intent_classifier/1.0.0/intent_classifier.mar'),
  handler: 'handlers/intent.py',
  image: 'pytorch/torchserve:0.12.0-gpu',
  cpu: '4',
  memory: '16Gi',
  namespace: 'ml',
};

function synth(props: Partial<TorchServeServiceProps> = {}, chartId = 'prod', constructId = 'intent') {
  const chart = new Chart(Testing.app(), chartId);
  const service = new TorchServeService(chart, constructId, { ...BASE, ...props });
  const objects = Testing.synth(chart) as any[];
  const get = (kind: string, name?: string) => {
    const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
    if (!found) throw new Error(`no ${kind} ${name ?? ''}`);
    return found;
  };
  const deployment = get('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const config: string = get('ConfigMap').data['config.properties'];
  const properties = Object.fromEntries(config.trim().split('\n').map((line) => {
    const i = line.indexOf('=');
    return [line.slice(0, i), line.slice(i + 1)];
  }));
  return { service, objects, get, deployment, pod, container, config, properties };
}

describe('TorchServeService', () => {
  it('renders the objects one TorchServe deployment needs, named from the model', () => {
    const { objects } = synth();
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/intent-classifier-config',
      'Deployment/intent-classifier',
      'PodDisruptionBudget/intent-classifier',
      'Service/intent-classifier',
      'Service/intent-classifier-management',
      'Service/intent-classifier-metrics',
      'ServiceAccount/intent-classifier',
    ]);
    for (const o of objects) expect(o.metadata.namespace).toBe('ml');
  });

  it('selects pods by explicit app.kubernetes.io labels that do not depend on the construct path', () => {
    const a = synth({}, 'prod', 'intent');
    const b = synth({}, 'somewhere-else', 'renamed-construct');
    const selector = { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'intent-classifier' };
    expect(a.deployment.spec.selector.matchLabels).toEqual(selector);
    expect(b.deployment.spec.selector.matchLabels).toEqual(selector);
    for (const name of ['intent-classifier', 'intent-classifier-management', 'intent-classifier-metrics']) {
      expect(a.get('Service', name).spec.selector).toEqual(selector);
    }
    expect(a.get('PodDisruptionBudget').spec.selector.matchLabels).toEqual(selector);
    expect(JSON.stringify(a.objects)).not.toContain('cdk8s.io/metadata.addr');
    expect(a.deployment.spec.template.metadata.labels).toMatchObject(selector);
  });

  it('carries the recommended labels on every object, and the model version only where a version changes it', () => {
    const { objects, deployment } = synth({ partOf: 'betterprompts' });
    for (const o of objects) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'torchserve',
        'app.kubernetes.io/instance': 'intent-classifier',
        'app.kubernetes.io/part-of': 'betterprompts',
        'app.kubernetes.io/managed-by': 'model-serving',
      });
      expect(o.metadata.labels['app.kubernetes.io/component']).toMatch(/^(inference|management|metrics)$/);
    }
    // A release changes the workload, its pods and config.properties, nothing else of the model.
    const versioned = objects.filter((o) => o.metadata.labels['app.kubernetes.io/version'] !== undefined).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(versioned.sort()).toEqual(['ConfigMap/intent-classifier-config', 'Deployment/intent-classifier']);
    expect(deployment.metadata.labels['app.kubernetes.io/version']).toBe('1.0.0');
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('1.0.0');
    const bumped = synth({ partOf: 'betterprompts', modelVersion: '1.1.0' }).objects;
    const changed = objects.filter((o, i) => JSON.stringify(o) !== JSON.stringify(bumped[i])).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(changed.sort()).toEqual(['ConfigMap/intent-classifier-config', 'Deployment/intent-classifier']);
  });

  it('writes config.properties with only keys TorchServe 0.12 reads', () => {
    const { properties } = synth();
    for (const key of Object.keys(properties)) expect(TORCHSERVE_CONFIG_KEYS.has(key), key).toBe(true);
    expect(properties).toMatchObject({
      inference_address: 'http://0.0.0.0:8080',
      management_address: 'http://0.0.0.0:8081',
      metrics_address: 'http://0.0.0.0:8082',
      metrics_mode: 'prometheus',
      disable_token_authorization: 'true',
      enable_model_api: 'false',
      allowed_urls: 'file:///home/model-server/model-store/.*',
      model_store: '/home/model-server/model-store',
      load_models: 'intent_classifier=intent_classifier.mar',
      default_response_timeout: '60',
      job_queue_size: '100',
      number_of_gpu: '1',
      vmargs: '-Xmx4096m -XX:+ExitOnOutOfMemoryError',
    });
    expect(JSON.parse(properties.models)).toEqual({
      intent_classifier: { '1.0.0': { minWorkers: 4, maxWorkers: 4, batchSize: 8, maxBatchDelay: 100, responseTimeout: 60, startupTimeout: 300 } },
    });
    expect(properties).not.toHaveProperty('grpc_inference_address');
  });

  it('maps tuning props into the models JSON, the GPU count and the heap', () => {
    const { properties, container } = synth({
      batchSize: 16, maxBatchDelay: Duration.millis(20), minWorkers: 2, maxWorkers: 6,
      responseTimeout: Duration.seconds(30), gpuCount: 2, jvmHeap: '2Gi', gpuMemoryFraction: 0.5, enableGrpc: true,
    });
    expect(JSON.parse(properties.models).intent_classifier['1.0.0']).toMatchObject({ batchSize: 16, maxBatchDelay: 20, minWorkers: 2, maxWorkers: 6, responseTimeout: 30 });
    expect(properties.number_of_gpu).toBe('2');
    expect(properties.vmargs).toBe('-Xmx2048m -XX:+ExitOnOutOfMemoryError');
    expect(properties).toMatchObject({ grpc_inference_address: '0.0.0.0', grpc_inference_port: '7070', grpc_management_address: '0.0.0.0', grpc_management_port: '7071' });
    expect(container.env).toContainEqual({ name: 'GPU_MEMORY_FRACTION', value: '0.5' });
    expect(container.resources.limits['nvidia.com/gpu']).toBe(2);
    expect(container.ports.map((p: any) => p.name)).toEqual(['http', 'management', 'metrics', 'grpc', 'grpc-management']);
  });

  it('defaults the heap to a quarter of memory, at most 4Gi', () => {
    expect(synth({ memory: '8Gi' }).properties.vmargs).toBe('-Xmx2048m -XX:+ExitOnOutOfMemoryError');
    expect(synth({ memory: '64Gi' }).properties.vmargs).toBe('-Xmx4096m -XX:+ExitOnOutOfMemoryError');
  });

  it('rolls the pods when config.properties or the model version changes', () => {
    const base = synth().deployment.spec.template;
    const retuned = synth({ batchSize: 4 }).deployment.spec.template;
    const bumped = synth({ modelVersion: '1.1.0' }).deployment.spec.template;
    const checksum = (t: any) => t.metadata.annotations['model-serving/config-checksum'];
    expect(checksum(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(retuned)).not.toBe(checksum(base));
    expect(checksum(bumped)).not.toBe(checksum(base));
    expect(bumped.metadata.labels['app.kubernetes.io/version']).toBe('1.1.0');
  });

  it('sets GPU requests equal to limits, with the environment placement', () => {
    const { container, pod } = synth({
      gpuCount: 1,
      nodeSelector: { 'nvidia.com/gpu.present': 'true' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(container.resources.requests).toEqual(container.resources.limits);
    expect(container.resources.limits).toEqual({ 'cpu': '4', 'memory': '16Gi', 'ephemeral-storage': '20Gi', 'nvidia.com/gpu': 1 });
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('keeps pods off spot nodes unless spot is allowed, and then prefers spot', () => {
    const onDemand = synth().pod.affinity.nodeAffinity;
    expect(onDemand.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: 'karpenter.sh/capacity-type', operator: 'NotIn', values: ['spot'] },
      { key: 'eks.amazonaws.com/capacityType', operator: 'NotIn', values: ['SPOT'] },
    ]);
    const spot = synth({ allowSpot: true }).pod.affinity.nodeAffinity;
    expect(spot.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(spot.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0]).toEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] });
  });

  it('fetches an S3 archive with an init container under the IRSA service account', () => {
    const { pod, get } = synth({ iamRoleArn: 'arn:aws:iam::123456789012:role/reader' });
    expect(get('ServiceAccount').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/reader' });
    expect(get('ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('intent-classifier');
    expect(pod.automountServiceAccountToken).toBe(false);
    const fetch = pod.initContainers[0];
    expect(fetch.image).toBe('amazon/aws-cli:2.22.35');
    expect(fetch.command).toEqual(['aws', 's3', 'cp', '--only-show-errors', 's3://models/intent_classifier/1.0.0/intent_classifier.mar', '/home/model-server/model-store/intent_classifier.mar']);
    expect(pod.volumes).toContainEqual({ name: 'model-store', emptyDir: {} });
  });

  it('mounts a PVC archive read-only instead of fetching it', () => {
    const { pod, container, properties } = synth({ modelArchive: ModelArchive.fromUri('pvc://model-store/intent/1.0.0/intent_classifier.mar') });
    expect(pod.initContainers).toBeUndefined();
    expect(pod.volumes).toContainEqual({ name: 'model-store', persistentVolumeClaim: { claimName: 'model-store', readOnly: true } });
    expect(container.volumeMounts).toContainEqual({ name: 'model-store', mountPath: '/home/model-server/model-store', readOnly: true, subPath: 'intent/1.0.0' });
    expect(properties.load_models).toBe('intent_classifier=intent_classifier.mar');
  });

  it('turns ready only when the model workers are loaded, and never kills a slow load', () => {
    const { container } = synth({ startupTimeout: Duration.minutes(10) });
    const check = container.readinessProbe.exec.command;
    expect(check.slice(0, 4)).toEqual(['python3', '-I', '-B', '-c']);
    expect(check[4]).toContain('http://127.0.0.1:8081/models/intent_classifier/1.0.0');
    expect(check[4]).toContain('w["status"]=="READY"');
    expect(check[4]).toContain('>=4');
    expect(container.startupProbe.exec.command).toEqual(check);
    // 10 minutes of model load + 60 s for the JVM and worker processes, probed every 10 s.
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBe(660);
    expect(container.livenessProbe).toEqual({ httpGet: { path: '/ping', port: 'http' }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 });
  });

  it('runs as uid 1000 with a read-only root filesystem and writable scratch volumes', () => {
    const { pod } = synth();
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of [...pod.containers, ...pod.initContainers]) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(c.image).not.toMatch(/:latest$/);
    }
    const mounts = pod.containers[0].volumeMounts.map((m: any) => m.mountPath);
    expect(mounts).toEqual(expect.arrayContaining(['/home/model-server/tmp', '/home/model-server/logs', '/tmp']));
    expect(pod.containers[0].env).toContainEqual({ name: 'TEMP', value: '/home/model-server/tmp' });
  });

  it('passes extra environment variables to the handler, sorted', () => {
    const { container } = synth({ env: { REDIS_PORT: '6379', REDIS_HOST: 'cache.ml.svc' } });
    expect(container.env.slice(-2)).toEqual([{ name: 'REDIS_HOST', value: 'cache.ml.svc' }, { name: 'REDIS_PORT', value: '6379' }]);
  });

  it('drains before stopping, with a grace period covering the response timeout', () => {
    const { pod, container } = synth({ responseTimeout: Duration.seconds(120) });
    expect(container.lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 15']);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(120 + 15);
  });

  it('exposes inference, management and metrics on separate named ports and Services', () => {
    const { get, container } = synth();
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'management', containerPort: 8081, protocol: 'TCP' },
      { name: 'metrics', containerPort: 8082, protocol: 'TCP' },
    ]);
    expect(get('Service', 'intent-classifier').spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    expect(get('Service', 'intent-classifier-management').spec.ports).toEqual([{ name: 'management', port: 8081, targetPort: 'management', protocol: 'TCP' }]);
    expect(get('Service', 'intent-classifier-metrics').spec.ports).toEqual([{ name: 'metrics', port: 8082, targetPort: 'metrics', protocol: 'TCP' }]);
    for (const name of ['intent-classifier', 'intent-classifier-management', 'intent-classifier-metrics']) {
      expect(get('Service', name).spec.type).toBe('ClusterIP');
    }
  });

  it('spreads pods across zones and nodes, with anti-affinity from two replicas, and a PDB that never blocks drains', () => {
    const one = synth({ replicas: 1 });
    expect(one.pod.affinity.podAntiAffinity).toBeUndefined();
    const three = synth({ replicas: 3 });
    expect(three.deployment.spec.replicas).toBe(3);
    expect(three.pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(three.pod.topologySpreadConstraints.map((c: any) => c.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(three.get('PodDisruptionBudget').spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(three.deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('labels a version with build metadata in its label form, and keeps the version as written everywhere else', () => {
    const { deployment, get, container, config } = synth({ modelVersion: '1.1.0+build.7' });
    expect(deployment.metadata.labels['app.kubernetes.io/version']).toBe('1.1.0_build.7');
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('1.1.0_build.7');
    expect(get('ConfigMap').metadata.labels['app.kubernetes.io/version']).toBe('1.1.0_build.7');
    expect(container.env).toContainEqual({ name: 'MODEL_VERSION', value: '1.1.0+build.7' });
    expect(config).toContain('"1.1.0+build.7"');
    // The readiness check asks TorchServe for the version by URL: "+" is percent-encoded there.
    expect(container.readinessProbe.exec.command.join(' ')).toContain('/models/intent_classifier/1.1.0%2Bbuild.7"');
  });

  it.each([
    [{ modelVersion: `1.0.0-${'r'.repeat(58)}` }, "[TorchServeService.InvalidModelVersion] prod/intent: 'modelVersion' (\"1.0.0-rrrr"],
    [{ modelVersion: '1.0.0-rc-' }, 'must end with a letter or digit, so that it can be the app.kubernetes.io/version label'],
    [{ handler: 'h'.repeat(1025) }, "[TorchServeService.InvalidHandler] prod/intent: 'handler' must be 1 to 1024 characters (it has 1025); it is recorded in a pod annotation"],
    [{ image: 'pytorch/torchserve:latest' }, "[TorchServeService.UnpinnedImage] prod/intent: 'image' (\"pytorch/torchserve:latest\") must carry a pinned tag"],
    [{ image: 'pytorch/torchserve' }, '[TorchServeService.UnpinnedImage] prod/intent:'],
    [{ minWorkers: 5, maxWorkers: 4 }, "[TorchServeService.InvalidWorkers] prod/intent: 'minWorkers' (5) must not exceed the maximum number of workers (4)"],
    [{ replicas: 0 }, "[TorchServeService.OutOfRange] prod/intent: 'replicas' (0) must be an integer from 1 to 1000"],
    [{ gpuMemoryFraction: 1.2 }, "[TorchServeService.OutOfRange] prod/intent: 'gpuMemoryFraction' (1.2) must be greater than 0 and at most 1"],
    [{ memory: '16 GB' }, "[TorchServeService.InvalidQuantity] prod/intent: 'memory' (\"16 GB\") must be a positive Kubernetes quantity"],
    [{ jvmHeap: '16Gi' }, "[TorchServeService.HeapTooLarge] prod/intent: 'jvmHeap' (16Gi) must be below 'memory' (16Gi)"],
    [{ memory: '256Mi' }, "[TorchServeService.HeapTooSmall] prod/intent: the JVM heap (64Mi) must be at least 128Mi; raise 'memory' or set 'jvmHeap'"],
    [{ jvmHeap: '100Mi' }, '[TorchServeService.HeapTooSmall] prod/intent: the JVM heap (100Mi) must be at least 128Mi'],
    [{ modelName: '9intent' }, '[TorchServeService.InvalidModelName] prod/intent: \'modelName\' ("9intent") must start with a lowercase letter and contain only lowercase letters, digits, "_" and "-"'],
    [{ pythonPackageIndex: 'http://pypi.example.com/simple' }, '[TorchServeService.InvalidPackageIndex] prod/intent: \'pythonPackageIndex\' ("http://pypi.example.com/simple") must be the https URL of a package index, such as "https://pypi.internal.example.com/simple"'],
    [{ pythonPackageIndex: 'https://ci:s3cret@pypi.example.com/simple' }, '[TorchServeService.InvalidPackageIndex] prod/intent:'],
    [{ name: 'Intent' }, "[TorchServeService.InvalidName] prod/intent: 'name' (\"Intent\") must be a DNS-1123 label"],
    [{ modelVersion: 'latest' }, "[TorchServeService.InvalidModelVersion] prod/intent: 'modelVersion' (\"latest\") must be a semantic version"],
    [{ namespace: undefined }, "[TorchServeService.InvalidNamespace] prod/intent: 'namespace' (undefined) must be a DNS-1123 label"],
    [{ nodeSelector: { 'bad key!': 'x' } }, "[TorchServeService.InvalidNodeSelector] prod/intent: 'nodeSelector' entry \"bad key!: x\""],
    [{ env: { MODEL_NAME: 'x' } }, "[TorchServeService.InvalidEnv] prod/intent: 'env' must not set MODEL_NAME, which TorchServeService sets itself"],
    [{ env: { API_TOKEN: 'abc' } }, "[TorchServeService.InvalidEnv] prod/intent: 'env' must not carry a secret value in API_TOKEN; mount a Secret instead"],
  ] as [Partial<TorchServeServiceProps>, string][])('throws at construction for %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('TorchServeService with an autoscaler', () => {
  it('drops spec.replicas once an autoscaler owns the count, and refuses a second one', () => {
    const chart = new Chart(Testing.app(), 'prod');
    const service = new TorchServeService(chart, 'intent', { ...BASE, replicas: 3 });
    expect(service.scaler).toBeUndefined();
    const scaler = { hpaName: 'intent' };
    service.markHasAutoscaler(scaler);
    service.markHasAutoscaler(scaler);
    const deployment = (Testing.synth(chart) as any[]).find((o) => o.kind === 'Deployment');
    expect(deployment.spec.replicas).toBeUndefined();
    expect(service.scaler).toBe(scaler);
    expect(service.replicas).toBe(3);
    expect(() => service.markHasAutoscaler({ hpaName: 'other' })).toThrow('[TorchServeService.AlreadyAutoscaled] prod/intent: already scaled by intent; two autoscalers would fight over the replicas');
  });

  it('renders a Rollout strategy from its release, asked when the Rollout renders', () => {
    const chart = new Chart(Testing.app(), 'prod');
    const service = new TorchServeService(chart, 'intent', { ...BASE, workload: WorkloadKind.ROLLOUT });
    let steps = [{ setWeight: 10 }];
    service.useRolloutStrategy({ rolloutStrategy: () => ({ canary: { steps } }) });
    steps = [{ setWeight: 20 }];
    const rollout = (Testing.synth(chart) as any[]).find((o) => o.kind === 'Rollout');
    expect(rollout.spec.strategy).toEqual({ canary: { steps: [{ setWeight: 20 }] } });
    expect(() => service.useRolloutStrategy({ rolloutStrategy: () => ({}) })).toThrow('[TorchServeService.StrategyAlreadySet]');
    const deployment = new TorchServeService(chart, 'other', { ...BASE, name: 'other' });
    expect(() => deployment.useRolloutStrategy({ rolloutStrategy: () => ({}) })).toThrow('[TorchServeService.NotARollout]');
  });
});
