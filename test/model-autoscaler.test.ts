import { Chart, Duration, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ADAPTER_RULES_KEY, GpuAutoscaler, ModelAutoscaler, ScalingBackend, type ModelAutoscalerProps } from '../lib/autoscaling';
import { GpuMetrics } from '../lib/signals';
import { ModelArchive, TorchServeService, WorkloadKind, type TorchServeServiceProps } from '../lib/torchserve';
import { ManifestValidator, formatIssue } from '../lib/validation';
import { monitoredEnvironment, objectsOf } from './fixtures/promtool/monitored-fleet';

const validator = ManifestValidator.load();

function service(chart: Chart, modelName = 'intent_classifier', props: Partial<TorchServeServiceProps> = {}): TorchServeService {
  return new TorchServeService(chart, modelName, {
    modelName,
    modelVersion: '1.0.0',
    modelArchive: ModelArchive.fromUri(`s3://models/${modelName}/1.0.0/${modelName}.mar`),
    handler: 'handlers/h.py',
    image: 'pytorch/torchserve:0.12.0-gpu',
    cpu: '4',
    memory: '16Gi',
    namespace: 'ml',
    replicas: 2,
    ...props,
  });
}

function synth(props: Partial<ModelAutoscalerProps> = {}, serviceProps: Partial<TorchServeServiceProps> = {}) {
  const chart = new Chart(Testing.app(), 'test');
  const svc = service(chart, 'intent_classifier', serviceProps);
  if (serviceProps.workload === WorkloadKind.ROLLOUT) svc.useRolloutStrategy({ rolloutStrategy: () => ({ canary: { steps: [{ setWeight: 20 }, { pause: {} }] } }) });
  const autoscaler = new ModelAutoscaler(chart, 'autoscaler', { service: svc, maxReplicas: 6, ...props });
  const objects = Testing.synth(chart) as any[];
  const get = (kind: string) => objects.find((o) => o.kind === kind);
  return { chart, svc, autoscaler, objects, get };
}

function expectValid(objects: any[]): void {
  const issues = objects.flatMap((o) => validator.validate(o));
  expect(issues.map(formatIssue)).toEqual([]);
}

