import { Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../../imports/prometheusrule-monitoring.coreos.com';
import { ServiceMonitor, ServiceMonitorSpecEndpointsScheme } from '../../imports/servicemonitor-monitoring.coreos.com';
import type { GatewayRoute } from '../gateway';
import { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_NAME } from '../private/labels';
import { LABEL_VALUE_PATTERN, isLabelKey } from '../private/names';
import { ValidationError } from '../core/validation-error';
import { type ITorchServeWorkload, WorkloadKind } from '../torchserve';
import { renderAlertRules, type AlertRule } from './alert-rules';
import { renderDashboard } from './grafana-dashboard';
import { GpuMetrics, ROLLOUTS_POD_TEMPLATE_HASH, type ReplicaSetScrape, TorchServeMetrics } from '../signals';

/** Properties of a {@link MonitoringBundle}. */
export interface MonitoringBundleProps {
  /** The model deployment to monitor. */
  readonly service: ITorchServeWorkload;
  /**
   * The README's address without a fragment, e.g. "https://github.com/acme/model-serving"; each
   * alert's `runbook_url` is this plus a `#troubleshooting` sub-section anchor.
   */
  readonly runbookBaseUrl: string;
  /**
   * The model's gateway route, whose request metrics give the latency percentiles and the 5xx
   * ratio. @default - no route; then `requestAlerts` must be false
   */
  readonly route?: GatewayRoute;
  /**
   * Alert on the gateway's p95 latency and 5xx ratio. A gateway that exports no per-route request
   * metrics (NGINX Gateway Fabric without NGINX Plus) cannot; set false to go without those two
   * alerts knowingly, and the dashboard shows TorchServe's mean latency instead.
   * @default true
   */
  readonly requestAlerts?: boolean;
  /** The environment's name in alert labels, summaries and the dashboard title. @default - the service's namespace */
  readonly environment?: string;
  /**
   * Labels the Prometheus Operator selects ServiceMonitors and PrometheusRules by
   * (kube-prometheus-stack: `release: <release name>`).
   * @default { release: 'kube-prometheus-stack' }
   */
  readonly prometheusSelectorLabels?: Record<string, string>;
  /** How often Prometheus scrapes TorchServe; the 2-minute autoscaling windows need at most 1 minute. @default Duration.seconds(30) */
  readonly scrapeInterval?: Duration;
  /** Where GPU utilisation and memory come from. @default GpuMetrics.dcgm() */
  readonly gpuMetrics?: GpuMetrics;
  /** Alert when the gateway's p95 latency stays above this for 10 minutes. @default Duration.millis(500) */
  readonly latencyThreshold?: Duration;
  /** Alert when this fraction of requests gets a 5xx for 5 minutes. @default 0.05 */
  readonly errorRatioThreshold?: number;
  /** Alert when a GPU has this fraction of its memory in use for 15 minutes. @default 0.9 */
  readonly gpuMemoryThreshold?: number;
  /** Alert when a pod's containers restart this many times within 30 minutes. @default 3 */
  readonly podRestartsThreshold?: number;
  /** Alert when requests wait this long on average in TorchServe's queue for 10 minutes. @default Duration.millis(250) */
  readonly queueWaitThreshold?: Duration;
  /**
   * Alert when a pod is not ready for this long. Leave room for node provisioning, the archive
   * download and the model load (the startup probe allows `startupTimeout`).
   * @default Duration.minutes(15)
   */
  readonly modelLoadingGracePeriod?: Duration;
  /** Labels the Grafana sidecar picks dashboards up by. @default { grafana_dashboard: '1' } */
  readonly dashboardLabels?: Record<string, string>;
  /** The Grafana folder of the dashboard. @default - the service's part-of label, else "model-serving" */
  readonly dashboardFolder?: string;
  /**
   * The annotation the Grafana sidecar reads the folder from (`sidecar.dashboards.folderAnnotation`
   * in the grafana chart, with `provider.foldersFromFilesStructure: true`).
   * @default 'grafana_folder'
   */
  readonly dashboardFolderAnnotation?: string;
  /** The Prometheus data source the dashboard selects by default. @default 'Prometheus' */
  readonly grafanaDatasource?: string;
}

/**
 * Monitoring for one TorchServe deployment: a ServiceMonitor for its metrics port, a
 * PrometheusRule whose alerts name the model and the environment and link to the README's
 * troubleshooting section, and a Grafana dashboard in a ConfigMap for the sidecar.
 *
 * Every expression uses series real exporters emit: TorchServe's counters through `rate()`,
 * gateway histograms through `histogram_quantile` over `_bucket` series, the DCGM exporter and
 * kube-state-metrics.
 *
 * @see https://prometheus-operator.dev/docs/api-reference/api/
 */
export class MonitoringBundle extends Construct implements ReplicaSetScrape {
  /** The ServiceMonitor scraping port `metrics`. */
  public readonly serviceMonitor: ServiceMonitor;
  /**
   * The pod labels the ServiceMonitor copies onto every series: for an Argo Rollout,
   * `rollouts-pod-template-hash` (stored as `rollouts_pod_template_hash`), so a release gate can
   * read the new ReplicaSet's pods alone.
   */
  public readonly podTargetLabels: readonly string[];
  /** The alerting rules. */
  public readonly prometheusRule: PrometheusRule;
  /** The ConfigMap holding the dashboard JSON. */
  public readonly dashboard: k8s.KubeConfigMap;
  /** The rendered alerting rules, in the order of the rule group. */
  public readonly alerts: readonly AlertRule[];

  constructor(scope: Construct, id: string, props: MonitoringBundleProps) {
    super(scope, id);
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`MonitoringBundle.${code}`, message, this);
    };
    const service = props.service;
    const environment = props.environment ?? service.namespace;

    if (!/^https?:\/\/[^\s#]+$/.test(props.runbookBaseUrl)) {
      fail('InvalidRunbookUrl', `'runbookBaseUrl' ("${props.runbookBaseUrl}") must be an http(s) URL without a "#" fragment, e.g. "https://github.com/acme/model-serving"`);
    }
    const runbookBaseUrl = props.runbookBaseUrl.replace(/\/+$/, '');
    const requestAlerts = props.requestAlerts ?? true;
    if (requestAlerts && !props.route) {
      fail('MissingRoute', "latency and error alerts need the model's 'route'; pass it, or set 'requestAlerts: false' to go without them");
    }
    if (requestAlerts && props.route && !props.route.requestMetrics) {
      fail('NoRequestMetrics', `route "${props.route.predictionRouteName}" is served by a gateway that exports no per-route request metrics, so latency and error alerts cannot be built; set 'requestAlerts: false' to go without them`);
    }
    const requests = requestAlerts ? props.route?.requestMetrics : undefined;

    const latency = props.latencyThreshold ?? Duration.millis(500);
    const errorRatio = props.errorRatioThreshold ?? 0.05;
    const gpuMemory = props.gpuMemoryThreshold ?? 0.9;
    const restarts = props.podRestartsThreshold ?? 3;
    const queueWait = props.queueWaitThreshold ?? Duration.millis(250);
    const loadingGrace = props.modelLoadingGracePeriod ?? Duration.minutes(15);
    const scrapeInterval = props.scrapeInterval ?? Duration.seconds(30);
    if (latency.toMilliseconds() <= 0) fail('InvalidThreshold', `'latencyThreshold' (${latency.toMilliseconds()}ms) must be positive`);
    for (const [name, value] of [['errorRatioThreshold', errorRatio], ['gpuMemoryThreshold', gpuMemory]] as const) {
      if (!(value > 0 && value < 1)) fail('InvalidThreshold', `'${name}' (${value}) must be a fraction between 0 and 1, e.g. 0.05 for 5%`);
    }
    if (!Number.isInteger(restarts) || restarts < 1) fail('InvalidThreshold', `'podRestartsThreshold' (${restarts}) must be a positive integer`);
    if (queueWait.toMilliseconds() <= 0) fail('InvalidThreshold', `'queueWaitThreshold' (${queueWait.toMilliseconds()}ms) must be positive`);
    if (!Number.isInteger(loadingGrace.toMinutes({ integral: false })) || loadingGrace.toMinutes({ integral: false }) < 5) {
      fail('InvalidThreshold', `'modelLoadingGracePeriod' (${loadingGrace.toSeconds({ integral: false })}s) must be whole minutes, at least 5: pods are unready while the model loads`);
    }
    const scrapeSeconds = scrapeInterval.toSeconds({ integral: false });
    if (!Number.isInteger(scrapeSeconds) || scrapeSeconds < 5 || scrapeSeconds > 60) {
      fail('InvalidScrapeInterval', `'scrapeInterval' (${scrapeSeconds}s) must be whole seconds between 5s and 1m; rates over 2-minute windows need several samples`);
    }
    const selectorLabels = props.prometheusSelectorLabels ?? { release: 'kube-prometheus-stack' };
    const dashboardLabels = props.dashboardLabels ?? { grafana_dashboard: '1' };
    const folderAnnotation = props.dashboardFolderAnnotation ?? 'grafana_folder';
    for (const [prop, labels] of [['prometheusSelectorLabels', selectorLabels], ['dashboardLabels', dashboardLabels], ['dashboardFolderAnnotation', { [folderAnnotation]: '' }]] as const) {
      for (const [key, value] of Object.entries(labels)) {
        if (!isLabelKey(key) || !LABEL_VALUE_PATTERN.test(value)) fail('InvalidLabel', `'${prop}' has an invalid label "${key}: ${value}"`);
      }
    }

    const gpu = props.gpuMetrics ?? GpuMetrics.dcgm();
    const metrics = TorchServeMetrics.of(service);
    const metadata = (name: string, extraLabels: Record<string, string>) => ({
      name,
      namespace: service.namespace,
      labels: sortKeys({ ...service.labelsFor('monitoring'), ...extraLabels }),
    });

    this.podTargetLabels = service.workloadRef.kind === WorkloadKind.ROLLOUT ? [ROLLOUTS_POD_TEMPLATE_HASH] : [];
    this.serviceMonitor = new ServiceMonitor(this, 'ServiceMonitor', {
      metadata: metadata(service.name, selectorLabels),
      spec: {
        ...(this.podTargetLabels.length > 0 ? { podTargetLabels: [...this.podTargetLabels] } : {}),
        // The metrics Service's stable labels; its version label changes with every release.
        selector: { matchLabels: { [LABEL_NAME]: service.selectorLabels[LABEL_NAME], [LABEL_INSTANCE]: service.selectorLabels[LABEL_INSTANCE], [LABEL_COMPONENT]: 'metrics' } },
        namespaceSelector: { matchNames: [service.namespace] },
        endpoints: [{ port: 'metrics', path: '/metrics', scheme: ServiceMonitorSpecEndpointsScheme.HTTP, interval: `${scrapeSeconds}s`, scrapeTimeout: `${Math.min(10, scrapeSeconds)}s` }],
      },
    });

    this.alerts = renderAlertRules({
      modelName: service.modelName,
      environment,
      runbookBaseUrl,
      torchServe: metrics,
      gpu,
      requests,
      latencyThresholdSeconds: latency.toMilliseconds() / 1000,
      errorRatioThreshold: errorRatio,
      gpuMemoryThreshold: gpuMemory,
      podRestartsThreshold: restarts,
      queueWaitThresholdMilliseconds: queueWait.toMilliseconds(),
      modelLoadingGracePeriod: promDuration(loadingGrace),
    });
    this.prometheusRule = new PrometheusRule(this, 'Rules', {
      metadata: metadata(service.name, selectorLabels),
      spec: { groups: [{ name: `torchserve-${service.name}`, rules: this.alerts.map((rule) => ({ ...rule, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr) })) }] },
    });

    // Rendered at synth, from the service's state then: the HPA is whatever autoscaler it has.
    const dashboardJson = () => renderDashboard({
      modelName: service.modelName,
      environment,
      namespace: service.namespace,
      name: service.name,
      torchServe: TorchServeMetrics.of(service, { namespace: '$namespace' }),
      gpu,
      requests,
      hpaName: service.scaler?.hpaName ?? service.name,
      workloadKind: service.workloadRef.kind,
      datasource: props.grafanaDatasource ?? 'Prometheus',
      latencyThresholdSeconds: latency.toMilliseconds() / 1000,
      errorRatioThreshold: errorRatio,
      gpuMemoryThreshold: gpuMemory,
      troubleshootingUrl: `${runbookBaseUrl}#troubleshooting`,
    });
    this.dashboard = new k8s.KubeConfigMap(this, 'Dashboard', {
      metadata: {
        ...metadata(`${service.name}-dashboard`, dashboardLabels),
        annotations: { [folderAnnotation]: props.dashboardFolder ?? service.partOf ?? 'model-serving' },
      },
      // Rendered when the ConfigMap is: a fleet's dashboards (16 KB each) are not all held at once.
      data: { [`${service.name}.json`]: Lazy.any({ produce: () => `${JSON.stringify(dashboardJson(), null, 2)}\n` }) as unknown as string },
    });
  }
}

/** A Prometheus duration such as "15m" or "90s". */
function promDuration(duration: Duration): string {
  const seconds = duration.toSeconds();
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function sortKeys(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)));
}
