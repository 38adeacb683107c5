import { GatewayApiImplementation, GatewayKind } from './gateway-kind';

/** Identifies one model's prediction route at its gateway. */
export interface RequestMetricsTarget {
  readonly kind: GatewayKind;
  readonly implementation?: GatewayApiImplementation;
  readonly namespace: string;
  /** The inference Service the route sends traffic to. */
  readonly serviceName: string;
  readonly servicePort: number;
  /** The Ingress, IngressRoute or HTTPRoute carrying the prediction API. */
  readonly routeName: string;
  /** A canary Service that shares the route (Traefik reports it as its own service). */
  readonly canaryServiceName?: string;
}

/**
 * The request metrics a gateway exports for one model's prediction route, as PromQL.
 *
 * TorchServe has no latency histogram (its latency metrics are cumulative counters), so
 * percentiles and error ratios come from the gateway. Alerts, dashboards and canary analysis
 * all build on this one description, so they always agree on what they measure.
 */
export class RequestMetrics {
  /** The metrics `target`'s gateway exports, or `undefined` when it exports none per route. */
  public static of(target: RequestMetricsTarget): RequestMetrics | undefined {
    const ns = escape(target.namespace);
    const svc = escape(target.serviceName);
    switch (target.kind) {
      case GatewayKind.NGINX: {
        const selector = `namespace="${target.namespace}",ingress="${target.routeName}"`;
        return new RequestMetrics('ingress-nginx controller metrics (enabled by default)',
          `nginx_ingress_controller_requests{${selector}}`, 'status',
          `nginx_ingress_controller_request_duration_seconds_bucket{${selector}}`, 1);
      }
      case GatewayKind.KONG:
        // Kong names the upstream service of an Ingress backend "<namespace>.<service>.<port>".
        return RequestMetrics.kong(`service=~"${ns}\\\\.${svc}\\\\..*"`);
      case GatewayKind.TRAEFIK:
        // A weighted TraefikService reports each backend Service under its own name.
        return RequestMetrics.traefik(target.canaryServiceName
          ? `service=~"${ns}-(${svc}|${escape(target.canaryServiceName)})-${target.servicePort}@kubernetescrd"`
          : `service="${target.namespace}-${target.serviceName}-${target.servicePort}@kubernetescrd"`);
      case GatewayKind.GATEWAY_API:
        switch (target.implementation) {
          case GatewayApiImplementation.KONG:
            // "httproute.<ns>.svc.<ns>.<service>.<port>…" with combined services (the default
            // since KIC 3), "httproute.<ns>.<route>.<rule>" without.
            return RequestMetrics.kong(`service=~"httproute\\\\.${ns}\\\\.(svc\\\\.${ns}\\\\.${svc}\\\\.|${escape(target.routeName)}\\\\.).*"`);
          case GatewayApiImplementation.TRAEFIK:
            return RequestMetrics.traefik(`service=~".*${ns}-${svc}-${target.servicePort}.*@kubernetesgateway"`);
          case GatewayApiImplementation.ENVOY_GATEWAY: {
            const selector = `envoy_cluster_name=~"httproute/${ns}/${escape(target.routeName)}/rule/.*"`;
            return new RequestMetrics('Envoy Gateway proxy metrics (envoy_cluster_upstream_*)',
              `envoy_cluster_upstream_rq_xx{${selector}}`, 'envoy_response_code_class',
              `envoy_cluster_upstream_rq_time_bucket{${selector}}`, 0.001, '5');
          }
          default:
            // NGINX Gateway Fabric exports per-upstream request metrics only with NGINX Plus.
            return undefined;
        }
      default:
        return undefined;
    }
  }

  private static kong(selector: string): RequestMetrics {
    return new RequestMetrics('Kong prometheus plugin (status_code_metrics, latency_metrics)',
      `kong_http_requests_total{${selector}}`, 'code', `kong_request_latency_ms_bucket{${selector}}`, 0.001);
  }

  private static traefik(selector: string): RequestMetrics {
    return new RequestMetrics('Traefik service metrics (metrics.prometheus.addServicesLabels, on by default)',
      `traefik_service_requests_total{${selector}}`, 'code', `traefik_service_request_duration_seconds_bucket{${selector}}`, 1);
  }

  private constructor(
    /** What exports the series, for documentation. */
    public readonly source: string,
    /** Counter series of this route's requests. */
    public readonly requestsTotal: string,
    /** The label carrying the HTTP status code (or, for Envoy, its class). */
    public readonly statusLabel: string,
    /** The `_bucket` series of the request-duration histogram. */
    public readonly durationBucket: string,
    /** Seconds per unit of the histogram's `le`: 1 for seconds, 0.001 for milliseconds. */
    public readonly durationUnitSeconds: number,
    /** Value pattern of `statusLabel` for server errors. */
    private readonly serverErrorPattern = '5..',
  ) {}

  /** Requests per second over `window`. */
  public requestRate(window: string): string {
    return `sum(rate(${this.requestsTotal}[${window}]))`;
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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}

/** Adds a matcher to a series selector: `m{a="b"}` + `c="d"` gives `m{a="b",c="d"}`. */
function withLabel(selector: string, matcher: string): string {
  return selector.endsWith('}') ? `${selector.slice(0, -1)},${matcher}}` : `${selector}{${matcher}}`;
}
