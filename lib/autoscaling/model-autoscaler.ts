import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { ScaledObject, type ScaledObjectSpecTriggers } from '../../imports/scaledobject-keda.sh';
import { DEFAULT_PROMETHEUS_URL, GpuMetrics, TorchServeMetrics, prometheusUrlProblem } from '../signals';
import { cronScheduleProblem } from '../private/cron';
import { isDnsLabel } from '../private/names';
import { timeZoneProblem } from '../private/time-zone';
import { ValidationError } from '../core/validation-error';
import { type ITorchServeWorkload, type IWorkloadScaler, TORCHSERVE_DEFAULTS } from '../torchserve';
import { PrometheusAdapterRules, type ExternalMetricRule } from './prometheus-adapter-rules';

/** How the queue and GPU signals reach the HorizontalPodAutoscaler. */
export enum ScalingBackend {
  /**
   * A plain `autoscaling/v2` HPA whose External metrics prometheus-adapter serves; the rules it
   * needs are rendered into a ConfigMap to merge into the adapter's config (see
   * {@link PrometheusAdapterRules}). No off-peak schedule.
   */
  HPA_WITH_PROMETHEUS_ADAPTER = 'hpa-with-prometheus-adapter',
  /** A KEDA ScaledObject with cpu, memory, prometheus and cron triggers; KEDA creates the HPA. */
  KEDA = 'keda',
}

/** The workload an autoscaler scales, through its `scale` subresource. */
export interface ScaleTarget {
  /** `apps/v1` or `argoproj.io/v1alpha1`. */
  readonly apiVersion: string;
  /** `Deployment` or `Rollout`. */
  readonly kind: string;
  readonly name: string;
}

/** When traffic peaks; outside these hours the floor drops to `minReplicas`. */
export interface PeakHours {
  /** IANA time zone of the schedule, such as "Europe/Berlin". */
  readonly timezone: string;
  /** Cron expression (five fields) for when peak hours start, such as "0 7 * * 1-5". */
  readonly start: string;
  /** Cron expression for when peak hours end, such as "0 20 * * 1-5". */
  readonly end: string;
  /** The replica floor during peak hours; above `minReplicas`, at most `maxReplicas`. */
  readonly minReplicas: number;
}

/** What a {@link ModelAutoscaler} uses for an optional prop left out; the fleet file leaves them out too. */
export const AUTOSCALER_DEFAULTS = {
  backend: ScalingBackend.KEDA,
  prometheusUrl: DEFAULT_PROMETHEUS_URL,
  cpuUtilization: 60,
  memoryUtilization: 70,
  queueWaitTarget: Duration.millis(100),
  scaleUpStabilization: Duration.seconds(60),
  scaleUpPods: 2,
  scaleUpPeriod: Duration.minutes(3),
  scaleDownStabilization: Duration.minutes(10),
  scaleDownPods: 1,
  scaleDownPeriod: Duration.minutes(5),
} as const;

/**
 * Why `minReplicas` cannot be the autoscaler's floor under `maxReplicas`, or `undefined`. The
 * fleet file and the construct follow it. Completes "got <minReplicas>; ...".
 */
export function minReplicasProblem(minReplicas: number, maxReplicas: number): string | undefined {
  return Number.isInteger(minReplicas) && minReplicas >= 1 && minReplicas <= maxReplicas ? undefined : `must be an integer from 1 to maxReplicas (${maxReplicas})`;
}

/**
 * Why a queue-wait target (left out: {@link AUTOSCALER_DEFAULTS}) cannot scale a model whose
 * requests time out after `responseTimeout` (left out: the TorchServeService default), or
 * `undefined`: a request that waits that long has failed already. The fleet file reports it at
 * autoscaling.queueWaitTargetMs and the construct throws it. Completes "got <target>; ...".
 */
export function queueWaitTargetProblem(queueWaitTarget: Duration | undefined, responseTimeout: Duration | undefined, modelName?: string): string | undefined {
  const targetMs = (queueWaitTarget ?? AUTOSCALER_DEFAULTS.queueWaitTarget).toMilliseconds();
  const timeout = responseTimeout ?? TORCHSERVE_DEFAULTS.responseTimeout;
  if (targetMs < 1) return 'must be at least 1ms';
  if (targetMs < timeout.toMilliseconds()) return undefined;
  return `must be below the response timeout${modelName === undefined ? '' : ` of model ${modelName}`} (${timeout.toSeconds()}s): a request that waits that long has failed already`;
}

