import { UnscopedValidationError } from '../core';
import type { TorchServeMetrics } from './torchserve-metrics';

/** Options for {@link GpuMetrics.dcgm}. */
export interface DcgmMetricsOptions {
  /**
   * The label carrying the GPU user's namespace. The dcgm-exporter Helm chart's ServiceMonitor
   * does not honour the exporter's labels, so Prometheus renames them `exported_*`; use
   * "namespace" when the exporter is scraped with `honorLabels: true`.
   * @default 'exported_namespace'
   */
  readonly namespaceLabel?: string;
  /** The label carrying the GPU user's pod. @default 'exported_pod' */
  readonly podLabel?: string;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Where per-pod GPU utilisation and memory come from.
 *
 * @see https://docs.nvidia.com/datacenter/dcgm/latest/gpu-telemetry/dcgm-exporter.html
 */
export class GpuMetrics {
  /**
   * NVIDIA's DCGM exporter (part of the GPU Operator), with its Kubernetes pod mapping:
   * `DCGM_FI_DEV_GPU_UTIL`, `DCGM_FI_DEV_FB_USED` and `DCGM_FI_DEV_FB_FREE` (MiB), sampled
   * every few seconds.
   */
  public static dcgm(options: DcgmMetricsOptions = {}): GpuMetrics {
    const namespaceLabel = options.namespaceLabel ?? 'exported_namespace';
    const podLabel = options.podLabel ?? 'exported_pod';
    for (const [key, value] of [['namespaceLabel', namespaceLabel], ['podLabel', podLabel]]) {
      if (!LABEL_NAME.test(value)) throw new UnscopedValidationError('GpuMetrics.InvalidLabelName', `GpuMetrics.dcgm: '${key}' ("${value}") must be a Prometheus label name`);
    }
    return new GpuMetrics('DCGM exporter', namespaceLabel, podLabel, 'gpu', 'DCGM_FI_DEV_GPU_UTIL',
      (m) => `${namespaceLabel}="${m.namespace}",${podLabel}=~"${m.podPattern}"`,
      (m) => `${podLabel}=~"${m.podPattern}"`,
      (sel) => `DCGM_FI_DEV_FB_USED{${sel}} / (DCGM_FI_DEV_FB_USED{${sel}} + DCGM_FI_DEV_FB_FREE{${sel}})`);
  }

  /**
   * TorchServe's own system metrics, `GPUUtilization` and `GPUMemoryUtilization` (percent, per
   * `DeviceId`), collected once a minute and scraped with the model's other metrics. Needs no
   * exporter, but reacts a minute late.
   */
  public static torchServe(): GpuMetrics {
    return new GpuMetrics('TorchServe system metrics', 'namespace', 'pod', 'DeviceId', 'GPUUtilization',
      (m) => m.selector,
      (m) => `service="${m.metricsServiceName}"`,
      (sel) => `GPUMemoryUtilization{${sel}} / 100`);
  }

  private constructor(
    /** What exports the series, for documentation. */
    public readonly source: string,
    /** The label that holds the namespace of the pod using the GPU. */
    public readonly namespaceLabel: string,
    /** The label that holds the name of the pod using the GPU. */
    public readonly podLabel: string,
    /** The label that tells GPUs of one pod apart. */
    public readonly deviceLabel: string,
    /** The utilisation gauge, in percent. */
    public readonly utilizationMetric: string,
    private readonly selectorFor: (m: TorchServeMetrics) => string,
    private readonly workloadMatcherFor: (m: TorchServeMetrics) => string,
    private readonly memoryRatioOf: (selector: string) => string,
  ) {}

  /** Matchers for the GPU series of the deployment `metrics` describes. */
  public selector(metrics: TorchServeMetrics): string {
    return this.selectorFor(metrics);
  }

  /** The matcher that picks the deployment's GPUs within a namespace. */
  public workloadMatcher(metrics: TorchServeMetrics): string {
    return this.workloadMatcherFor(metrics);
  }

  /** Utilisation of each of the deployment's GPUs, in percent. */
  public utilizationPercent(metrics: TorchServeMetrics): string {
    return `${this.utilizationMetric}{${this.selector(metrics)}}`;
  }

  /** Memory in use on each of the deployment's GPUs, as a fraction of the GPU's memory. */
  public memoryUsedRatio(metrics: TorchServeMetrics): string {
    return this.memoryRatioOf(this.selector(metrics));
  }
}
