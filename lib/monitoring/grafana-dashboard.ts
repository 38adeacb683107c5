import { createHash } from 'node:crypto';
import type { RequestMetrics } from '../gateway/request-metrics';
import type { GpuMetrics } from '../signals';
import type { TorchServeMetrics } from '../signals';

/** The dashboard variables every panel query may contain. */
export const DASHBOARD_VARIABLES = { namespace: '$namespace', rateInterval: '$__rate_interval' } as const;

/** What one model's dashboard shows. */
export interface DashboardContext {
  readonly modelName: string;
  readonly environment: string;
  readonly namespace: string;
  /** Kubernetes name of the deployment, part of the dashboard's uid. */
  readonly name: string;
  /** Its metrics, with `$namespace` in every selector. */
  readonly torchServe: TorchServeMetrics;
  readonly gpu: GpuMetrics;
  readonly requests?: RequestMetrics;
  /** The HorizontalPodAutoscaler kube-state-metrics reports on. */
  readonly hpaName: string;
  /** The workload kind; kube-state-metrics reports replicas only for Deployments. */
  readonly workloadKind: string;
  readonly datasource: string;
  readonly latencyThresholdSeconds: number;
  readonly errorRatioThreshold: number;
  readonly gpuMemoryThreshold: number;
  readonly troubleshootingUrl: string;
}

interface Target { readonly expr: string; readonly legendFormat: string }

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly targets: Target[];
  /** A red line at the alert threshold. */
  readonly threshold?: number;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const PANEL_WIDTH = 12;
const PANEL_HEIGHT = 8;

/**
 * The Grafana dashboard of one model deployment, as a JSON object with sorted keys, no
 * timestamps and a uid derived from namespace and name, so the same fleet file always gives the
 * same bytes.
 */