describe('ModelAutoscaler', () => {
  it('defaults to a KEDA ScaledObject on CPU 60%, memory 70% and the mean queue wait, and takes the replicas from the Deployment', () => {
    const { get, autoscaler } = synth();
    const so = get('ScaledObject');
    expect(so.metadata).toMatchObject({ name: 'intent-classifier', namespace: 'ml', labels: { 'app.kubernetes.io/component': 'autoscaling', 'app.kubernetes.io/instance': 'intent-classifier' } });
    expect(so.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'intent-classifier' },
      minReplicaCount: 2,
      maxReplicaCount: 6,
      advanced: { horizontalPodAutoscalerConfig: { name: 'intent-classifier' } },
    });
    const triggers = Object.fromEntries(so.spec.triggers.map((t: any) => [t.name, t]));
    expect(Object.keys(triggers)).toEqual(['cpu', 'memory', 'queue-wait']);
    expect(triggers.cpu).toEqual({ name: 'cpu', type: 'cpu', metricType: 'Utilization', metadata: { value: '60' } });
    expect(triggers.memory).toEqual({ name: 'memory', type: 'memory', metricType: 'Utilization', metadata: { value: '70' } });
    expect(triggers['queue-wait']).toEqual({
      name: 'queue-wait',
      type: 'prometheus',
      metricType: 'Value',
      metadata: {
        serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
        // The rate of the wait counter over the rate of requests, never the raw counter (which only grows).
        query: 'sum(rate(ts_queue_latency_microseconds{namespace="ml",service="intent-classifier-metrics"}[2m])) / clamp_min(sum(rate(ts_inference_requests_total{namespace="ml",service="intent-classifier-metrics"}[2m])), 1e-9) / 1000',
        threshold: '100',
      },
    });
    expect(get('Deployment').spec).not.toHaveProperty('replicas');
    expect(autoscaler.hpaName).toBe('intent-classifier');
  });

  it('waits out slow GPU starts: pod-based scale-up after 60 s, scale-down after 10 minutes, one pod at a time', () => {
    const behavior = synth().get('ScaledObject').spec.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(behavior).toEqual({
      scaleUp: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 2, periodSeconds: 180 }] },
      scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 300 }] },
    });
    const tuned = synth({ scaleUpStabilization: Duration.seconds(0), scaleUpPods: 4, scaleDownStabilization: Duration.minutes(30) })
      .get('ScaledObject').spec.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(tuned.scaleUp).toMatchObject({ stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 4, periodSeconds: 180 }] });
    expect(tuned.scaleDown.stabilizationWindowSeconds).toBe(1800);
  });

  it('adds GPU utilisation from the DCGM exporter, averaged over the pods of this model only', () => {
    const gpu = synth({ gpuUtilization: 75 }).get('ScaledObject').spec.triggers.find((t: any) => t.name === 'gpu-utilization');
    expect(gpu).toMatchObject({
      type: 'prometheus',
      metricType: 'Value',
      metadata: { query: 'avg(DCGM_FI_DEV_GPU_UTIL{exported_namespace="ml",exported_pod=~"intent-classifier-[a-z0-9]+-[a-z0-9]{5}"})', threshold: '75' },
    });
    const honoured = synth({ gpuUtilization: 75, gpuMetrics: GpuMetrics.dcgm({ namespaceLabel: 'namespace', podLabel: 'pod' }) }).get('ScaledObject');
    expect(honoured.spec.triggers.find((t: any) => t.name === 'gpu-utilization').metadata.query).toBe('avg(DCGM_FI_DEV_GPU_UTIL{namespace="ml",pod=~"intent-classifier-[a-z0-9]+-[a-z0-9]{5}"})');
  });

  it('keeps a higher floor during peak hours with a KEDA cron trigger', () => {
    const so = synth({ minReplicas: 1, peakHours: { timezone: 'Europe/Berlin', start: '0 7 * * 1-5', end: '0 20 * * 1-5', minReplicas: 3 } }).get('ScaledObject');
    expect(so.spec.minReplicaCount).toBe(1);
    expect(so.spec.triggers.at(-1)).toEqual({
      name: 'peak-hours',
      type: 'cron',
      metadata: { timezone: 'Europe/Berlin', start: '0 7 * * 1-5', end: '0 20 * * 1-5', desiredReplicas: '3' },
    });
  });

  it('records the Prometheus the adapter rules are written for, and refuses two in one namespace', () => {
    const chart = new Chart(Testing.app(), 'test');
    const url = 'http://prometheus.observability.svc:9090';
    new ModelAutoscaler(chart, 'a-autoscaler', { service: service(chart, 'intent_classifier'), maxReplicas: 4, backend: ScalingBackend.HPA_WITH_PROMETHEUS_ADAPTER, prometheusUrl: url });
    const configMap = (Testing.synth(chart) as any[]).find((o) => o.metadata.name === 'prometheus-adapter-external-rules');
    expect(configMap.metadata.annotations['model-serving/prometheus-url']).toBe(url);
    expect(configMap.data[ADAPTER_RULES_KEY]).toContain(`# Written for the Prometheus at ${url}: set the adapter's prometheus.url (and port) to it.`);
    expect(() => new ModelAutoscaler(chart, 'b-autoscaler', { service: service(chart, 'toxicity'), maxReplicas: 4, backend: ScalingBackend.HPA_WITH_PROMETHEUS_ADAPTER }))
      .toThrow('[PrometheusAdapterRules.PrometheusMismatch] test/b-autoscaler: the chart\'s adapter rules are written for http://prometheus.observability.svc:9090, not http://prometheus-operated.monitoring.svc:9090; an environment has one Prometheus');
  });

  it('renders an autoscaling/v2 HPA and the prometheus-adapter rules it needs with the adapter backend', () => {
    const chart = new Chart(Testing.app(), 'test');
    for (const model of ['intent_classifier', 'toxicity']) {
      new ModelAutoscaler(chart, `${model}-autoscaler`, { service: service(chart, model), maxReplicas: 4, backend: ScalingBackend.HPA_WITH_PROMETHEUS_ADAPTER, gpuUtilization: 80 });
    }
    const objects = Testing.synth(chart) as any[];
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'intent-classifier');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'intent-classifier' }, minReplicas: 2, maxReplicas: 4 });
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 70 } } },
      { type: 'External', external: { metric: { name: 'torchserve_queue_wait_milliseconds', selector: { matchLabels: { service: 'intent-classifier-metrics' } } }, target: { type: 'Value', value: '100' } } },
      { type: 'External', external: { metric: { name: 'torchserve_intent_classifier_gpu_utilization_percent' }, target: { type: 'Value', value: '80' } } },
    ]);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(600);

    // One ConfigMap per namespace: the shared queue rule once, a GPU rule per model.
    const configMaps = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-adapter-external-rules');
    expect(configMaps).toHaveLength(1);
    const rules = parse(configMaps[0].data[ADAPTER_RULES_KEY]);
    expect(rules.map((r: any) => r.name.as)).toEqual([
      'torchserve_intent_classifier_gpu_utilization_percent',
      'torchserve_queue_wait_milliseconds',
      'torchserve_toxicity_gpu_utilization_percent',
    ]);
    expect(rules[1]).toEqual({
      seriesQuery: 'ts_queue_latency_microseconds{namespace!="",service!=""}',
      resources: { overrides: { namespace: { resource: 'namespace' } } },
      name: { matches: '^ts_queue_latency_microseconds$', as: 'torchserve_queue_wait_milliseconds' },
      metricsQuery: 'sum(rate(ts_queue_latency_microseconds{<<.LabelMatchers>>}[2m])) / clamp_min(sum(rate(ts_inference_requests_total{<<.LabelMatchers>>}[2m])), 1e-9) / 1000',
    });
    expect(objects.filter((o) => o.kind === 'Deployment').every((d) => d.spec.replicas === undefined)).toBe(true);
  });

  it('scales an Argo Rollout as a whole, leaving the canary split to the Rollouts controller', () => {
    for (const backend of Object.values(ScalingBackend)) {
      const { get, objects } = synth({ backend }, { workload: WorkloadKind.ROLLOUT });
      const rollout = get('Rollout');
      expect(rollout.spec).not.toHaveProperty('replicas');
      expect(rollout.spec.strategy.canary.steps).toHaveLength(2);
      const scaler = objects.find((o) => o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler');
      expect(scaler.spec.scaleTargetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'intent-classifier' });
    }
  });

  it('passes strict schema validation (HPA, ScaledObject, adapter ConfigMap)', () => {
    const keda = synth({ gpuUtilization: 80, minReplicas: 1, peakHours: { timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', minReplicas: 2 } });
    const adapter = synth({ backend: ScalingBackend.HPA_WITH_PROMETHEUS_ADAPTER, gpuUtilization: 80 });
    const mine = [keda.get('ScaledObject'), adapter.get('HorizontalPodAutoscaler'), adapter.objects.find((o) => o.metadata.name === 'prometheus-adapter-external-rules')];
    expect(mine.every(Boolean)).toBe(true);
    expectValid(mine);
    // The validator is strict: an unknown field in the HPA spec is an issue.
    const broken = { ...mine[1], spec: { ...mine[1].spec, minReplica: 1 } };
    expect(validator.validate(broken).map((i) => i.message).join('\n')).toMatch(/minReplica/);
  });

  it.each([
    ['maxReplicas below minReplicas', { minReplicas: 4, maxReplicas: 3 }, "[ModelAutoscaler.InvalidReplicas] test/autoscaler: 'minReplicas' (4) must be an integer from 1 to maxReplicas (3)"],
    ['a fractional maxReplicas', { maxReplicas: 2.5 }, "[ModelAutoscaler.InvalidReplicas] test/autoscaler: 'maxReplicas' (2.5) must be an integer from 1 to 1000"],
    ['a StatefulSet target', { target: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'x' } }, "[ModelAutoscaler.InvalidTarget] test/autoscaler: 'target' (apps/v1 StatefulSet) must be apps/v1 Deployment or argoproj.io/v1alpha1 Rollout"],
    ['a CPU target above 100%', { cpuUtilization: 150 }, "[ModelAutoscaler.InvalidUtilization] test/autoscaler: 'cpuUtilization' (150) must be an integer percentage from 1 to 100"],
    ['a queue wait target beyond the response timeout', { queueWaitTarget: Duration.minutes(2) }, "[ModelAutoscaler.InvalidQueueWaitTarget] test/autoscaler: 'queueWaitTarget' (120000ms) must be below the response timeout of model intent_classifier (60s): a request that waits that long has failed already"],
    ['a scale-down window longer than the API allows', { scaleDownStabilization: Duration.hours(2) }, "[ModelAutoscaler.InvalidBehavior] test/autoscaler: 'scaleDownStabilization' (7200s) must be whole seconds from 0 to 3600"],
    ['peak hours with the adapter backend', { backend: ScalingBackend.HPA_WITH_PROMETHEUS_ADAPTER, peakHours: { timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', minReplicas: 4 } }, "[ModelAutoscaler.PeakHoursNeedKeda] test/autoscaler: 'peakHours' needs backend \"keda\" (a KEDA cron trigger); prometheus-adapter cannot schedule a floor; drop 'peakHours' to keep the same floor all day"],
    ['a peak floor not above the off-peak floor', { peakHours: { timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', minReplicas: 2 } }, "[ModelAutoscaler.InvalidPeakHours] test/autoscaler: 'peakHours.minReplicas' (2) must be an integer above minReplicas (2) and at most maxReplicas (6)"],
    ['a six-field cron', { peakHours: { timezone: 'UTC', start: '0 0 8 * * *', end: '0 18 * * *', minReplicas: 4 } }, '[ModelAutoscaler.InvalidPeakHours] test/autoscaler: \'peakHours.start\' ("0 0 8 * * *") must be a cron schedule of five fields (minute hour day-of-month month day-of-week) such as "17 3 * * *"; it has 6 fields'],
    ['an unknown time zone', { peakHours: { timezone: 'Mars/Olympus', start: '0 8 * * *', end: '0 18 * * *', minReplicas: 4 } }, '[ModelAutoscaler.InvalidPeakHours] test/autoscaler: \'peakHours.timezone\' ("Mars/Olympus") must be an IANA time zone such as "Etc/UTC" or "Europe/Berlin"'],
    ['a Prometheus URL that is not http(s)', { prometheusUrl: 'prometheus:9090' }, "[ModelAutoscaler.InvalidPrometheusUrl] test/autoscaler: 'prometheusUrl' (\"prometheus:9090\") must be an http(s) URL such as \"http://prometheus-operated.monitoring.svc:9090\""],
    ['GPU metrics without a GPU target', { gpuMetrics: GpuMetrics.torchServe() }, "[ModelAutoscaler.UnusedGpuMetrics] test/autoscaler: 'gpuMetrics' needs 'gpuUtilization'"],
    ['an unknown backend', { backend: 'vpa' as ScalingBackend }, '[ModelAutoscaler.InvalidBackend] test/autoscaler: \'backend\' ("vpa") must be one of: hpa-with-prometheus-adapter, keda'],
  ] as [string, Partial<ModelAutoscalerProps>, string][])('fails on %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('fails when a service gets a second autoscaler', () => {
    const chart = new Chart(Testing.app(), 'test');
    const svc = service(chart);
    new ModelAutoscaler(chart, 'a', { service: svc, maxReplicas: 4 });
    expect(() => new ModelAutoscaler(chart, 'b', { service: svc, maxReplicas: 4 }))
      .toThrow('[ModelAutoscaler.AlreadyAutoscaled] test/b: service "intent-classifier" already has an autoscaler; two would fight over its replicas');
  });

  it.each(['staging', 'production'])('matches the %s snapshot', async (environment) => {
    const { objects } = monitoredEnvironment(environment);
    const mine = objectsOf(objects, ['ScaledObject', 'HorizontalPodAutoscaler'], (name) => name === 'prometheus-adapter-external-rules');
    expectValid(mine);
    await expect(mine.map((o) => stringify(o, { lineWidth: 0 })).join('---\n')).toMatchFileSnapshot(`./__snapshots__/autoscaling-${environment}.k8s.yaml`);
  });

  it('matches the prometheus-adapter snapshot', async () => {
    const { objects } = monitoredEnvironment('production', { autoscaling: { backend: ScalingBackend.HPA_WITH_PROMETHEUS_ADAPTER, peakHours: undefined } });
    const mine = objectsOf(objects, ['HorizontalPodAutoscaler'], (name) => name === 'prometheus-adapter-external-rules');
    expect(mine).toHaveLength(2);
    expectValid(mine);
    await expect(mine.map((o) => stringify(o, { lineWidth: 0 })).join('---\n')).toMatchFileSnapshot('./__snapshots__/autoscaling-production-prometheus-adapter.k8s.yaml');
  });

  it('keeps GpuAutoscaler as a deprecated alias, so charts written against the old name still build', () => {
    const chart = Testing.chart();
    const scaler = new GpuAutoscaler(chart, 'old-name', { service: service(chart), maxReplicas: 3 });
    expect(scaler).toBeInstanceOf(ModelAutoscaler);
    expect(Testing.synth(chart).filter((o) => o.kind === 'ScaledObject')).toHaveLength(1);
  });
});
