import { GatewayApiImplementation, GatewayKind } from './gateway-kind';

/**
 * The target labels Prometheus Operator sets on every series of a ServiceMonitor or PodMonitor
 * target (`pkg/prometheus/promcfg.go`; `instance` comes from Prometheus itself). With the
 * default `honorLabels: false`, a scraped label of the same name is renamed `exported_<name>`.
 */
export const SCRAPE_TARGET_LABELS: readonly string[] = ['namespace', 'service', 'pod', 'container', 'endpoint', 'job', 'instance'];

/** Identifies one model's routes at its gateway. */
export interface RequestMetricsTarget {
  readonly kind: GatewayKind;
  readonly implementation?: GatewayApiImplementation;
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
interface SeriesFamily {
  readonly source: string;
  readonly requestsMetric: string;
  readonly bucketMetric: string;
  readonly statusLabel: string;
  readonly serverErrorPattern: string;
  readonly durationUnitSeconds: number;
}

const NGINX: SeriesFamily = {
  source: 'ingress-nginx controller metrics (enabled by default)',
  requestsMetric: 'nginx_ingress_controller_requests',
  bucketMetric: 'nginx_ingress_controller_request_duration_seconds_bucket',
  statusLabel: 'status',
  serverErrorPattern: '5..',
  durationUnitSeconds: 1,
};
const KONG: SeriesFamily = {
  source: 'Kong prometheus plugin (status_code_metrics, latency_metrics)',
  requestsMetric: 'kong_http_requests_total',
  bucketMetric: 'kong_request_latency_ms_bucket',
  statusLabel: 'code',
  serverErrorPattern: '5..',
  durationUnitSeconds: 0.001,
};
const TRAEFIK: SeriesFamily = {
  source: 'Traefik service metrics (metrics.prometheus.addServicesLabels, on by default)',
  requestsMetric: 'traefik_service_requests_total',
  bucketMetric: 'traefik_service_request_duration_seconds_bucket',
  statusLabel: 'code',
  serverErrorPattern: '5..',
  durationUnitSeconds: 1,
};
const ENVOY: SeriesFamily = {
  source: 'Envoy Gateway proxy metrics (envoy_cluster_upstream_*)',
  requestsMetric: 'envoy_cluster_upstream_rq_xx',
  bucketMetric: 'envoy_cluster_upstream_rq_time_bucket',
  statusLabel: 'envoy_response_code_class',
  serverErrorPattern: '5',
  durationUnitSeconds: 0.001,
};

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
  /** The metrics `target`'s gateway exports, or `undefined` when it exports none per route. */
  public static of(target: RequestMetricsTarget): GatewayRequestMetrics | undefined {
    // A scraped label that collides with a target label keeps its name only with honorLabels.
    const label = (name: string) => (!target.honorLabels && SCRAPE_TARGET_LABELS.includes(name) ? `exported_${name}` : name);
    const ns = target.namespace;
    const preview = target.preview;
    switch (target.kind) {
      case GatewayKind.NGINX: {
        // ingress-nginx merges a canary Ingress (Argo Rollouts' canary, or the preview's
        // header-only canary) into the main Ingress's location: its requests carry the MAIN
        // Ingress's name in `ingress` and the canary upstream "<ns>-<service>-<port name>" in
        // `canary`, which is empty for the main backend. Confirmed in kubernetes/ingress-nginx
        // controller-v1.15.1: internal/ingress/metric/collectors/socket.go (labels),
        // rootfs/etc/nginx/lua/monitor.lua (canary = proxy_alternative_upstream_name),
        // internal/ingress/controller/util.go upstreamName.
        const route = `${label('namespace')}="${ns}",ingress="${target.routeName}"`;
        const upstream = (service: string) => `${ns}-${service}-${target.servicePortName}`;
        return {
          route: RequestMetrics.family(NGINX, route),
          canary: target.canaryServiceName ? RequestMetrics.family(NGINX, `${route},canary="${upstream(target.canaryServiceName)}"`) : undefined,
          preview: preview ? RequestMetrics.family(NGINX, `${route},canary="${upstream(preview.serviceName)}"`) : undefined,
          live: RequestMetrics.family(NGINX, `${route},canary=""`),
        };
      }
      case GatewayKind.KONG: {
        // Selected by Kong route, "<ns>.<ingress>.<service>.<host>.<port>" (Kong/kubernetes-
        // ingress-controller v3.5 internal/dataplane/translator/subtranslator/ingress.go
        // intoKongRouteName); `route` survives the scrape, unlike Kong's `service` label.
        const byIngress = (ingress: string) => RequestMetrics.family(KONG, `route=~"${escape(ns)}\\\\.${escape(ingress)}\\\\..+"`);
        const route = byIngress(target.routeName);
        return { route, preview: preview ? byIngress(preview.routeName) : undefined, live: route };
      }
      case GatewayKind.TRAEFIK: {
        // Each Kubernetes Service behind an IngressRoute or a weighted TraefikService is its own
        // load-balancer service "<ns>-<service>-<port>@kubernetescrd" with its own series
        // (traefik/traefik v3.7 pkg/provider/kubernetes/crd/kubernetes_http.go fullServiceName;
        // pkg/server/service/service.go adds the metrics handler per load balancer).
        const service = label('service');
        const crd = (name: string) => `${ns}-${name}-${target.servicePort}@kubernetescrd`;
        const route = target.canaryServiceName
          ? `${service}=~"${escape(ns)}-(${escape(target.serviceName)}|${escape(target.canaryServiceName)})-${target.servicePort}@kubernetescrd"`
          : `${service}="${crd(target.serviceName)}"`;
        return {
          route: RequestMetrics.family(TRAEFIK, route),
          canary: target.canaryServiceName ? RequestMetrics.family(TRAEFIK, `${service}="${crd(target.canaryServiceName)}"`) : undefined,
          preview: preview ? RequestMetrics.family(TRAEFIK, `${service}="${crd(preview.serviceName)}"`) : undefined,
          live: RequestMetrics.family(TRAEFIK, `${service}="${crd(target.serviceName)}"`),
        };
      }
      case GatewayKind.GATEWAY_API:
        return RequestMetrics.gatewayApi(target, label);
      default:
        return undefined;
    }
  }