export function renderDashboard(ctx: DashboardContext): Record<string, unknown> {
  const ts = ctx.torchServe;
  const w = DASHBOARD_VARIABLES.rateInterval;
  const ns = DASHBOARD_VARIABLES.namespace;
  const panels: PanelSpec[] = [];

  if (ctx.requests) {
    panels.push({
      title: 'Latency p50 / p95 / p99 (gateway)',
      description: `From the request-duration histogram of the model's route (${ctx.requests.source}); the alert fires at p95 above the red line.`,
      unit: 's',
      threshold: ctx.latencyThresholdSeconds,
      targets: [0.5, 0.95, 0.99].map((q) => ({ expr: ctx.requests!.latencyQuantile(q, w), legendFormat: `p${Math.round(q * 100)}` })),
    });
  } else {
    panels.push({
      title: 'Mean latency (TorchServe)',
      description: 'The gateway exports no per-route histogram, so no percentiles: the mean time TorchServe took per request.',
      unit: 's',
      targets: [{ expr: ts.meanLatencySeconds(w), legendFormat: 'mean' }],
    });
  }
  panels.push({
    title: 'Request rate by model',
    description: 'Prediction requests per second that TorchServe received, for every model in the namespace.',
    unit: 'reqps',
    targets: [{ expr: `sum by (model_name) (rate(ts_inference_requests_total{namespace="${ns}"}[${w}]))`, legendFormat: '{{model_name}}' }],
  });
  if (ctx.requests) {
    panels.push({
      title: 'Error rate (gateway 5xx)',
      description: 'The fraction of requests the gateway answered with a 5xx, including 503s from a full TorchServe queue.',
      unit: 'percentunit',
      threshold: ctx.errorRatioThreshold,
      targets: [{ expr: ctx.requests.errorRatio(w), legendFormat: '5xx ratio' }],
    });
  } else {
    panels.push({
      title: 'Server errors (TorchServe 5xx)',
      description: 'TorchServe counts 5xx per host, across all endpoints including probes; the gateway exports no per-route status codes.',
      unit: 'reqps',
      targets: [{ expr: `sum(rate(${ts.series('Requests5XX')}[${w}]))`, legendFormat: '5xx/s' }],
    });
  }
  const gpuLegend = `{{${ctx.gpu.podLabel}}} GPU {{${ctx.gpu.deviceLabel}}}`;
  panels.push(
    {
      title: 'GPU utilisation',
      description: `Per GPU of the model's pods (${ctx.gpu.source}).`,
      unit: 'percent',
      targets: [{ expr: ctx.gpu.utilizationPercent(ts), legendFormat: gpuLegend }],
    },
    {
      title: 'GPU memory used',
      description: `Per GPU of the model's pods (${ctx.gpu.source}); the alert fires above the red line.`,
      unit: 'percentunit',
      threshold: ctx.gpuMemoryThreshold,
      targets: [{ expr: ctx.gpu.memoryUsedRatio(ts), legendFormat: gpuLegend }],
    },
    {
      title: 'Queue size',
      description: "The mean number of requests waiting in TorchServe's job queue (Little's law: queue-wait seconds accumulated per second).",
      unit: 'short',
      targets: [{ expr: ts.queueLength(w), legendFormat: 'waiting requests' }],
    },
    {
      title: 'Queue latency',
      description: 'The mean time a request waited for a worker (from the counters), and the last wait each pod reported (QueueTime).',
      unit: 'ms',
      targets: [
        { expr: ts.queueWaitMilliseconds(w), legendFormat: 'mean wait' },
        { expr: `max by (pod) (${ts.series('QueueTime')})`, legendFormat: 'last wait {{pod}}' },
      ],
    },
    {
      title: 'Replicas vs autoscaler',
      description: 'What the HorizontalPodAutoscaler wants against what runs and is ready (kube-state-metrics).',
      unit: 'short',
      targets: [
        { expr: `kube_horizontalpodautoscaler_status_desired_replicas{namespace="${ns}",horizontalpodautoscaler="${ctx.hpaName}"}`, legendFormat: 'desired (HPA)' },
        { expr: `kube_horizontalpodautoscaler_spec_max_replicas{namespace="${ns}",horizontalpodautoscaler="${ctx.hpaName}"}`, legendFormat: 'max (HPA)' },
        ...(ctx.workloadKind === 'Deployment'
          ? [{ expr: `kube_deployment_status_replicas{namespace="${ns}",deployment="${ctx.name}"}`, legendFormat: 'replicas' }]
          : []),
        { expr: `sum(kube_pod_status_ready{${ts.podSelector},condition="true"})`, legendFormat: 'ready pods' },
      ],
    },
  );

  const uid = `ts-${createHash('sha256').update(`${ctx.namespace}/${ctx.name}`).digest('hex').slice(0, 16)}`;
  const dashboard = {
    annotations: { list: [] },
    description: `TorchServe model ${ctx.modelName} in ${ctx.environment} (namespace ${ctx.namespace}). Generated by model-serving; edits in Grafana are overwritten.`,
    editable: false,
    graphTooltip: 1,
    links: [{ title: 'Troubleshooting', type: 'link', url: ctx.troubleshootingUrl, targetBlank: true }],
    panels: panels.map((panel, index) => renderPanel(panel, index)),
    refresh: '1m',
    schemaVersion: 39,
    tags: ['model-serving', 'torchserve', ctx.environment],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: { selected: true, text: ctx.datasource, value: ctx.datasource },
          hide: 0,
        },
        {
          // One option: the gateway panels select this environment's route, whatever the namespace.
          name: 'namespace',
          label: 'Namespace',
          type: 'custom',
          query: ctx.namespace,
          current: { selected: true, text: ctx.namespace, value: ctx.namespace },
          options: [{ selected: true, text: ctx.namespace, value: ctx.namespace }],
          hide: 0,
        },
      ],
    },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'utc',
    title: `TorchServe ${ctx.modelName} (${ctx.environment})`,
    uid,
    version: 1,
  };
  return sortKeysDeep(dashboard) as Record<string, unknown>;
}

function renderPanel(spec: PanelSpec, index: number): Record<string, unknown> {
  return {
    id: index + 1,
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: { h: PANEL_HEIGHT, w: PANEL_WIDTH, x: (index % 2) * PANEL_WIDTH, y: Math.floor(index / 2) * PANEL_HEIGHT },
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        custom: { thresholdsStyle: { mode: spec.threshold === undefined ? 'off' : 'line' } },
        thresholds: {
          mode: 'absolute',
          steps: [{ color: 'green', value: null }, ...(spec.threshold === undefined ? [] : [{ color: 'red', value: spec.threshold }])],
        },
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'none' } },
    targets: spec.targets.map((target, i) => ({
      datasource: DATASOURCE,
      expr: target.expr,
      legendFormat: target.legendFormat,
      refId: String.fromCharCode(65 + i),
    })),
  };
}

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    // Without an array of entries per object: a dashboard has hundreds of objects, a fleet thousands of dashboards.
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeysDeep((value as Record<string, unknown>)[key]);
    return sorted;
  }
  return value;
}
