import { describe, expect, it } from 'vitest';
import type { AlertRule } from '../lib/monitoring';
import { GpuMetrics } from '../lib/signals';
import { monitoredEnvironment } from './fixtures/promtool/monitored-fleet';
import { testRules } from './fixtures/promtool/promtool';
import { EXPORTERS, documentedScrape, storedSeries } from './fixtures/scrape/exporters';
import { RELEASE_FIXTURE_FLEET, editFleet } from './helpers/fleets';

/** The fixture fleet with `gateway` in every environment. */
const fleetWithGateway = (gateway: Record<string, unknown>) => editFleet((d) => {
  for (const env of ['staging', 'production']) d.setIn(['environments', env, 'gateway'], d.createNode(gateway));
}, RELEASE_FIXTURE_FLEET);

const NS = 'fixture-staging';
const SERVICE = 'intent-classifier-metrics';
const POD = 'intent-classifier-7d9f8b6c5d-x2x4z';
const PENDING_POD = 'intent-classifier-7d9f8b6c5d-p9q8r';
/** Another model whose name starts the same: its pods must never trip this model's alerts. */
const OTHER_POD = 'intent-classifier-v2-6c5d4b3a2-zzzzz';
const HOST = 'api.example.com';
const tls = { issuer: 'letsencrypt-prod' };
/** Minutes of input; alerts are evaluated at 30m, past every `for`. */
const SAMPLES = 40;
/** The gateways' monitors with their charts' default honorLabels: false. */
const SCRAPE = documentedScrape();

/** How one gateway's exporter names its request counter and latency histogram for the staging route, as Prometheus stores them. */
interface GatewaySeries {
  readonly gateway: Record<string, unknown>;
  requests(status: 'ok' | 'error'): string;
  bucket(le: string): string;
  /** Histogram bounds in the gateway's unit: 0.05, 0.1, 0.5, 1, 2.5 seconds. */
  readonly bounds: string[];
}

const seconds = ['0.05', '0.1', '0.5', '1', '2.5'];
const millis = ['50', '100', '500', '1000', '2500'];

function kongSeries(gateway: Record<string, unknown>, service: string, route: string): GatewaySeries {
  return {
    gateway,
    requests: (s) => storedSeries(EXPORTERS.kong, 'kong_http_requests_total', { service, route, code: s === 'ok' ? '200' : '503', source: 'service', workspace: 'default', consumer: '' }, SCRAPE),
    bucket: (le) => storedSeries(EXPORTERS.kong, 'kong_request_latency_ms_bucket', { service, route, workspace: 'default', le }, SCRAPE),
    bounds: millis,
  };
}

function traefikSeries(gateway: Record<string, unknown>, service: string): GatewaySeries {
  return {
    gateway,
    requests: (s) => storedSeries(EXPORTERS.traefik, 'traefik_service_requests_total', { service, code: s === 'ok' ? '200' : '502', method: 'POST', protocol: 'http' }, SCRAPE),
    bucket: (le) => storedSeries(EXPORTERS.traefik, 'traefik_service_request_duration_seconds_bucket', { service, code: '200', method: 'POST', protocol: 'http', le }, SCRAPE),
    bounds: seconds,
  };
}