/**
 * Why peak hours cannot be scheduled by `backend` (left out: {@link AUTOSCALER_DEFAULTS}), or
 * `undefined`: they are a KEDA cron trigger. The fleet file and the construct follow it.
 */
export function peakHoursBackendProblem(backend: ScalingBackend | `${ScalingBackend}` | undefined): string | undefined {
  return (backend ?? AUTOSCALER_DEFAULTS.backend) === ScalingBackend.KEDA ? undefined : 'needs backend "keda" (a KEDA cron trigger); prometheus-adapter cannot schedule a floor';
}

/**
 * Why a peak window from `start` to `end` (cron schedules) cannot be used, or `undefined`: KEDA's
 * cron scaler refuses a window that ends when it starts. The fleet file reports it at
 * peakHours.end; the construct throws it. Completes "got <end>; ...".
 */
export function peakWindowProblem(start: string, end: string): string | undefined {
  return start.trim() === end.trim() ? 'must differ from start: KEDA refuses a window that ends when it starts' : undefined;
}

/**
 * Why `peakMinReplicas` cannot be the floor during peak hours, between the off-peak floor
 * `minReplicas` and `maxReplicas`, or `undefined`. The fleet file and the construct follow it.
 * Completes "got <peakMinReplicas>; ...".
 */
export function peakReplicasProblem(peakMinReplicas: number, minReplicas: number, maxReplicas: number): string | undefined {
  if (Number.isInteger(peakMinReplicas) && peakMinReplicas > minReplicas && peakMinReplicas <= maxReplicas) return undefined;
  return `must be an integer above minReplicas (${minReplicas}) and at most maxReplicas (${maxReplicas})`;
}

/** Properties of a {@link ModelAutoscaler}. */
export interface ModelAutoscalerProps {
  /** The model deployment; its replica count is handed to the autoscaler. */
  readonly service: ITorchServeWorkload;
  /** The most pods to run. */
  readonly maxReplicas: number;
  /** The fewest pods to run (off-peak, when `peakHours` is set). @default - the service's `replicas` */
  readonly minReplicas?: number;
  /**
   * The workload to scale. An Argo Rollout is scaled as a whole: the controller then splits its
   * replicas between stable and canary by the current step's weight, so the autoscaler never
   * fights canary steps. @default - the service's workload (`service.workloadRef`)
   */
  readonly target?: ScaleTarget;
  /** How the queue and GPU signals reach the HPA. @default AUTOSCALER_DEFAULTS.backend (ScalingBackend.KEDA) */
  readonly backend?: ScalingBackend;
  /**
   * The environment's Prometheus. KEDA's triggers query it; prometheus-adapter queries the
   * Prometheus of its own configuration, so the adapter rules' ConfigMap records this address as
   * the one they were written for (set the adapter chart's `prometheus.url` to it).
   * @default AUTOSCALER_DEFAULTS.prometheusUrl (DEFAULT_PROMETHEUS_URL)
   */
  readonly prometheusUrl?: string;
  /** Target CPU utilisation, in percent of the request. @default AUTOSCALER_DEFAULTS.cpuUtilization (60) */
  readonly cpuUtilization?: number;
  /**
   * Target memory utilisation, in percent of the request. A loaded model's memory barely moves
   * with load; keep this above the idle footprint or the HPA never scales down.
   * @default AUTOSCALER_DEFAULTS.memoryUtilization (70)
   */
  readonly memoryUtilization?: number;
  /**
   * Target average queue wait per request: `rate(ts_queue_latency_microseconds[2m]) /
   * rate(ts_inference_requests_total[2m])`. Replicas grow in proportion when the wait is above it.
   * Below the service's response timeout (see {@link queueWaitTargetProblem}).
   * @default AUTOSCALER_DEFAULTS.queueWaitTarget (100 ms)
   */
  readonly queueWaitTarget?: Duration;
  /** Target average GPU utilisation, in percent. @default - GPU utilisation is not a signal */
  readonly gpuUtilization?: number;
  /** Where GPU utilisation comes from. @default GpuMetrics.dcgm() */
  readonly gpuMetrics?: GpuMetrics;
  /** How long the highest recommendation must hold before scaling up. @default AUTOSCALER_DEFAULTS.scaleUpStabilization (60 s) */
  readonly scaleUpStabilization?: Duration;
  /** Pods added at most per `scaleUpPeriod`; new GPU pods take minutes to load the model. @default AUTOSCALER_DEFAULTS.scaleUpPods (2) */
  readonly scaleUpPods?: number;
  /** @default AUTOSCALER_DEFAULTS.scaleUpPeriod (3 min) */
  readonly scaleUpPeriod?: Duration;
  /** How long the lowest recommendation must hold before scaling down. @default AUTOSCALER_DEFAULTS.scaleDownStabilization (10 min) */
  readonly scaleDownStabilization?: Duration;
  /** Pods removed at most per `scaleDownPeriod`. @default AUTOSCALER_DEFAULTS.scaleDownPods (1) */
  readonly scaleDownPods?: number;
  /** @default AUTOSCALER_DEFAULTS.scaleDownPeriod (5 min) */
  readonly scaleDownPeriod?: Duration;
  /** Keep more pods during peak hours (KEDA cron trigger; needs the KEDA backend). @default - the same floor all day */
  readonly peakHours?: PeakHours;
}

