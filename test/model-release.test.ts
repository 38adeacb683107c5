import { Duration, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { UnscopedValidationError } from '../lib/core';
import { GatewayApiImplementation, GatewayFrontend, type GatewayProvider, type GatewayRoute, Gateways, type IModelRoute } from '../lib/gateway';
import { MonitoringBundle } from '../lib/monitoring';
import { DEFAULT_PROMETHEUS_URL, ROLLOUTS_POD_TEMPLATE_HASH, type ReplicaSetScrape } from '../lib/signals';
import { CanaryRollout, ModelRelease, type ReleaseGates, ReleaseStrategy, ReleaseType } from '../lib/release';
import { WorkloadKind } from '../lib/torchserve';
import { type AnalysisMetric, measurementPhase } from './helpers/argo-analysis';
import { NAMESPACE, expectValid, expectValidationError, modelService, objectOf, synthObjects } from './helpers/constructs';
import type { Manifest } from './helpers/manifests';

const HOST = 'api.example.com';
const TRAEFIK_GATEWAY_API = Gateways.gatewayApi(GatewayApiImplementation.TRAEFIK);
const KONG_GATEWAY_API = Gateways.gatewayApi(GatewayApiImplementation.KONG);

interface BuildOptions {
  readonly gateway?: GatewayProvider;
  readonly gates?: ReleaseGates;
  /** Attach the route with judgeBy. @default true */
  readonly judge?: boolean;
  /** Hand the route the release's backends. @default true */
  readonly wire?: boolean;
  readonly replicaSetScrape?: ReplicaSetScrape;
  /** Monitor the model with a MonitoringBundle and hand it to judgeBy. @default false */
  readonly monitor?: boolean;
  readonly workload?: WorkloadKind;
  readonly grpc?: boolean;
}

/** A model released by `strategy` in a chart, routed through `gateway`, as a cdk8s user composes them. */
function build(strategy: ReleaseStrategy, options: BuildOptions = {}) {
  const chart = Testing.chart();
  const workload = options.workload ?? (strategy.needsRollout ? WorkloadKind.ROLLOUT : WorkloadKind.DEPLOYMENT);
  const service = modelService(chart, { workload, enableGrpc: options.grpc });
  const release = new ModelRelease(chart, 'release', { service, strategy, gates: options.gates });
  const frontend = new GatewayFrontend(chart, 'frontend', { gateway: options.gateway ?? Gateways.traefik, name: 'serving', namespace: NAMESPACE, hosts: [HOST], tlsIssuerName: 'letsencrypt' });
  const wire = options.wire ?? true;
  const route = frontend.addRoute('route', { service, host: HOST, canary: wire ? release.canaryBackend : undefined, preview: wire ? release.previewBackend : undefined });
  const monitoring = options.monitor ? new MonitoringBundle(chart, 'monitoring', { service, route, runbookBaseUrl: 'https://git.example.com/ml/serving' }) : undefined;
  if (options.judge ?? true) release.judgeBy(route, { replicaSetScrape: options.replicaSetScrape ?? monitoring });
  return { chart, service, release, route, objects: () => synthObjects(chart) };
}

const templateOf = (objects: Manifest[], name: string) => objectOf(objects, 'AnalysisTemplate', name);
const rolloutOf = (objects: Manifest[]) => objectOf(objects, 'Rollout', 'intent-classifier');

describe('ModelRelease', () => {
  it('rolling: keeps the Deployment\'s zero-downtime update and owns nothing else', () => {
    const { release, objects } = build(ReleaseStrategy.rolling());
    expect(release.strategy.type).toBe(ReleaseType.ROLLING);
    expect(release.canaryBackend).toBeUndefined();
    expect(release.previewBackend).toBeUndefined();
    // judgeBy (called by build) has nothing to judge.
    expect(release.analysisTemplateName).toBeUndefined();
    expect(release.usesGatewayApiPlugin).toBe(false);
    expect(release.rolloutStrategy()).toEqual({});
    const all = objects();
    expect(all.filter((o) => ['Rollout', 'AnalysisTemplate'].includes(o.kind))).toEqual([]);
    expect(all.filter((o) => o.kind === 'Service').map((o) => o.metadata.name).sort()).toEqual(['intent-classifier', 'intent-classifier-management', 'intent-classifier-metrics']);
    expect(objectOf(all, 'Deployment', 'intent-classifier').spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('canary: owns the canary Service, which selects the model\'s pods on its inference ports', () => {
    const { release, objects } = build(ReleaseStrategy.canary(), { grpc: true });
    expect(release.canaryBackend).toMatchObject({ name: 'intent-classifier-canary', port: 8080, portName: 'http' });
    expect(release.previewBackend).toBeUndefined();
    release.canaryBackend!.addAnnotation('example.com/owner', 'ml-platform');
    const canary = objectOf(objects(), 'Service', 'intent-classifier-canary');
    expect(canary.metadata).toEqual({
      name: 'intent-classifier-canary',
      namespace: NAMESPACE,
      labels: {
        'app.kubernetes.io/name': 'torchserve',
        'app.kubernetes.io/instance': 'intent-classifier',
        'app.kubernetes.io/component': 'canary',
        'app.kubernetes.io/managed-by': 'model-serving',
      },
      annotations: { 'example.com/owner': 'ml-platform' },
    });
    // Argo Rollouts adds the rollouts-pod-template-hash of the new ReplicaSet to this selector.
    expect(canary.spec).toEqual({
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'intent-classifier' },
      ports: [
        { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
        { name: 'grpc', port: 7070, targetPort: 'grpc', protocol: 'TCP' },
      ],
    });
  });

  it('canary: refuses to synthesize until judgeBy attaches the route that splits the traffic', () => {
    const { chart } = build(ReleaseStrategy.canary(), { judge: false });
    expect(() => Testing.synth(chart)).toThrow("test/release: a canary release needs the model's gateway route, which splits the traffic and whose metrics gate each step: call judgeBy(route)");
  });

  it('canary with the default gates: weighted steps, each paused and then analysed on the canary\'s own gateway series', () => {
    const { release, objects } = build(ReleaseStrategy.canary());
    const all = objects();
    expect(release.analysisTemplateName).toBe('intent-classifier-release-gates');
    expect(release.usesGatewayApiPlugin).toBe(false);
    const analysis = { analysis: { templates: [{ templateName: 'intent-classifier-release-gates' }] } };
    expect(rolloutOf(all).spec.strategy).toEqual({
      canary: {
        stableService: 'intent-classifier',
        canaryService: 'intent-classifier-canary',
        maxUnavailable: 0,
        abortScaleDownDelaySeconds: 30,
        trafficRouting: { traefik: { weightedTraefikServiceName: 'intent-classifier' } },
        steps: [10, 25, 50].flatMap((setWeight) => [{ setWeight }, { pause: { duration: '120s' } }, analysis]),
      },
    });
    const template = templateOf(all, 'intent-classifier-release-gates');
    expect(template.metadata.labels?.['app.kubernetes.io/component']).toBe('release');
    expect(template.metadata.annotations?.['model-serving/measures']).toMatch(/^the canary only: the gateway's series of the canary Service/);
    expect(template.spec.args).toBeUndefined();
    const [errorRate, latency] = template.spec.metrics;
    for (const metric of [errorRate, latency]) {
      expect(metric).toMatchObject({ interval: '60s', count: 3, failureLimit: 1, inconclusiveLimit: 0 });
      expect(metric.provider.prometheus).toMatchObject({ address: DEFAULT_PROMETHEUS_URL, timeout: 30 });
      // Measured over twice the interval, at least a minute; only with 30 requests in it.
      expect(metric.provider.prometheus.query).toMatch(/\[120s\]\)\) >= 30\)$/);
      expect(metric.provider.prometheus.query).toContain('intent-classifier-canary');
    }
    expect(errorRate).toMatchObject({ name: 'error-rate', successCondition: 'len(result) == 1 && !isNaN(result[0]) && result[0] < 0.05' });
    expect(latency).toMatchObject({ name: 'p95-latency', successCondition: 'len(result) == 1 && !isNaN(result[0]) && result[0] < 0.5' });
    expect(latency.provider.prometheus.query).toMatch(/^\(histogram_quantile\(0\.95, /);
  });

  it('canary through an HTTPRoute: Argo Rollouts shifts its backend weights with the Gateway API plugin', () => {
    const { release, objects } = build(ReleaseStrategy.canary(), { gateway: TRAEFIK_GATEWAY_API });
    expect(release.usesGatewayApiPlugin).toBe(true);
    const all = objects();
    expect(rolloutOf(all).spec.strategy.canary.trafficRouting).toEqual({ plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'intent-classifier', namespace: NAMESPACE } } });
    expect(objectOf(all, 'HTTPRoute', 'intent-classifier').spec.rules[0].backendRefs.map((b: Manifest) => [b.name, b.weight])).toEqual([['intent-classifier', 100], ['intent-classifier-canary', 0]]);
  });

  it('canary where the gateway reports stable and canary together: the gates read the new ReplicaSet\'s pods, by hash', () => {
    const { objects } = build(ReleaseStrategy.canary({ weights: [20] }), { gateway: KONG_GATEWAY_API, monitor: true });
    const all = objects();
    const canaryHash = { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } };
    expect(rolloutOf(all).spec.strategy.canary.steps[2]).toEqual({ analysis: { templates: [{ templateName: 'intent-classifier-release-gates' }], args: [canaryHash] } });
    const template = templateOf(all, 'intent-classifier-release-gates');
    expect(template.spec.args).toEqual([{ name: 'canary-hash' }]);
    expect(template.metadata.annotations?.['model-serving/measures']).toMatch(/^the canary only: TorchServe's own metrics of the new ReplicaSet's pods/);
    expect(template.spec.metrics.map((m: Manifest) => m.name)).toEqual(['error-rate', 'mean-latency']);
    for (const metric of template.spec.metrics) expect(metric.provider.prometheus.query).toContain('rollouts_pod_template_hash="{{args.canary-hash}}"');
    // The scrape that makes those series exist: the MonitoringBundle copies the pod label.
    expect(objectOf(all, 'ServiceMonitor', 'intent-classifier').spec.podTargetLabels).toEqual([ROLLOUTS_POD_TEMPLATE_HASH]);
  });

  it('canary: takes its gates and steps from the props, and the gates still fail closed', () => {
    const gates: ReleaseGates = { maxErrorRate: 0.01, maxP95Latency: Duration.millis(250), interval: Duration.seconds(45), count: 5, failureLimit: 2, minRequests: 100, prometheusAddress: 'http://prometheus.observability.svc:9090' };
    const { objects } = build(ReleaseStrategy.canary({ weights: [5, 50], pause: Duration.seconds(30) }), { gates });
    const all = objects();
    expect(rolloutOf(all).spec.strategy.canary.steps.filter((s: Manifest) => !s.analysis)).toEqual([
      { setWeight: 5 }, { pause: { duration: '30s' } }, { setWeight: 50 }, { pause: { duration: '30s' } },
    ]);
    const metrics = templateOf(all, 'intent-classifier-release-gates').spec.metrics as (AnalysisMetric & Manifest)[];
    for (const [metric, limit] of [[metrics[0], 0.01], [metrics[1], 0.25]] as const) {
      expect(metric).toMatchObject({ interval: '45s', count: 5, failureLimit: 2 });
      expect(metric.provider.prometheus.address).toBe('http://prometheus.observability.svc:9090');
      expect(metric.provider.prometheus.query).toMatch(/\[90s\]\)\) >= 100\)$/);
      // What the conditions do, as Argo Rollouts evaluates them: no data is never a pass.
      expect(measurementPhase(metric, [])).toBe('Inconclusive');
      expect(measurementPhase(metric, [NaN])).toBe('Inconclusive');
      expect(measurementPhase(metric, [limit * 0.9])).toBe('Successful');
      expect(measurementPhase(metric, [limit])).toBe('Failed');
    }
  });

  it('blue-green: owns the preview Service, gates the preview before promotion and live traffic after', () => {
    const { release, objects } = build(ReleaseStrategy.blueGreen());
    expect(release.canaryBackend).toBeUndefined();
    expect(release.previewBackend).toMatchObject({ name: 'intent-classifier-preview', port: 8080, portName: 'http' });
    expect(release.analysisTemplateName).toBe('intent-classifier-preview-gates');
    const all = objects();
    const preview = objectOf(all, 'Service', 'intent-classifier-preview');
    expect(preview.metadata.labels?.['app.kubernetes.io/component']).toBe('preview');
    expect(preview.spec.selector).toEqual({ 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'intent-classifier' });
    expect(rolloutOf(all).spec.strategy).toEqual({
      blueGreen: {
        activeService: 'intent-classifier',
        previewService: 'intent-classifier-preview',
        autoPromotionEnabled: false,
        scaleDownDelaySeconds: 600,
        prePromotionAnalysis: { templates: [{ templateName: 'intent-classifier-preview-gates' }] },
        postPromotionAnalysis: { templates: [{ templateName: 'intent-classifier-release-gates' }] },
      },
    });
    expect(templateOf(all, 'intent-classifier-preview-gates').metadata.annotations?.['model-serving/measures']).toMatch(/^the preview only: /);
    expect(templateOf(all, 'intent-classifier-release-gates').metadata.annotations?.['model-serving/measures']).toMatch(/^live traffic after promotion: /);
    expect(objectOf(all, 'IngressRoute', 'intent-classifier-preview').spec.routes[0].services).toEqual([expect.objectContaining({ name: 'intent-classifier-preview' })]);
  });

  it('blue-green: promotes automatically and keeps the old version as long as asked', () => {
    const { objects } = build(ReleaseStrategy.blueGreen({ autoPromotionEnabled: true, scaleDownDelay: Duration.minutes(5) }));
    expect(rolloutOf(objects()).spec.strategy.blueGreen).toMatchObject({ autoPromotionEnabled: true, scaleDownDelaySeconds: 300 });
  });

  it.each([
    [ReleaseStrategy.canary(), Gateways.traefik],
    [ReleaseStrategy.canary(), TRAEFIK_GATEWAY_API],
    [ReleaseStrategy.canary(), Gateways.nginx],
    [ReleaseStrategy.blueGreen(), Gateways.nginx],
    [ReleaseStrategy.blueGreen(), KONG_GATEWAY_API],
  ].map(([strategy, gateway]) => [(strategy as ReleaseStrategy).type, (gateway as GatewayProvider).label, strategy as ReleaseStrategy, gateway as GatewayProvider] as const))(
    'passes strict schema validation: %s through %s', (_type, _label, strategy, gateway) => {
      const { objects } = build(strategy, { gateway, monitor: gateway === KONG_GATEWAY_API });
      expectValid(objects());
    },
  );

  describe('refuses', () => {
    const PATH = 'test/release';

    it.each([
      ['a rolling release of a Rollout', ReleaseStrategy.rolling(), WorkloadKind.ROLLOUT, 'a rolling release runs as a Deployment'],
      ['a canary of a Deployment', ReleaseStrategy.canary(), WorkloadKind.DEPLOYMENT, 'a canary release runs as an Argo Rollout; create the service with workload: WorkloadKind.ROLLOUT'],
      ['a blue-green release of a Deployment', ReleaseStrategy.blueGreen(), WorkloadKind.DEPLOYMENT, 'a blue-green release runs as an Argo Rollout'],
    ])('%s', (_name, strategy, workload, detail) => {
      expectValidationError(() => build(strategy, { workload, judge: false }), 'ModelRelease.WrongWorkload', PATH, detail);
    });

    it.each<[string, ReleaseGates, string]>([
      ['an error rate of 0', { maxErrorRate: 0 }, "'maxErrorRate' (0) must be between 0 and 1"],
      ['an error rate of 1', { maxErrorRate: 1 }, "'maxErrorRate' (1) must be between 0 and 1"],
      ['a latency limit of 0', { maxP95Latency: Duration.millis(0) }, "'maxP95Latency' (0ms) must be positive"],
      ['an interval below 10 seconds', { interval: Duration.seconds(5) }, "'interval' (5s) must be whole seconds from 10s to 1h"],
      ['an interval of a fraction of a second', { interval: Duration.millis(15_500) }, "'interval' (15.5s) must be whole seconds"],
      ['no measurement', { count: 0 }, "'count' (0) must be a positive integer"],
      ['a failure limit that can never trip', { count: 2, failureLimit: 2 }, "'failureLimit' (2) must be below count (2), or a release could never fail"],
      ['a minimum of no requests', { minRequests: 0 }, "'minRequests' (0) must be a positive integer: with 0, no traffic at all would pass"],
      ['a Prometheus address that is no URL', { prometheusAddress: 'prometheus:9090' }, '\'prometheusAddress\' ("prometheus:9090") must be an http(s) URL'],
    ])('%s', (_name, gates, detail) => {
      expectValidationError(() => build(ReleaseStrategy.canary(), { gates, judge: false }), 'ModelRelease.InvalidGate', PATH, detail);
    });

    it('a second route', () => {
      const { release, route } = build(ReleaseStrategy.canary());
      expectValidationError(() => release.judgeBy(route), 'ModelRelease.AlreadyJudged', PATH, 'judgeBy was called already; a release has one route');
    });

    it('a route that does not send traffic to the release\'s canary or preview Service', () => {
      const canary = build(ReleaseStrategy.canary(), { judge: false, wire: false });
      expectValidationError(() => canary.release.judgeBy(canary.route), 'ModelRelease.RouteNotPrepared', PATH, 'the route must send canary traffic to this release\'s canaryBackend ("intent-classifier-canary")');
      const blueGreen = build(ReleaseStrategy.blueGreen(), { judge: false, wire: false });
      expectValidationError(() => blueGreen.release.judgeBy(blueGreen.route), 'ModelRelease.RouteNotPrepared', PATH, 'the route must send preview requests to this release\'s previewBackend ("intent-classifier-preview")');
    });

    it('a route whose gateway exports no request metrics to gate on', () => {
      // Any IModelRoute will do: a route of the caller's own, without metrics.
      for (const strategy of [ReleaseStrategy.canary(), ReleaseStrategy.blueGreen()]) {
        const { release } = build(strategy, { judge: false });
        const route: IModelRoute = { gateway: Gateways.traefik, predictionRouteName: 'own-route', canaryServiceName: release.canaryBackend?.name, previewServiceName: release.previewBackend?.name };
        expectValidationError(() => release.judgeBy(route), 'ModelRelease.NoRequestMetrics', PATH, /^gateway "traefik" exports no per-route request metrics, so (canary steps|the preview) cannot be analysed$/);
      }
    });

    it('a canary on a gateway that cannot tell canary requests apart, without a scrape of the new pods', () => {
      expectValidationError(() => build(ReleaseStrategy.canary(), { gateway: KONG_GATEWAY_API }), 'ModelRelease.NoCanaryMetrics', PATH, "gateway \"gateway-api (kong)\" reports stable and canary requests together, so the gates read TorchServe's metrics of the new ReplicaSet's pods; pass 'replicaSetScrape'");
      // A scrape that does not copy the pod-template hash cannot tell the new pods apart either.
      expectValidationError(() => build(ReleaseStrategy.canary(), { gateway: KONG_GATEWAY_API, replicaSetScrape: { podTargetLabels: [] } }), 'ModelRelease.NoCanaryMetrics', PATH);
    });
  });

  it('keeps CanaryRollout as a deprecated alias, so charts written against the old name still build', () => {
    const chart = Testing.chart();
    const service = modelService(chart, { workload: WorkloadKind.ROLLOUT });
    const release = new CanaryRollout(chart, 'release', { service, strategy: ReleaseStrategy.canary() });
    expect(release).toBeInstanceOf(ModelRelease);
    const route: GatewayRoute = new GatewayFrontend(chart, 'frontend', { gateway: Gateways.traefik, name: 'serving', namespace: NAMESPACE, hosts: [HOST], tlsIssuerName: 'letsencrypt' })
      .addRoute('route', { service, host: HOST, canary: release.canaryBackend });
    release.judgeBy(route);
    expect(rolloutOf(synthObjects(chart)).spec.strategy.canary.canaryService).toBe('intent-classifier-canary');
  });
});