  private static gatewayApi(target: RequestMetricsTarget, label: (name: string) => string): GatewayRequestMetrics | undefined {
    const ns = target.namespace;
    const preview = target.preview;
    switch (target.implementation) {
      case GatewayApiImplementation.KONG: {
        // Kong's ingress controller turns an HTTPRoute rule into ONE Kong service whatever its
        // backends (weighted targets inside it), so stable and canary share every series; only
        // the Kong route, "httproute.<ns>.<route>.[<host>.]<rule>.<match>", tells routes apart
        // (Kong/kubernetes-ingress-controller v3.5 subtranslator/httproute.go and
        // httproute_atc.go). No canary series: the gates read TorchServe's pods instead.
        const byRoute = (route: string) => RequestMetrics.family(KONG, `route=~"httproute\\\\.${escape(ns)}\\\\.${escape(route)}\\\\..+"`);
        const route = byRoute(target.routeName);
        return { route, preview: preview ? byRoute(preview.routeName) : undefined, live: route };
      }
      case GatewayApiImplementation.TRAEFIK: {
        // Traefik's Gateway API provider names each backend's load-balancer service
        // "<ns>-<service>-http-<port>" from v3.2 to v3.7.5, and
        // "httproute-<ns>-<route>-gw-<gw ns>-<gw>-ep-<entry point>-<rule>-<hash>-svc-<ns>-<service>-<backend index>"
        // from v3.7.6 (traefik/traefik pkg/provider/kubernetes/gateway/httproute.go loadService
        // at v3.2.0, v3.7.5, v3.7.6 and v3.7.9); both with "@kubernetesgateway". The selector
        // accepts both forms, for exactly this backend.
        const service = label('service');
        const backend = (route: string, name: string, index: number) =>
          `(${escape(ns)}-${escape(name)}-http-${target.servicePort}|httproute-${escape(ns)}-${escape(route)}-gw-.+-svc-${escape(ns)}-${escape(name)}-${index})@kubernetesgateway`;
        const select = (route: string, name: string, index: number) => RequestMetrics.family(TRAEFIK, `${service}=~"${backend(route, name, index)}"`);
        const stable = select(target.routeName, target.serviceName, 0);
        const route = target.canaryServiceName
          ? RequestMetrics.family(TRAEFIK, `${service}=~"${backend(target.routeName, target.serviceName, 0)}|${backend(target.routeName, target.canaryServiceName, 1)}"`)
          : stable;
        return {
          route,
          canary: target.canaryServiceName ? select(target.routeName, target.canaryServiceName, 1) : undefined,
          preview: preview ? select(preview.routeName, preview.serviceName, 0) : undefined,
          live: stable,
        };
      }
      case GatewayApiImplementation.ENVOY_GATEWAY: {
        // Envoy Gateway builds one Envoy cluster per HTTPRoute rule, "httproute/<ns>/<route>/rule/<n>",
        // with every backendRef a weighted endpoint group inside it (envoyproxy/gateway v1.9.0
        // internal/gatewayapi/helpers.go irRouteDestinationName), so stable and canary share
        // its series. Each route here has one rule. No canary series: the gates read TorchServe.
        const byRoute = (route: string) => RequestMetrics.family(ENVOY, `envoy_cluster_name="httproute/${ns}/${route}/rule/0"`);
        const route = byRoute(target.routeName);
        return { route, preview: preview ? byRoute(preview.routeName) : undefined, live: route };
      }
      default:
        // NGINX Gateway Fabric exports per-upstream request metrics only with NGINX Plus.
        return undefined;
    }
  }

  private static family(family: SeriesFamily, selector: string): RequestMetrics {
    return new RequestMetrics(family.source, `${family.requestsMetric}{${selector}}`, family.statusLabel,
      `${family.bucketMetric}{${selector}}`, family.durationUnitSeconds, family.serverErrorPattern);
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

/** Escapes regex metacharacters for a PromQL regex inside a double-quoted string. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}

/** Adds a matcher to a series selector: `m{a="b"}` + `c="d"` gives `m{a="b",c="d"}`. */
function withLabel(selector: string, matcher: string): string {
  return selector.endsWith('}') ? `${selector.slice(0, -1)},${matcher}}` : `${selector}{${matcher}}`;
}
