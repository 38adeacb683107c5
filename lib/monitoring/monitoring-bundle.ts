import { Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../../imports/prometheusrule-monitoring.coreos.com';
import { ServiceMonitor, ServiceMonitorSpecEndpointsScheme } from '../../imports/servicemonitor-monitoring.coreos.com';
import { GatewayFeature, type GatewayProvider, type GatewayRoute } from '../gateway';
import { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_NAME } from '../private/labels';
import { LABEL_VALUE_PATTERN, isLabelKey } from '../private/names';
import { sortKeys } from '../private/sort-keys';
import { httpUrlProblem } from '../private/url';
import { ValidationError } from '../core/validation-error';
import { type ITorchServeWorkload, WorkloadKind } from '../torchserve';
import { renderAlertRules, type AlertRule } from './alert-rules';
import { renderDashboard } from './grafana-dashboard';
import { GpuMetrics, ROLLOUTS_POD_TEMPLATE_HASH, type ReplicaSetScrape, TorchServeMetrics } from '../signals';

/** What a {@link MonitoringBundle} uses for an optional prop left out; the fleet file leaves them out too. */
export const MONITORING_DEFAULTS = {
  requestAlerts: true,
  prometheusSelectorLabels: { release: 'kube-prometheus-stack' } as Readonly<Record<string, string>>,
  scrapeInterval: Duration.seconds(30),
  latencyThreshold: Duration.millis(500),
  errorRatioThreshold: 0.05,
  gpuMemoryThreshold: 0.9,
  podRestartsThreshold: 3,
  queueWaitThreshold: Duration.millis(250),
  modelLoadingGracePeriod: Duration.minutes(15),
  dashboardLabels: { grafana_dashboard: '1' } as Readonly<Record<string, string>>,
  dashboardFolderAnnotation: 'grafana_folder',
  grafanaDatasource: 'Prometheus',
} as const;

/**
 * Why latency and error alerts (`requestAlerts`, left out: on) cannot be built for a model routed
 * through `gateway` (`undefined`: not routed), or `undefined`: they read the gateway's per-route
 * request metrics. The fleet file reports it at monitoring.requestAlerts and the construct throws it.
 */
export function requestAlertsProblem(requestAlerts: boolean | undefined, gateway: GatewayProvider | undefined): string | undefined {
  if (!(requestAlerts ?? MONITORING_DEFAULTS.requestAlerts)) return undefined;
  if (gateway === undefined) return "latency and error alerts read the gateway's request metrics, and the model has no gateway route; route it through a gateway, or set requestAlerts: false to go without those alerts";
  const reason = gateway.unsupported(GatewayFeature.REQUEST_METRICS);
  return reason === undefined ? undefined : `${reason}; set requestAlerts: false to go without latency and error alerts`;
}

/**
 * Why `url` cannot be the runbook base of the alerts, or `undefined`: an http(s) URL without a
 * fragment, since each alert appends its own anchor. The fleet file's monitoring.runbookBaseUrl
 * follows it. Completes "got <url>; ...".
 */
export function runbookUrlProblem(url: string): string | undefined {
  return httpUrlProblem(url, 'the http(s) URL of the README, e.g. "https://github.com/acme/model-serving"', { noFragment: true });
}

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
   * metrics (NGINX Gateway Fabric without NGINX Plus) cannot (see {@link requestAlertsProblem});
   * set false to go without those two alerts knowingly, and the dashboard shows TorchServe's mean
   * latency instead.
   * @default MONITORING_DEFAULTS.requestAlerts (true)
   */
  readonly requestAlerts?: boolean;
  /** The environment's name in alert labels, summaries and the dashboard title. @default - the service's namespace */
  readonly environment?: string;
  /**
   * Labels the Prometheus Operator selects ServiceMonitors and PrometheusRules by
   * (kube-prometheus-stack: `release: <release name>`).
   * @default MONITORING_DEFAULTS.prometheusSelectorLabels ({ release: 'kube-prometheus-stack' })
   */
  readonly prometheusSelectorLabels?: Record<string, string>;
  /** How often Prometheus scrapes TorchServe; the 2-minute autoscaling windows need at most 1 minute. @default MONITORING_DEFAULTS.scrapeInterval (30 s) */
  readonly scrapeInterval?: Duration;
  /** Where GPU utilisation and memory come from. @default GpuMetrics.dcgm() */
  readonly gpuMetrics?: GpuMetrics;
  /** Alert when the gateway's p95 latency stays above this for 10 minutes. @default MONITORING_DEFAULTS.latencyThreshold (500 ms) */
  readonly latencyThreshold?: Duration;
  /** Alert when this fraction of requests gets a 5xx for 5 minutes. @default MONITORING_DEFAULTS.errorRatioThreshold (0.05) */
  readonly errorRatioThreshold?: number;
  /** Alert when a GPU has this fraction of its memory in use for 15 minutes. @default MONITORING_DEFAULTS.gpuMemoryThreshold (0.9) */
  readonly gpuMemoryThreshold?: number;
  /** Alert when a pod's containers restart this many times within 30 minutes. @default MONITORING_DEFAULTS.podRestartsThreshold (3) */
  readonly podRestartsThreshold?: number;
  /** Alert when requests wait this long on average in TorchServe's queue for 10 minutes. @default MONITORING_DEFAULTS.queueWaitThreshold (250 ms) */
  readonly queueWaitThreshold?: Duration;
  /**
   * Alert when a pod is not ready for this long. Leave room for node provisioning, the archive
   * download and the model load (the startup probe allows `startupTimeout`).
   * @default MONITORING_DEFAULTS.modelLoadingGracePeriod (15 min)
   */
  readonly modelLoadingGracePeriod?: Duration;
  /** Labels the Grafana sidecar picks dashboards up by. @default MONITORING_DEFAULTS.dashboardLabels ({ grafana_dashboard: '1' }) */
  readonly dashboardLabels?: Record<string, string>;
  /** The Grafana folder of the dashboard. @default - the service's part-of label, else "model-serving" */
  readonly dashboardFolder?: string;
  /**
   * The annotation the Grafana sidecar reads the folder from (`sidecar.dashboards.folderAnnotation`
   * in the grafana chart, with `provider.foldersFromFilesStructure: true`).
   * @default MONITORING_DEFAULTS.dashboardFolderAnnotation ('grafana_folder')
   */
  readonly dashboardFolderAnnotation?: string;
  /** The Prometheus data source the dashboard selects by default. @default MONITORING_DEFAULTS.grafanaDatasource ('Prometheus') */
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

    const runbookIssue = runbookUrlProblem(props.runbookBaseUrl);
    if (runbookIssue) fail('InvalidRunbookUrl', `'runbookBaseUrl' ("${props.runbookBaseUrl}") ${runbookIssue}`);
    const runbookBaseUrl = props.runbookBaseUrl.replace(/\/+$/, '');
    const requestAlerts = props.requestAlerts ?? MONITORING_DEFAULTS.requestAlerts;
    const alertsIssue = requestAlertsProblem(requestAlerts, props.route?.gateway);
    if (alertsIssue && !props.route) fail('MissingRoute', alertsIssue);
    if (alertsIssue) fail('NoRequestMetrics', `route "${props.route?.predictionRouteName}": ${alertsIssue}`);
    const requests = requestAlerts ? props.route?.requestMetrics : undefined;

    const latency = props.latencyThreshold ?? MONITORING_DEFAULTS.latencyThreshold;
    const errorRatio = props.errorRatioThreshold ?? MONITORING_DEFAULTS.errorRatioThreshold;
    const gpuMemory = props.gpuMemoryThreshold ?? MONITORING_DEFAULTS.gpuMemoryThreshold;
    const restarts = props.podRestartsThreshold ?? MONITORING_DEFAULTS.podRestartsThreshold;
    const queueWait = props.queueWaitThreshold ?? MONITORING_DEFAULTS.queueWaitThreshold;
    const loadingGrace = props.modelLoadingGracePeriod ?? MONITORING_DEFAULTS.modelLoadingGracePeriod;
    const scrapeInterval = props.scrapeInterval ?? MONITORING_DEFAULTS.scrapeInterval;
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
    const selectorLabels = props.prometheusSelectorLabels ?? MONITORING_DEFAULTS.prometheusSelectorLabels;
    const dashboardLabels = props.dashboardLabels ?? MONITORING_DEFAULTS.dashboardLabels;
    const folderAnnotation = props.dashboardFolderAnnotation ?? MONITORING_DEFAULTS.dashboardFolderAnnotation;
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
      datasource: props.grafanaDatasource ?? MONITORING_DEFAULTS.grafanaDatasource,
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
