import type { TorchServeService } from '../torchserve';

/** Options for {@link TorchServeMetrics.of}. */
export interface TorchServeMetricsOptions {
  /**
   * The namespace written into every selector; a dashboard passes its `$namespace` variable.
   * @default - the service's namespace
   */
  readonly namespace?: string;
}

/**
 * PromQL over one TorchServe deployment's own series (scraped from port 8082 by the
 * MonitoringBundle's ServiceMonitor) and over kube-state-metrics' series for its pods.
 *
 * TorchServe's `ts_*` latency metrics are cumulative counters of microseconds, so every
 * expression here takes `rate()` first; dividing by the request rate gives a per-request average.
 *
 * @see https://github.com/pytorch/serve/blob/v0.12.0/docs/metrics.md
 */
export class TorchServeMetrics {
  /** The metrics of `service`. */
  public static of(service: TorchServeService, options: TorchServeMetricsOptions = {}): TorchServeMetrics {
    return new TorchServeMetrics(options.namespace ?? service.namespace, service.metricsService.name, service.name);
  }

  /**
   * Matches the names of the workload's pods, `<name>-<pod-template-hash>-<suffix>`, for
   * Deployments and Rollouts alike, and never those of a model whose name merely starts the same.
   */
  public readonly podPattern: string;
  /** Matchers for the series Prometheus scrapes from this deployment's metrics Service. */
  public readonly selector: string;
  /** Matchers for kube-state-metrics' per-pod series of this deployment. */
  public readonly podSelector: string;

  private constructor(
    /** The namespace (or dashboard variable) in every selector. */
    public readonly namespace: string,
    /** The metrics Service; the Prometheus Operator copies its name into the `service` label. */
    public readonly metricsServiceName: string,
    /** The Deployment or Rollout name, which prefixes every pod name. */
    public readonly workloadName: string,
  ) {
    this.podPattern = `${workloadName}-[a-z0-9]+-[a-z0-9]{5}`;
    this.selector = `namespace="${namespace}",service="${metricsServiceName}"`;
    this.podSelector = `namespace="${namespace}",pod=~"${this.podPattern}"`;
  }

  /** `metric{<this deployment>}`. */
  public series(metric: string): string {
    return `${metric}{${this.selector}}`;
  }

  /** Prediction requests per second, over `window`. */
  public requestRate(window: string): string {
    return `sum(rate(${this.series('ts_inference_requests_total')}[${window}]))`;
  }

  /**
   * The average time a request waited in TorchServe's job queue over `window`, in milliseconds
   * (0 without traffic). The raw `ts_queue_latency_microseconds` only ever grows; its rate
   * divided by the request rate is the mean wait per request.
   */
  public queueWaitMilliseconds(window: string): string {
    return `sum(rate(${this.series('ts_queue_latency_microseconds')}[${window}])) / clamp_min(${this.requestRate(window)}, 1e-9) / 1000`;
  }

  /**
   * The mean number of requests waiting in the job queue over `window`. TorchServe exports no
   * queue length; by Little's law it is the queue-wait seconds accumulated per second.
   */
  public queueLength(window: string): string {
    return `sum(rate(${this.series('ts_queue_latency_microseconds')}[${window}])) / 1e6`;
  }

  /** The mean time TorchServe took to answer a request over `window`, in seconds. */
  public meanLatencySeconds(window: string): string {
    return `sum(rate(${this.series('ts_inference_latency_microseconds')}[${window}])) / clamp_min(${this.requestRate(window)}, 1e-9) / 1e6`;
  }
}
