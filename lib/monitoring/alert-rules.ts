import type { RequestMetrics } from '../gateway/request-metrics';
import type { GpuMetrics } from '../signals';
import type { TorchServeMetrics } from '../signals';

/**
 * The sub-sections of the README's "Troubleshooting" section; each
 * alert's `runbook_url` points at one. GitHub derives these anchors from the headings.
 */
export enum TroubleshootingAnchor {
  MODEL_LOADING = 'model-loading-failures',
  HIGH_LATENCY = 'high-latency',
  QUEUE_BACKLOG = 'queue-backlog',
  HIGH_ERROR_RATE = 'high-error-rate',
  GPU_MEMORY = 'gpu-memory-pressure',
  POD_RESTARTS = 'pod-restarts',
}

/** One alerting rule, in the Prometheus rule-file format. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** What the alerts of one model deployment are about. */
export interface AlertContext {
  readonly modelName: string;
  readonly environment: string;
  readonly runbookBaseUrl: string;
  readonly torchServe: TorchServeMetrics;
  readonly gpu: GpuMetrics;
  /** The gateway's metrics for the model's route; no latency or error alerts without. */
  readonly requests?: RequestMetrics;
  readonly latencyThresholdSeconds: number;
  readonly errorRatioThreshold: number;
  readonly gpuMemoryThreshold: number;
  readonly podRestartsThreshold: number;
  readonly queueWaitThresholdMilliseconds: number;
  readonly modelLoadingGracePeriod: string;
}

/** The window every alert's rates are taken over. */
const WINDOW = '5m';
/** The window pod restarts are counted over. */
export const RESTART_WINDOW = '30m';

/** The alerting rules for one model deployment, in a fixed order. */
export function renderAlertRules(ctx: AlertContext): AlertRule[] {
  const ts = ctx.torchServe;
  const who = `model ${ctx.modelName} in ${ctx.environment}`;
  const rule = (alert: string, severity: string, forDuration: string, anchor: TroubleshootingAnchor, expr: string, summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity, environment: ctx.environment, model: ctx.modelName },
    annotations: {
      summary: `TorchServe ${who}: ${summary}`,
      description,
      runbook_url: `${ctx.runbookBaseUrl}#${anchor}`,
    },
  });

  const rules: AlertRule[] = [
    rule('TorchServeModelNotLoaded', 'critical', ctx.modelLoadingGracePeriod, TroubleshootingAnchor.MODEL_LOADING,
      // The readiness probe passes only once minWorkers workers are READY, so an unready pod is one
      // whose model did not load; a Pending pod never got a GPU node or its archive.
      `max by (pod) (kube_pod_status_ready{${ts.podSelector},condition="false"}) == 1`
      + ` or max by (pod) (kube_pod_status_phase{${ts.podSelector},phase="Pending"}) == 1`,
      'a pod has not loaded the model',
      `Pod {{ $labels.pod }} of ${who} has not been ready for ${ctx.modelLoadingGracePeriod}: its workers did not load the model, or it is still Pending.`),
    rule('TorchServePodRestarting', 'warning', '5m', TroubleshootingAnchor.POD_RESTARTS,
      `sum by (pod) (increase(kube_pod_container_status_restarts_total{${ts.podSelector}}[${RESTART_WINDOW}])) >= ${ctx.podRestartsThreshold}`,
      'a pod keeps restarting',
      `Containers of pod {{ $labels.pod }} of ${who} restarted at least ${ctx.podRestartsThreshold} times in ${RESTART_WINDOW}.`),
  ];
  if (ctx.requests) {
    rules.push(
      rule('TorchServeHighLatency', 'warning', '10m', TroubleshootingAnchor.HIGH_LATENCY,
        `${ctx.requests.latencyQuantile(0.95, WINDOW)} > ${ctx.latencyThresholdSeconds}`,
        `p95 latency above ${formatSeconds(ctx.latencyThresholdSeconds)}`,
        `The p95 latency of ${who} at the gateway is {{ $value | humanizeDuration }} (threshold ${formatSeconds(ctx.latencyThresholdSeconds)}).`),
      rule('TorchServeHighErrorRate', 'critical', '5m', TroubleshootingAnchor.HIGH_ERROR_RATE,
        `${ctx.requests.errorRatio(WINDOW)} > ${ctx.errorRatioThreshold}`,
        `more than ${formatPercent(ctx.errorRatioThreshold)} of requests fail`,
        `{{ $value | humanizePercentage }} of the requests for ${who} were answered with a 5xx at the gateway (threshold ${formatPercent(ctx.errorRatioThreshold)}).`),
    );
  }
  rules.push(
    rule('TorchServeQueueBacklog', 'warning', '10m', TroubleshootingAnchor.QUEUE_BACKLOG,
      `${ts.queueWaitMilliseconds(WINDOW)} > ${ctx.queueWaitThresholdMilliseconds}`,
      `requests wait more than ${ctx.queueWaitThresholdMilliseconds}ms in the queue`,
      `Requests for ${who} wait {{ $value | printf "%.0f" }}ms on average in TorchServe's job queue (threshold ${ctx.queueWaitThresholdMilliseconds}ms); the workers cannot keep up.`),
    rule('TorchServeGpuMemoryHigh', 'warning', '15m', TroubleshootingAnchor.GPU_MEMORY,
      `${ctx.gpu.memoryUsedRatio(ts)} > ${ctx.gpuMemoryThreshold}`,
      `GPU memory above ${formatPercent(ctx.gpuMemoryThreshold)}`,
      `GPU {{ $labels.${ctx.gpu.deviceLabel} }} of pod {{ $labels.${ctx.gpu.podLabel} }} (${who}) has {{ $value | humanizePercentage }} of its memory in use (threshold ${formatPercent(ctx.gpuMemoryThreshold)}, ${ctx.gpu.source}).`),
  );
  return rules;
}

function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)}ms` : `${seconds}s`;
}

function formatPercent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}