/** The window of the queue-wait rates; 4 samples at a 30 s scrape interval. */
const SIGNAL_WINDOW = '2m';
const QUEUE_WAIT_METRIC = 'torchserve_queue_wait_milliseconds';
const TARGETS: Record<string, string> = { Deployment: 'apps/v1', Rollout: 'argoproj.io/v1alpha1' };

/**
 * Scales a TorchServe deployment on CPU (60%), memory (70%) and the mean queue wait per request,
 * optionally GPU utilisation, with stabilisation windows for GPU pods that take minutes to start,
 * and optionally more pods during peak hours.
 *
 * Either backend leaves an HPA named like the service, so dashboards find it by one name. With
 * an Argo Rollout as the target, the HPA sets the Rollout's total replicas and the Rollouts
 * controller splits them between stable and canary by the current step's weight, so scaling and
 * canary steps never fight over the same number.
 *
 * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
 * @see https://keda.sh/docs/2.20/reference/scaledobject-spec/
 * @see https://argo-rollouts.readthedocs.io/en/stable/features/hpa-support/
 */
export class ModelAutoscaler extends Construct implements IWorkloadScaler {
  /** The HPA's name (KEDA's too, via `advanced.horizontalPodAutoscalerConfig.name`). */
  public readonly hpaName: string;
  public readonly backend: ScalingBackend;
  public readonly minReplicas: number;
  public readonly maxReplicas: number;
  /** The HorizontalPodAutoscaler or the ScaledObject. */
  public readonly resource: k8s.KubeHorizontalPodAutoscalerV2 | ScaledObject;

