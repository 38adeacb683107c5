import fs from 'node:fs';
import path from 'node:path';
import { Chart, Duration, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GatewayApiImplementation, GatewayRoute, Gateways } from '../lib/gateway';
import { MonitoringBundle, TroubleshootingAnchor, type MonitoringBundleProps } from '../lib/monitoring';
import { GpuMetrics } from '../lib/signals';
import { ModelArchive, TorchServeService } from '../lib/torchserve';
import { ManifestValidator, formatIssue } from '../lib/validation';
import { RUNBOOK_BASE_URL, monitoredEnvironment, objectsOf } from './fixtures/promtool/monitored-fleet';
import { REPO_ROOT } from './helpers/app';

const validator = ManifestValidator.load();
const ALERTS = ['TorchServeModelNotLoaded', 'TorchServePodRestarting', 'TorchServeHighLatency', 'TorchServeHighErrorRate', 'TorchServeQueueBacklog', 'TorchServeGpuMemoryHigh'];

function synth(props: Partial<MonitoringBundleProps> = {}, implementation = GatewayApiImplementation.KONG) {
  const chart = new Chart(Testing.app(), 'test');
  const service = new TorchServeService(chart, 'intent', {
    modelName: 'intent_classifier',
    modelVersion: '1.0.0',
    modelArchive: ModelArchive.fromUri('s3://models/intent_classifier/1.0.0/intent_classifier.mar'),
    handler: 'handlers/h.py',
    image: 'pytorch/torchserve:0.12.0-gpu',
    cpu: '4',
    memory: '16Gi',
    namespace: 'ml',
    partOf: 'betterprompts',
  });
  const route = new GatewayRoute(chart, 'route', { gateway: Gateways.gatewayApi(implementation), gatewayName: 'gw', service, host: 'api.example.com', tlsSecretName: 'tls' });
  const bundle = new MonitoringBundle(chart, 'monitoring', { service, route, runbookBaseUrl: RUNBOOK_BASE_URL, environment: 'production', ...props });
  const objects = Testing.synth(chart) as any[];
  const get = (kind: string, name?: string) => objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  const dashboardMap = get('ConfigMap', 'intent-classifier-dashboard');
  const dashboardText = dashboardMap.data['intent-classifier.json'] as string;
  return { bundle, objects, get, service, dashboardMap, dashboardText, dashboard: JSON.parse(dashboardText) };
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to "-". */
function githubAnchors(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{2,6} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
}

describe('MonitoringBundle', () => {
  it('scrapes the metrics port with a ServiceMonitor kube-prometheus-stack selects', () => {
    const { get } = synth();
    const monitor = get('ServiceMonitor');
    expect(monitor.metadata).toMatchObject({ name: 'intent-classifier', namespace: 'ml', labels: { release: 'kube-prometheus-stack', 'app.kubernetes.io/component': 'monitoring' } });
    expect(monitor.spec).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'intent-classifier', 'app.kubernetes.io/component': 'metrics' } },
      namespaceSelector: { matchNames: ['ml'] },
      endpoints: [{ port: 'metrics', path: '/metrics', scheme: 'http', interval: '30s', scrapeTimeout: '10s' }],
    });
    // The selector picks the metrics Service, and that Service has a port named "metrics" on 8082.
    const metricsService = get('Service', 'intent-classifier-metrics');
    expect(metricsService.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(metricsService.spec.ports).toEqual([{ name: 'metrics', port: 8082, targetPort: 'metrics', protocol: 'TCP' }]);
    const custom = synth({ prometheusSelectorLabels: { prometheus: 'gpu' } });
    expect(custom.get('ServiceMonitor').metadata.labels).toMatchObject({ prometheus: 'gpu' });
    expect(custom.get('ServiceMonitor').metadata.labels).not.toHaveProperty('release');
  });

  it('defines every alert with a severity, a for, and annotations naming the model, the environment and the runbook', () => {
    const { get } = synth();
    const rule = get('PrometheusRule');
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const [group] = rule.spec.groups;
    expect(group.name).toBe('torchserve-intent-classifier');
    expect(group.rules.map((r: any) => r.alert)).toEqual(ALERTS);
    const anchors = githubAnchors(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf-8'));
    expect(anchors).toContain('troubleshooting');
    for (const r of group.rules) {
      expect(['warning', 'critical']).toContain(r.labels.severity);
      expect(r.labels).toMatchObject({ environment: 'production', model: 'intent_classifier' });
      expect(r.for).toMatch(/^\d+[mh]$/);
      for (const text of [r.annotations.summary, r.annotations.description]) {
        expect(text).toContain('intent_classifier');
        expect(text).toContain('production');
      }
      const url = new URL(r.annotations.runbook_url);
      expect(`${url.origin}${url.pathname}`).toBe(RUNBOOK_BASE_URL);
      expect(Object.values(TroubleshootingAnchor)).toContain(url.hash.slice(1));
      expect(anchors, `README.md has no heading for ${url.hash}`).toContain(url.hash.slice(1));
    }
  });

  it('uses rate() on TorchServe counters and histogram_quantile over the gateway _bucket series', () => {
    const { bundle } = synth();
    const expr = Object.fromEntries(bundle.alerts.map((a) => [a.alert, a.expr]));
    expect(expr.TorchServeHighLatency).toBe('histogram_quantile(0.95, sum by (le) (rate(kong_request_latency_ms_bucket{route=~"httproute\\\\.ml\\\\.intent-classifier\\\\..+"}[5m]))) * 0.001 > 0.5');
    expect(expr.TorchServeQueueBacklog).toBe('sum(rate(ts_queue_latency_microseconds{namespace="ml",service="intent-classifier-metrics"}[5m])) / clamp_min(sum(rate(ts_inference_requests_total{namespace="ml",service="intent-classifier-metrics"}[5m])), 1e-9) / 1000 > 250');
    expect(expr.TorchServeGpuMemoryHigh).toBe('DCGM_FI_DEV_FB_USED{exported_namespace="ml",exported_pod=~"intent-classifier-[a-z0-9]+-[a-z0-9]{5}"} / (DCGM_FI_DEV_FB_USED{exported_namespace="ml",exported_pod=~"intent-classifier-[a-z0-9]+-[a-z0-9]{5}"} + DCGM_FI_DEV_FB_FREE{exported_namespace="ml",exported_pod=~"intent-classifier-[a-z0-9]+-[a-z0-9]{5}"}) > 0.9');
    for (const e of Object.values(expr)) {
      for (const counter of ['ts_queue_latency_microseconds', 'ts_inference_requests_total', 'kube_pod_container_status_restarts_total', 'kong_http_requests_total']) {
        // Every use of a counter sits directly inside rate() or increase().
        for (const m of e.matchAll(new RegExp(counter, 'g'))) expect(e.slice(0, m.index)).toMatch(/(rate|increase)\($/);
      }
      if (e.includes('histogram_quantile')) expect(e).toMatch(/histogram_quantile\(0\.95, sum by \(le\) \(rate\(\w+_bucket\{/);
    }
    expect(synth({ gpuMetrics: GpuMetrics.torchServe() }).bundle.alerts.find((a) => a.alert === 'TorchServeGpuMemoryHigh')!.expr)
      .toBe('GPUMemoryUtilization{namespace="ml",service="intent-classifier-metrics"} / 100 > 0.9');
  });

  it('takes per-environment thresholds', () => {
    const { bundle } = synth({
      latencyThreshold: Duration.seconds(1),
      errorRatioThreshold: 0.1,
      gpuMemoryThreshold: 0.95,
      podRestartsThreshold: 5,
      queueWaitThreshold: Duration.millis(400),
      modelLoadingGracePeriod: Duration.minutes(20),
    });
    const by = Object.fromEntries(bundle.alerts.map((a) => [a.alert, a]));
    expect(by.TorchServeHighLatency.expr).toMatch(/ > 1$/);
    expect(by.TorchServeHighLatency.annotations.summary).toBe('TorchServe model intent_classifier in production: p95 latency above 1s');
    expect(by.TorchServeHighErrorRate.expr).toMatch(/ > 0.1$/);
    expect(by.TorchServeGpuMemoryHigh.expr).toMatch(/ > 0.95$/);
    expect(by.TorchServePodRestarting.expr).toMatch(/\[30m\]\)\) >= 5$/);
    expect(by.TorchServeQueueBacklog.expr).toMatch(/ > 400$/);
    expect(by.TorchServeModelNotLoaded.for).toBe('20m');
  });

  it('fails at construction when the gateway exports no request metrics, unless the alerts are switched off knowingly', () => {
    expect(() => synth({}, GatewayApiImplementation.NGINX_GATEWAY_FABRIC)).toThrow(
      '[MonitoringBundle.NoRequestMetrics] test/monitoring: route "intent-classifier": NGINX Gateway Fabric exports no per-route request metrics (only with NGINX Plus), which release gates and latency and error alerts read; set requestAlerts: false to go without latency and error alerts',
    );
    const { bundle, dashboard } = synth({ requestAlerts: false }, GatewayApiImplementation.NGINX_GATEWAY_FABRIC);
    expect(bundle.alerts.map((a) => a.alert)).toEqual(['TorchServeModelNotLoaded', 'TorchServePodRestarting', 'TorchServeQueueBacklog', 'TorchServeGpuMemoryHigh']);
    expect(dashboard.panels[0].title).toBe('Mean latency (TorchServe)');
  });

  it.each([
    ['no route', { route: undefined }, "[MonitoringBundle.MissingRoute] test/monitoring: latency and error alerts read the gateway's request metrics, and the model has no gateway route; route it through a gateway, or set requestAlerts: false to go without those alerts"],
    ['a runbook URL with a fragment', { runbookBaseUrl: 'https://github.com/acme/model-serving#troubleshooting' }, '[MonitoringBundle.InvalidRunbookUrl] test/monitoring: \'runbookBaseUrl\' ("https://github.com/acme/model-serving#troubleshooting") must not have a "#" fragment; an anchor is added to it'],
    ['an error ratio given in percent', { errorRatioThreshold: 5 }, "[MonitoringBundle.InvalidThreshold] test/monitoring: 'errorRatioThreshold' (5) must be a fraction between 0 and 1, e.g. 0.05 for 5%"],
    ['a grace period shorter than a model load', { modelLoadingGracePeriod: Duration.minutes(2) }, "[MonitoringBundle.InvalidThreshold] test/monitoring: 'modelLoadingGracePeriod' (120s) must be whole minutes, at least 5: pods are unready while the model loads"],
    ['a scrape interval too long for 2-minute rates', { scrapeInterval: Duration.minutes(2) }, "[MonitoringBundle.InvalidScrapeInterval] test/monitoring: 'scrapeInterval' (120s) must be whole seconds between 5s and 1m; rates over 2-minute windows need several samples"],
    ['an invalid selector label', { prometheusSelectorLabels: { 'release!': 'x' } }, '[MonitoringBundle.InvalidLabel] test/monitoring: \'prometheusSelectorLabels\' has an invalid label "release!: x"'],
  ] as [string, Partial<MonitoringBundleProps>, string][])('fails on %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('ships a deterministic Grafana dashboard the sidecar picks up, with the panels on-call needs', () => {
    const { dashboardMap, dashboardText, dashboard } = synth();
    expect(dashboardMap.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/component': 'monitoring' });
    expect(dashboardMap.metadata.annotations).toEqual({ grafana_folder: 'betterprompts' });
    expect(dashboard.panels.map((p: any) => p.title)).toEqual([
      'Latency p50 / p95 / p99 (gateway)', 'Request rate by model', 'Error rate (gateway 5xx)', 'GPU utilisation',
      'GPU memory used', 'Queue size', 'Queue latency', 'Replicas vs autoscaler',
    ]);
    const exprs = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr)).join('\n');
    for (const needed of ['histogram_quantile(0.5,', 'histogram_quantile(0.95,', 'histogram_quantile(0.99,', 'sum by (model_name) (rate(ts_inference_requests_total{namespace="$namespace"}',
      'DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_FB_USED', 'kube_horizontalpodautoscaler_status_desired_replicas{namespace="$namespace",horizontalpodautoscaler="intent-classifier"}',
      'kube_deployment_status_replicas{namespace="$namespace",deployment="intent-classifier"}', 'QueueTime']) {
      expect(exprs).toContain(needed);
    }
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
    expect(dashboard.templating.list.map((v: any) => [v.name, v.type, v.current.value])).toEqual([['datasource', 'datasource', 'Prometheus'], ['namespace', 'custom', 'ml']]);
    expect(dashboard.uid).toMatch(/^ts-[0-9a-f]{16}$/);
    // No clock in the output, keys sorted at every level, and the same bytes on every synth.
    expect(dashboardText).not.toMatch(/"(id|iteration|created|updated)": "?\d{10,}/);
    const sortedTwice = JSON.stringify(JSON.parse(dashboardText), null, 2);
    expect(`${sortedTwice}\n`).toBe(dashboardText);
    const keysSorted = (v: unknown): boolean => Array.isArray(v) ? v.every(keysSorted)
      : v !== null && typeof v === 'object' ? Object.keys(v).join() === Object.keys(v).sort().join() && Object.values(v).every(keysSorted) : true;
    expect(keysSorted(dashboard)).toBe(true);
    expect(synth().dashboardText).toBe(dashboardText);
    expect(synth({ grafanaDatasource: 'Thanos', dashboardFolder: 'GPU' }).dashboardMap.metadata.annotations).toEqual({ grafana_folder: 'GPU' });
  });

  it('passes strict schema validation (ServiceMonitor, PrometheusRule, dashboard ConfigMap)', () => {
    const { objects } = synth();
    const mine = objectsOf(objects, ['ServiceMonitor', 'PrometheusRule'], (name) => name.endsWith('-dashboard'));
    expect(mine).toHaveLength(3);
    expect(mine.flatMap((o) => validator.validate(o)).map(formatIssue)).toEqual([]);
  });

  it.each(['staging', 'production'])('matches the %s snapshot', async (environment) => {
    const { objects } = monitoredEnvironment(environment);
    const mine = objectsOf(objects, ['ServiceMonitor', 'PrometheusRule'], (name) => name.endsWith('-dashboard'));
    expect(mine.flatMap((o) => validator.validate(o)).map(formatIssue)).toEqual([]);
    await expect(mine.map((o) => stringify(o, { lineWidth: 0 })).join('---\n')).toMatchFileSnapshot(`./__snapshots__/monitoring-${environment}.k8s.yaml`);
  });
});
