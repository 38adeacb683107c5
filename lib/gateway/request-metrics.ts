/**
 * The target labels Prometheus Operator sets on every series of a ServiceMonitor or PodMonitor
 * target (`pkg/prometheus/promcfg.go`; `instance` comes from Prometheus itself). With the
 * default `honorLabels: false`, a scraped label of the same name is renamed `exported_<name>`.
 */
export const SCRAPE_TARGET_LABELS: readonly string[] = ['namespace', 'service', 'pod', 'container', 'endpoint', 'job', 'instance'];

/** Identifies one model's routes at its gateway. */
export interface RequestMetricsTarget {
  readonly namespace: string;
  /** The inference Service the route sends traffic to. */
  readonly serviceName: string;
  readonly servicePort: number;
  /** The port's name, which Ingress backends refer to. */
  readonly servicePortName: string;
  /** The Ingress, IngressRoute or HTTPRoute carrying the prediction API. */
  readonly routeName: string;
  /** The canary Service that shares the prediction route, weighted by Argo Rollouts. */
  readonly canaryServiceName?: string;
  /** The blue-green preview Service and the route that carries the preview header. */
  readonly preview?: { readonly serviceName: string; readonly routeName: string };
  /**
   * The gateway's own ServiceMonitor or PodMonitor keeps the exporter's labels
   * (`honorLabels: true`). @default false - the gateway charts' default
   */
  readonly honorLabels?: boolean;
}

/**
 * One model's request metrics at its gateway, split the way release gates need them.
 *
 * - `route`: every request of the prediction route (alerts, dashboards);
 * - `canary`: only the requests the canary Service answered, or `undefined` when the gateway
 *   reports stable and canary together (then the gates fall back to TorchServe's own metrics of
 *   the new ReplicaSet's pods);
 * - `preview`: only the blue-green preview's requests;
 * - `live`: the prediction route without the preview's requests (post-promotion analysis).
 */
export interface GatewayRequestMetrics {
  readonly route: RequestMetrics;
  readonly canary?: RequestMetrics;
  readonly preview?: RequestMetrics;
  readonly live: RequestMetrics;
}

/** One exporter's request counter and duration histogram, and how to narrow them. */
export interface ExporterSeries {
  /** What exports the series, for documentation. */
  readonly source: string;
  readonly requestsMetric: string;
  readonly bucketMetric: string;
  /** The label carrying the HTTP status code (or, for Envoy, its class). */
  readonly statusLabel: string;
  /** Value pattern of `statusLabel` for server errors. */
  readonly serverErrorPattern: string;
  /** Seconds per unit of the histogram's `le`: 1 for seconds, 0.001 for milliseconds. */
  readonly durationUnitSeconds: number;
}

/**
 * The name Prometheus stores a gateway's label under after the Prometheus Operator scrape: a
 * label that collides with a target label keeps its name only with `honorLabels: true`.
 */
export function scrapedLabel(name: string, honorLabels = false): string {
  return !honorLabels && SCRAPE_TARGET_LABELS.includes(name) ? `exported_${name}` : name;
}

/** Escapes regex metacharacters for a PromQL regex inside a double-quoted string. */
export function escapePromRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}

/**
 * The request metrics a gateway exports for one set of requests (a route, or one backend of
 * it), as PromQL.
 *
 * TorchServe has no latency histogram (its latency metrics are cumulative counters), so
 * percentiles and error ratios come from the gateway. Alerts, dashboards and release gates all
 * build on this one description, so they always agree on what they measure. Every label a
 * selector names is the one Prometheus stores after the Prometheus Operator scrape: a gateway
 * label that collides with a target label is read as `exported_<name>` unless the gateway's
 * monitor honours its labels.
 */
export class RequestMetrics {
  /** The series of `exporter` that `selector` (label matchers, without braces) picks out. */
  public static select(exporter: ExporterSeries, selector: string): RequestMetrics {
    return new RequestMetrics(exporter.source, `${exporter.requestsMetric}{${selector}}`, exporter.statusLabel,
      `${exporter.bucketMetric}{${selector}}`, exporter.durationUnitSeconds, exporter.serverErrorPattern);
  }

  private constructor(
    /** What exports the series, for documentation. */
    public readonly source: string,
    /** Counter series of these requests. */
    public readonly requestsTotal: string,
    /** The label carrying the HTTP status code (or, for Envoy, its class). */
    public readonly statusLabel: string,
    /** The `_bucket` series of the request-duration histogram. */
    public readonly durationBucket: string,
    /** Seconds per unit of the histogram's `le`: 1 for seconds, 0.001 for milliseconds. */
    public readonly durationUnitSeconds: number,
    /** Value pattern of `statusLabel` for server errors. */
    private readonly serverErrorPattern: string,
  ) {}

  /** Requests per second over `window`. */
  public requestRate(window: string): string {
    return `sum(rate(${this.requestsTotal}[${window}]))`;
  }

  /** Requests counted over `window` (empty when the gateway reported none). */
  public requestCount(window: string): string {
    return `sum(increase(${this.requestsTotal}[${window}]))`;
  }

  /** The fraction of requests answered with a 5xx over `window` (0 when there was no traffic). */
  public errorRatio(window: string): string {
    const errors = withLabel(this.requestsTotal, `${this.statusLabel}=~"${this.serverErrorPattern}"`);
    return `(sum(rate(${errors}[${window}])) or vector(0)) / clamp_min(sum(rate(${this.requestsTotal}[${window}])), 1e-9)`;
  }

  /** The `quantile` (e.g. 0.95) of request latency over `window`, in seconds. */
  public latencyQuantile(quantile: number, window: string): string {
    const q = `histogram_quantile(${quantile}, sum by (le) (rate(${this.durationBucket}[${window}])))`;
    return this.durationUnitSeconds === 1 ? q : `${q} * ${this.durationUnitSeconds}`;
  }
}

/** Adds a matcher to a series selector: `m{a="b"}` + `c="d"` gives `m{a="b",c="d"}`. */
function withLabel(selector: string, matcher: string): string {
  return selector.endsWith('}') ? `${selector.slice(0, -1)},${matcher}}` : `${selector}{${matcher}}`;
}