  constructor(scope: Construct, id: string, props: ModelAutoscalerProps) {
    super(scope, id);
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`ModelAutoscaler.${code}`, message, this);
    };
    const service = props.service;
    if (service.scaler) fail('AlreadyAutoscaled', `service "${service.name}" already has an autoscaler; two would fight over its replicas`);
    const backend = props.backend ?? AUTOSCALER_DEFAULTS.backend;
    if (!Object.values(ScalingBackend).includes(backend)) fail('InvalidBackend', `'backend' ("${String(backend)}") must be one of: ${Object.values(ScalingBackend).join(', ')}`);

    const isInt = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
    const maxReplicas = props.maxReplicas;
    const minReplicas = props.minReplicas ?? service.replicas;
    if (!isInt(maxReplicas, 1, 1000)) fail('InvalidReplicas', `'maxReplicas' (${maxReplicas}) must be an integer from 1 to 1000`);
    const floorIssue = minReplicasProblem(minReplicas, maxReplicas);
    if (floorIssue) fail('InvalidReplicas', `'minReplicas' (${minReplicas}) ${floorIssue}`);

    const target = props.target ?? service.workloadRef;
    if (TARGETS[target.kind] === undefined || TARGETS[target.kind] !== target.apiVersion) {
      fail('InvalidTarget', `'target' (${target.apiVersion} ${target.kind}) must be apps/v1 Deployment or argoproj.io/v1alpha1 Rollout`);
    }
    if (!isDnsLabel(target.name)) fail('InvalidTarget', `'target.name' ("${target.name}") must be a DNS-1123 label`);

    const percent = (name: string, value: number | undefined, fallback?: number): number | undefined => {
      const v = value ?? fallback;
      if (v !== undefined && !isInt(v, 1, 100)) fail('InvalidUtilization', `'${name}' (${v}) must be an integer percentage from 1 to 100`);
      return v;
    };
    const cpu = percent('cpuUtilization', props.cpuUtilization, AUTOSCALER_DEFAULTS.cpuUtilization) as number;
    const memory = percent('memoryUtilization', props.memoryUtilization, AUTOSCALER_DEFAULTS.memoryUtilization) as number;
    const gpuTarget = percent('gpuUtilization', props.gpuUtilization);
    const queueWaitMs = (props.queueWaitTarget ?? AUTOSCALER_DEFAULTS.queueWaitTarget).toMilliseconds();
    const queueWaitIssue = queueWaitTargetProblem(props.queueWaitTarget, service.responseTimeout, service.modelName);
    if (queueWaitIssue) fail('InvalidQueueWaitTarget', `'queueWaitTarget' (${queueWaitMs}ms) ${queueWaitIssue}`);
    if (props.gpuMetrics && gpuTarget === undefined) fail('UnusedGpuMetrics', "'gpuMetrics' needs 'gpuUtilization'");

    const seconds = (name: string, value: Duration | undefined, fallback: Duration, min: number, max: number): number => {
      const s = (value ?? fallback).toSeconds({ integral: false });
      if (!isInt(s, min, max)) fail('InvalidBehavior', `'${name}' (${s}s) must be whole seconds from ${min} to ${max}`);
      return s;
    };
    const pods = (name: string, value: number | undefined, fallback: number): number => {
      const n = value ?? fallback;
      if (!isInt(n, 1, 1000)) fail('InvalidBehavior', `'${name}' (${n}) must be an integer from 1 to 1000`);
      return n;
    };
    // The API server's limits: stabilization windows up to an hour, policy periods up to 30 minutes.
    const behavior = {
      scaleUp: {
        stabilizationWindowSeconds: seconds('scaleUpStabilization', props.scaleUpStabilization, AUTOSCALER_DEFAULTS.scaleUpStabilization, 0, 3600),
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: pods('scaleUpPods', props.scaleUpPods, AUTOSCALER_DEFAULTS.scaleUpPods), periodSeconds: seconds('scaleUpPeriod', props.scaleUpPeriod, AUTOSCALER_DEFAULTS.scaleUpPeriod, 1, 1800) }],
      },
      scaleDown: {
        stabilizationWindowSeconds: seconds('scaleDownStabilization', props.scaleDownStabilization, AUTOSCALER_DEFAULTS.scaleDownStabilization, 0, 3600),
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: pods('scaleDownPods', props.scaleDownPods, AUTOSCALER_DEFAULTS.scaleDownPods), periodSeconds: seconds('scaleDownPeriod', props.scaleDownPeriod, AUTOSCALER_DEFAULTS.scaleDownPeriod, 1, 1800) }],
      },
    };

    const peak = props.peakHours;
    if (peak) {
      const backendIssue = peakHoursBackendProblem(backend);
      if (backendIssue) fail('PeakHoursNeedKeda', `'peakHours' ${backendIssue}; drop 'peakHours' to keep the same floor all day`);
      const peakIssue = peakReplicasProblem(peak.minReplicas, minReplicas, maxReplicas);
      if (peakIssue) fail('InvalidPeakHours', `'peakHours.minReplicas' (${peak.minReplicas}) ${peakIssue}`);
      for (const [field, cron] of [['start', peak.start], ['end', peak.end]] as const) {
        const problem = cronScheduleProblem(cron);
        if (problem) fail('InvalidPeakHours', `'peakHours.${field}' ("${cron}") ${problem}`);
      }
      if (peakWindowProblem(peak.start, peak.end)) fail('InvalidPeakHours', `'peakHours.start' and 'peakHours.end' must differ ("${peak.start}")`);
      const zoneProblem = timeZoneProblem(peak.timezone);
      if (zoneProblem) fail('InvalidPeakHours', `'peakHours.timezone' ("${peak.timezone}") ${zoneProblem}`);
    }
    const prometheusUrl = props.prometheusUrl ?? AUTOSCALER_DEFAULTS.prometheusUrl;
    const urlProblem = prometheusUrlProblem(prometheusUrl);
    if (urlProblem) fail('InvalidPrometheusUrl', `'prometheusUrl' ("${prometheusUrl}") ${urlProblem}`);

    this.backend = backend;
    this.minReplicas = minReplicas;
    this.maxReplicas = maxReplicas;
    this.hpaName = service.name;
    const metrics = TorchServeMetrics.of(service);
    const gpu = props.gpuMetrics ?? GpuMetrics.dcgm();
    const metadata = { name: service.name, namespace: service.namespace, labels: service.labelsFor('autoscaling') };
    const scaleTargetRef = { apiVersion: target.apiVersion, kind: target.kind, name: target.name };

    if (backend === ScalingBackend.KEDA) {
      const triggers: ScaledObjectSpecTriggers[] = [
        { type: 'cpu', name: 'cpu', metricType: 'Utilization', metadata: { value: String(cpu) } },
        { type: 'memory', name: 'memory', metricType: 'Utilization', metadata: { value: String(memory) } },
        // "Value": the wait is already an average over all pods; replicas grow by wait / target.
        { type: 'prometheus', name: 'queue-wait', metricType: 'Value', metadata: { serverAddress: prometheusUrl, query: metrics.queueWaitMilliseconds(SIGNAL_WINDOW), threshold: String(queueWaitMs) } },
        ...(gpuTarget !== undefined
          ? [{ type: 'prometheus', name: 'gpu-utilization', metricType: 'Value', metadata: { serverAddress: prometheusUrl, query: `avg(${gpu.utilizationPercent(metrics)})`, threshold: String(gpuTarget) } }]
          : []),
        ...(peak
          ? [{ type: 'cron', name: 'peak-hours', metadata: { timezone: peak.timezone, start: peak.start.trim(), end: peak.end.trim(), desiredReplicas: String(peak.minReplicas) } }]
          : []),
      ];
      this.resource = new ScaledObject(this, 'Resource', {
        metadata,
        spec: {
          scaleTargetRef,
          minReplicaCount: minReplicas,
          maxReplicaCount: maxReplicas,
          pollingInterval: 30,
          advanced: { horizontalPodAutoscalerConfig: { name: this.hpaName, behavior } },
          triggers,
        },
      });
    } else {
      const rules = PrometheusAdapterRules.of(this, service.namespace, prometheusUrl);
      rules.addExternalRule(queueWaitRule());
      const external: k8s.MetricSpecV2[] = [{
        type: 'External',
        external: {
          metric: { name: QUEUE_WAIT_METRIC, selector: { matchLabels: { service: metrics.metricsServiceName } } },
          target: { type: 'Value', value: k8s.Quantity.fromString(String(queueWaitMs)) },
        },
      }];
      if (gpuTarget !== undefined) {
        const rule = gpuUtilizationRule(gpu, metrics);
        rules.addExternalRule(rule);
        external.push({
          type: 'External',
          external: { metric: { name: rule.name.as }, target: { type: 'Value', value: k8s.Quantity.fromString(String(gpuTarget)) } },
        });
      }
      this.resource = new k8s.KubeHorizontalPodAutoscalerV2(this, 'Resource', {
        metadata,
        spec: {
          scaleTargetRef,
          minReplicas,
          maxReplicas,
          metrics: [
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } },
            { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: memory } } },
            ...external,
          ],
          behavior,
        },
      });
    }
    service.markHasAutoscaler(this);
  }
}

