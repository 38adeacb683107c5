/**
 * What {@link TorchServeMetrics.of} needs of a deployment: where its metrics Service is and what
 * its pods are named. A TorchServe workload (`ITorchServeWorkload`) is one.
 */
export interface TorchServeMetricsSource {
  readonly name: string;
  readonly namespace: string;
  /** The Service in front of port 8082; the Prometheus Operator copies its name into `service`. */
  readonly metricsServiceName: string;
}

/**
 * A scrape of a model's TorchServe metrics: the pod labels it copies onto every series. Release
 * gates that read the new ReplicaSet's pods need `rollouts-pod-template-hash` among them.
 */
export interface ReplicaSetScrape {
  readonly podTargetLabels: readonly string[];
}

/** Options for {@link TorchServeMetrics.of}. */
export interface TorchServeMetricsOptions {
  /**
   * The namespace written into every selector; a dashboard passes its `$namespace` variable.
   * @default - the service's namespace
   */
  readonly namespace?: string;
  /**
   * Only the pods of one Argo Rollouts ReplicaSet: their `rollouts-pod-template-hash`, which the
   * ServiceMonitor copies onto every series as `rollouts_pod_template_hash` (its
   * `podTargetLabels`). A release gate passes `{{args.canary-hash}}`, filled in by Argo Rollouts
   * from `valueFrom.podTemplateHashValue: Latest`. @default - every pod of the deployment
   */
  readonly podTemplateHash?: string;
}

/** The pod label Argo Rollouts puts on each ReplicaSet's pods (`DefaultRolloutUniqueLabelKey`). */
export const ROLLOUTS_POD_TEMPLATE_HASH = 'rollouts-pod-template-hash';
/** The same label as Prometheus Operator's `podTargetLabels` stores it (names sanitised). */
export const ROLLOUTS_POD_TEMPLATE_HASH_LABEL = 'rollouts_pod_template_hash';

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
  public static of(service: TorchServeMetricsSource, options: TorchServeMetricsOptions = {}): TorchServeMetrics {
    return new TorchServeMetrics(options.namespace ?? service.namespace, service.metricsServiceName, service.name, options.podTemplateHash);
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
    podTemplateHash?: string,
  ) {
    this.podPattern = `${workloadName}-[a-z0-9]+-[a-z0-9]{5}`;
    const replicaSet = podTemplateHash === undefined ? '' : `,${ROLLOUTS_POD_TEMPLATE_HASH_LABEL}="${podTemplateHash}"`;
    this.selector = `namespace="${namespace}",service="${metricsServiceName}"${replicaSet}`;
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

  /** Prediction requests received over `window` (empty when no pod reported any). */
  public requestCount(window: string): string {
    return `sum(increase(${this.series('ts_inference_requests_total')}[${window}]))`;
  }

  /**
   * 5xx responses per prediction request over `window`. `Requests5XX` counts every 5xx the
   * pods sent, on any endpoint, and exists only after the first one (pytorch/serve v0.12.0
   * NettyUtils.sendHttpResponse); `ts_inference_requests_total` counts prediction requests as
   * they arrive, before a full queue refuses them (InferenceRequestHandler).
   */
  public serverErrorRatio(window: string): string {
    return `(sum(rate(${this.series('Requests5XX')}[${window}])) or vector(0)) / clamp_min(${this.requestRate(window)}, 1e-9)`;
  }

  /**
   * The mean time TorchServe took to answer a request over `window`, in seconds, queue wait
   * included (RestJob measures from the request's arrival).
   */
  public meanLatencySeconds(window: string): string {
    return `sum(rate(${this.series('ts_inference_latency_microseconds')}[${window}])) / clamp_min(${this.requestRate(window)}, 1e-9) / 1e6`;
  }
}