const GATEWAYS: Record<string, (route: string) => GatewaySeries> = {
  // Kong's ingress controller names the Kong service and route after the HTTPRoute and its rule.
  'gateway-api-kong': () => kongSeries({ kind: 'gateway-api', implementation: 'kong', host: HOST, tls }, `httproute.${NS}.intent-classifier.0`, `httproute.${NS}.intent-classifier.0.0`),
  'kong-ingress': () => kongSeries({ kind: 'kong', host: HOST, tls }, `${NS}.intent-classifier.http`, `${NS}.intent-classifier.intent-classifier.${HOST}.http`),
  'gateway-api-envoy-gateway': (route) => {
    const cluster = `httproute/${NS}/${route}/rule/0`;
    const envoy = EXPORTERS['envoy-gateway'];
    return {
      gateway: { kind: 'gateway-api', implementation: 'envoy-gateway', host: HOST, tls },
      requests: (s) => storedSeries(envoy, 'envoy_cluster_upstream_rq_xx', { envoy_cluster_name: cluster, envoy_response_code_class: s === 'ok' ? '2' : '5' }, SCRAPE),
      bucket: (le) => storedSeries(envoy, 'envoy_cluster_upstream_rq_time_bucket', { envoy_cluster_name: cluster, le }, SCRAPE),
      bounds: millis,
    };
  },
  'traefik-crd': () => traefikSeries({ kind: 'traefik', host: HOST, tls }, `${NS}-intent-classifier-8080@kubernetescrd`),
  // Traefik v3.7.6+ Gateway API naming; the release-gate tests cover the v3.2-v3.7.5 form too.
  'gateway-api-traefik': () => traefikSeries({ kind: 'gateway-api', implementation: 'traefik', host: HOST, tls },
    `httproute-${NS}-intent-classifier-gw-${NS}-gates-fixture-ep-websecure-0-1f2e3d4c5b-svc-${NS}-intent-classifier-0@kubernetesgateway`),
  'nginx-ingress': (route) => {
    const own = (status: string) => ({
      status, method: 'POST', path: '/predictions/intent_classifier', namespace: NS, ingress: route, service: 'intent-classifier', canary: '', host: HOST,
      controller_namespace: 'ingress-nginx', controller_class: 'k8s.io/ingress-nginx', controller_pod: 'ingress-nginx-controller-5c8d66c76d-abcde',
    });
    const nginx = EXPORTERS['ingress-nginx'];
    return {
      gateway: { kind: 'nginx', host: HOST, tls },
      requests: (s) => storedSeries(nginx, 'nginx_ingress_controller_requests', own(s === 'ok' ? '200' : '504'), SCRAPE),
      bucket: (le) => storedSeries(nginx, 'nginx_ingress_controller_request_duration_seconds_bucket', { ...own('200'), le }, SCRAPE),
      bounds: seconds,
    };
  },
};

/** A counter rising by `perMinute` every minute. */
const counter = (perMinute: number) => `0+${perMinute}x${SAMPLES}`;
const gauge = (value: number) => `${value}x${SAMPLES}`;
const series = (name: string, values: string) => ({ series: name, values });

type GpuSource = 'dcgm' | 'torchserve';
interface Health { readonly gpu: GpuMetrics; readonly gpuSource: GpuSource }
const health = (gpuSource: GpuSource): Health => ({ gpuSource, gpu: gpuSource === 'dcgm' ? GpuMetrics.dcgm() : GpuMetrics.torchServe() });

/** Latency buckets where every request took between bounds[i - 1] and bounds[i]. */
function histogram(gw: GatewaySeries, bucketIndex: number, perMinute: number) {
  return [...gw.bounds, '+Inf'].map((le, i) => series(gw.bucket(le), counter(i >= bucketIndex ? perMinute : 0)));
}

function gpuMemory(h: Health, usedRatio: number, pod: string, service = SERVICE) {
  if (h.gpuSource === 'torchserve') {
    return [series(`GPUMemoryUtilization{namespace="${NS}",service="${service}",pod="${pod}",DeviceId="0",Level="Host",Hostname="${pod}"}`, gauge(usedRatio * 100))];
  }
  const labels = `exported_namespace="${NS}",exported_pod="${pod}",gpu="0",modelName="NVIDIA A10G",namespace="gpu-operator",pod="nvidia-dcgm-exporter-abcde"`;
  return [
    series(`DCGM_FI_DEV_FB_USED{${labels}}`, gauge(usedRatio * 80000)),
    series(`DCGM_FI_DEV_FB_FREE{${labels}}`, gauge((1 - usedRatio) * 80000)),
  ];
}