/** One rule for every model: the HPA's metric selector picks the model's metrics Service. */
function queueWaitRule(): ExternalMetricRule {
  const per = (metric: string) => `sum(rate(${metric}{<<.LabelMatchers>>}[${SIGNAL_WINDOW}]))`;
  return {
    seriesQuery: 'ts_queue_latency_microseconds{namespace!="",service!=""}',
    resources: { overrides: { namespace: { resource: 'namespace' } } },
    name: { matches: '^ts_queue_latency_microseconds$', as: QUEUE_WAIT_METRIC },
    metricsQuery: `${per('ts_queue_latency_microseconds')} / clamp_min(${per('ts_inference_requests_total')}, 1e-9) / 1000`,
  };
}

/**
 * One rule per model: a label selector cannot match pod names by pattern, which is how GPU
 * series are tied to the model's pods.
 */
function gpuUtilizationRule(gpu: GpuMetrics, metrics: TorchServeMetrics): ExternalMetricRule {
  const workload = gpu.workloadMatcher(metrics);
  return {
    seriesQuery: `${gpu.utilizationMetric}{${gpu.namespaceLabel}!="",${workload}}`,
    resources: { overrides: { [gpu.namespaceLabel]: { resource: 'namespace' } } },
    name: { matches: `^${gpu.utilizationMetric}$`, as: `torchserve_${metrics.workloadName.replace(/-/g, '_')}_gpu_utilization_percent` },
    metricsQuery: `avg(${gpu.utilizationMetric}{<<.LabelMatchers>>,${workload}})`,
  };
}

/** @deprecated Use {@link ModelAutoscaler}: it scales on CPU, memory and queue wait, GPU only when asked. */
export const GpuAutoscaler = ModelAutoscaler;
/** @deprecated Use {@link ModelAutoscaler}. */
export type GpuAutoscaler = ModelAutoscaler;
/** @deprecated Use {@link ModelAutoscalerProps}. */
export type GpuAutoscalerProps = ModelAutoscalerProps;