describe('ReleaseStrategy', () => {
  it('defaults: canary in 10, 25 and 50% steps two minutes apart; blue-green promoted by hand, the old version kept 10 minutes', () => {
    expect(ReleaseStrategy.canary().canaryOptions).toEqual({ weights: [10, 25, 50], pause: Duration.minutes(2) });
    expect(ReleaseStrategy.blueGreen().blueGreenOptions).toEqual({ autoPromotionEnabled: false, scaleDownDelay: Duration.minutes(10) });
    expect([ReleaseStrategy.rolling(), ReleaseStrategy.canary(), ReleaseStrategy.blueGreen()].map((s) => s.needsRollout)).toEqual([false, true, true]);
  });

  it.each([
    ['no step', () => ReleaseStrategy.canary({ weights: [] }), '[ReleaseStrategy.InvalidCanaryWeights] canary weights [] must list at least one step'],
    ['a weight of 100', () => ReleaseStrategy.canary({ weights: [50, 100] }), '[ReleaseStrategy.InvalidCanaryWeights] canary weights [50, 100] must each be an integer from 1 to 99 (100 is the promotion itself); 100 is not'],
    ['weights that go down', () => ReleaseStrategy.canary({ weights: [50, 25] }), '[ReleaseStrategy.InvalidCanaryWeights] canary weights [50, 25] must increase step by step; 50 is followed by 25'],
    ['a pause of a fraction of a second', () => ReleaseStrategy.canary({ pause: Duration.millis(1500) }), '[ReleaseStrategy.FractionalSeconds] canary pause (1.5s) must be whole seconds'],
    ['a scale-down delay of a fraction of a second', () => ReleaseStrategy.blueGreen({ scaleDownDelay: Duration.millis(500) }), '[ReleaseStrategy.FractionalSeconds] blue-green scaleDownDelay (0.5s) must be whole seconds'],
  ])('refuses %s with a coded error (no construct to name yet)', (_name, make, message) => {
    expect(make).toThrow(UnscopedValidationError);
    expect(make).toThrow(message);
  });
});
