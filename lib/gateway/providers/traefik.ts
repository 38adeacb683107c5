import { renderTraefikFrontend, renderTraefikRoutes } from '../../private/gateway/traefik-routes';
import { GatewayFeature, GatewayKind } from '../gateway-kind';
import { CanaryGateSource, type GatewayProvider, JwtVerification, unsupportedFrom } from '../gateway-provider';
import { type ExporterSeries, RequestMetrics, escapePromRegex as escape, scrapedLabel } from '../request-metrics';

/** Traefik's per-service metrics (metrics.prometheus.addServicesLabels, on by default). */
export const TRAEFIK_SERIES: ExporterSeries = {
  source: 'Traefik service metrics (metrics.prometheus.addServicesLabels, on by default)',
  requestsMetric: 'traefik_service_requests_total',
  bucketMetric: 'traefik_service_request_duration_seconds_bucket',
  statusLabel: 'code',
  serverErrorPattern: '5..',
  durationUnitSeconds: 1,
};

/** Traefik Proxy (OSS) has no response cache. */
export const TRAEFIK_NO_CACHE = 'Traefik Proxy (OSS) has no response cache; caching is a Traefik Hub feature';

/**
 * Traefik Proxy v3 with its CRDs: IngressRoutes on the `websecure` entry point, Middlewares, a
 * ServersTransport for TorchServe's response timeout, and a weighted TraefikService for canaries.
 *
 * @see https://doc.traefik.io/traefik/routing/providers/kubernetes-crd/
 */
export const TRAEFIK: GatewayProvider = {
  kind: GatewayKind.TRAEFIK,
  label: 'traefik',
  defaultNamespace: 'traefik',
  jwtVerification: JwtVerification.VERIFIER,
  canaryGates: CanaryGateSource.GATEWAY,
  usesGatewayApiPlugin: false,
  unsupported: unsupportedFrom({ [GatewayFeature.CACHE]: TRAEFIK_NO_CACHE }),
  renderFrontend: (ctx) => {
    renderTraefikFrontend(ctx);
    return {};
  },
  renderRoutes: (ctx) => renderTraefikRoutes(ctx),
  requestMetrics: (target) => {
    // Each Kubernetes Service behind an IngressRoute or a weighted TraefikService is its own
    // load-balancer service "<ns>-<service>-<port>@kubernetescrd" with its own series
    // (traefik/traefik v3.7 pkg/provider/kubernetes/crd/kubernetes_http.go fullServiceName;
    // pkg/server/service/service.go adds the metrics handler per load balancer).
    const ns = target.namespace;
    const service = scrapedLabel('service', target.honorLabels);
    const crd = (name: string) => `${ns}-${name}-${target.servicePort}@kubernetescrd`;
    const select = (selector: string) => RequestMetrics.select(TRAEFIK_SERIES, selector);
    const route = target.canaryServiceName
      ? `${service}=~"${escape(ns)}-(${escape(target.serviceName)}|${escape(target.canaryServiceName)})-${target.servicePort}@kubernetescrd"`
      : `${service}="${crd(target.serviceName)}"`;
    return {
      route: select(route),
      canary: target.canaryServiceName ? select(`${service}="${crd(target.canaryServiceName)}"`) : undefined,
      preview: target.preview ? select(`${service}="${crd(target.preview.serviceName)}"`) : undefined,
      live: select(`${service}="${crd(target.serviceName)}"`),
    };
  },
  // Argo Rollouts shifts the weights of the prediction route's TraefikService.
  canaryTrafficRouting: (predictionRoute) => ({ traefik: { weightedTraefikServiceName: predictionRoute } }),
};