function podState(pod: string, ready: boolean, phase: string) {
  return [
    series(`kube_pod_status_ready{namespace="${NS}",pod="${pod}",uid="u-${pod}",condition="true"}`, gauge(ready ? 1 : 0)),
    series(`kube_pod_status_ready{namespace="${NS}",pod="${pod}",uid="u-${pod}",condition="false"}`, gauge(ready ? 0 : 1)),
    series(`kube_pod_status_phase{namespace="${NS}",pod="${pod}",uid="u-${pod}",phase="${phase}"}`, gauge(1)),
  ];
}

function torchServe(requestsPerMinute: number, waitMicrosPerRequest: number) {
  const labels = `namespace="${NS}",service="${SERVICE}",pod="${POD}",model_name="intent_classifier",model_version="1.0.0",hostname="${POD}"`;
  return [
    series(`ts_inference_requests_total{${labels}}`, counter(requestsPerMinute)),
    series(`ts_queue_latency_microseconds{${labels}}`, counter(requestsPerMinute * waitMicrosPerRequest)),
  ];
}

/** Renders an alert's annotation templates the way Prometheus would for these labels and value text. */
function annotationsFor(rule: AlertRule, labels: Record<string, string>, valueText: string): Record<string, string> {
  return Object.fromEntries(Object.entries(rule.annotations).map(([key, template]) => [
    key,
    template
      .replace(/\{\{ \$value \| [^}]+ \}\}/g, valueText)
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, name: string) => labels[name] ?? ''),
  ]));
}

function expectedAlert(rule: AlertRule, seriesLabels: Record<string, string>, valueText = '') {
  const labels = { ...seriesLabels, ...rule.labels };
  return { exp_labels: labels, exp_annotations: annotationsFor(rule, labels, valueText) };
}

function unitTests(rules: AlertRule[], gw: GatewaySeries, h: Health) {
  const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
  const gpuLabels: Record<string, string> = h.gpuSource === 'torchserve'
    ? { namespace: NS, service: SERVICE, pod: POD, DeviceId: '0', Level: 'Host', Hostname: POD }
    : { exported_namespace: NS, exported_pod: POD, gpu: '0', modelName: 'NVIDIA A10G', namespace: 'gpu-operator', pod: 'nvidia-dcgm-exporter-abcde' };
  const check = (alertname: string, exp_alerts: unknown[]) => ({ eval_time: '30m', alertname, exp_alerts });
  const none = (names: string[]) => names.map((name) => check(name, []));
  const all = rules.map((r) => r.alert);

  const bad = {
    name: 'every alert fires on bad data',
    interval: '1m',
    input_series: [
      ...podState(POD, false, 'Running'),
      ...podState(PENDING_POD, false, 'Pending'),
      ...podState(OTHER_POD, false, 'Pending'),
      series(`kube_pod_container_status_restarts_total{namespace="${NS}",pod="${POD}",uid="u",container="torchserve"}`, counter(1)),
      series(`kube_pod_container_status_restarts_total{namespace="${NS}",pod="${OTHER_POD}",uid="o",container="torchserve"}`, counter(1)),
      // 100 requests/s, of which 20/s fail: a 1/6 error ratio; every request took 1-2.5 s.
      series(gw.requests('ok'), counter(6000)),
      series(gw.requests('error'), counter(1200)),
      ...histogram(gw, 4, 7200),
      // 500 ms mean wait in the queue.
      ...torchServe(60, 500_000),
      ...gpuMemory(h, 0.95, POD),
      ...gpuMemory(h, 0.99, OTHER_POD, 'intent-classifier-v2-metrics'),
    ],
    alert_rule_test: [
      check('TorchServeModelNotLoaded', [expectedAlert(byName.TorchServeModelNotLoaded, { pod: POD }), expectedAlert(byName.TorchServeModelNotLoaded, { pod: PENDING_POD })]),
      check('TorchServePodRestarting', [expectedAlert(byName.TorchServePodRestarting, { pod: POD })]),
      check('TorchServeHighLatency', [expectedAlert(byName.TorchServeHighLatency, {}, '2.425s')]),
      check('TorchServeHighErrorRate', [expectedAlert(byName.TorchServeHighErrorRate, {}, '16.67%')]),
      check('TorchServeQueueBacklog', [expectedAlert(byName.TorchServeQueueBacklog, {}, '500')]),
      check('TorchServeGpuMemoryHigh', [expectedAlert(byName.TorchServeGpuMemoryHigh, gpuLabels, '95%')]),
    ],
  };
  const healthy = {
    name: 'no alert on healthy data',
    interval: '1m',
    input_series: [
      ...podState(POD, true, 'Running'),
      series(`kube_pod_container_status_restarts_total{namespace="${NS}",pod="${POD}",uid="u",container="torchserve"}`, gauge(2)),
      // 100 requests/s, 0.1% failing, all within 50-100 ms; 10 ms mean queue wait; 60% GPU memory.
      series(gw.requests('ok'), counter(6000)),
      series(gw.requests('error'), counter(6)),
      ...histogram(gw, 1, 6006),
      ...torchServe(6000, 10_000),
      ...gpuMemory(h, 0.6, POD),
    ],
    alert_rule_test: none(all),
  };
  const idle = {
    name: 'no alert without traffic',
    interval: '1m',
    input_series: [
      ...podState(POD, true, 'Running'),
      series(gw.requests('ok'), gauge(5000)),
      ...histogram(gw, 1, 0),
      ...torchServe(0, 0),
      ...gpuMemory(h, 0.4, POD),
    ],
    alert_rule_test: none(all),
  };
  return { evaluation_interval: '1m', tests: [bad, healthy, idle] };
}

describe('promtool test rules', () => {
  const cases: [string, GpuSource][] = [
    ...Object.keys(GATEWAYS).map((name): [string, GpuSource] => [name, 'dcgm']),
    ['gateway-api-kong', 'torchserve'],
  ];
  it.each(cases)('each alert fires on bad data and stays silent on healthy and idle data (%s, GPU metrics from %s)', (name, gpuSource) => {
    const h = health(gpuSource);
    const probe = GATEWAYS[name]('');
    const env = monitoredEnvironment('staging', { fleetText: fleetWithGateway(probe.gateway), monitoring: { gpuMetrics: h.gpu } });
    const [bundle] = env.bundles;
    const route = env.chart.routes.get('intent_classifier');
    const gw = GATEWAYS[name](route?.predictionRouteName ?? '');
    expect(bundle.alerts.map((a) => a.alert).sort()).toEqual([
      'TorchServeGpuMemoryHigh', 'TorchServeHighErrorRate', 'TorchServeHighLatency', 'TorchServeModelNotLoaded', 'TorchServePodRestarting', 'TorchServeQueueBacklog',
    ]);
    const rule = env.objects.find((o) => o.kind === 'PrometheusRule');
    const run = testRules(rule.spec, unitTests([...bundle.alerts], gw, h));
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });

  it('fails when an alert does not fire as expected, so a pass means something', () => {
    const env = monitoredEnvironment('staging', { fleetText: fleetWithGateway(GATEWAYS['gateway-api-kong']('').gateway) });
    const rule = env.objects.find((o) => o.kind === 'PrometheusRule');
    const gw = GATEWAYS['gateway-api-kong']('');
    const tests = unitTests([...env.bundles[0].alerts], gw, health('dcgm'));
    // Healthy data, but expecting the bad-data alerts.
    const swapped = { ...tests, tests: [{ ...tests.tests[1], alert_rule_test: tests.tests[0].alert_rule_test }] };
    const run = testRules(rule.spec, swapped);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('FAILED');
  });
});
