import { renderNginxRoutes } from '../../private/gateway/ingress-routes';
import { GatewayFeature, GatewayKind } from '../gateway-kind';
import { CanaryGateSource, type GatewayProvider, JwtVerification, unsupportedFrom } from '../gateway-provider';
import { type ExporterSeries, RequestMetrics, scrapedLabel } from '../request-metrics';

/** ingress-nginx's request metrics (enabled by default). */
export const INGRESS_NGINX_SERIES: ExporterSeries = {
  source: 'ingress-nginx controller metrics (enabled by default)',
  requestsMetric: 'nginx_ingress_controller_requests',
  bucketMetric: 'nginx_ingress_controller_request_duration_seconds_bucket',
  statusLabel: 'status',
  serverErrorPattern: '5..',
  durationUnitSeconds: 1,
};

/**
 * The community ingress-nginx controller: Ingresses with its annotations. Retired in March 2026
 * (no further releases or fixes); kept for existing clusters.
 *
 * @see https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/
 */
export const INGRESS_NGINX: GatewayProvider = {
  kind: GatewayKind.NGINX,
  label: 'nginx',
  defaultNamespace: 'ingress-nginx',
  jwtVerification: JwtVerification.VERIFIER,
  canaryGates: CanaryGateSource.GATEWAY,
  usesGatewayApiPlugin: false,
  unsupported: unsupportedFrom({
    [GatewayFeature.CACHE]: 'ingress-nginx can only cache through configuration snippets, which are disabled by default (allow-snippet-annotations=false) and rated Critical risk',
  }),
  // ingress-nginx redirects to HTTPS per Ingress (force-ssl-redirect): nothing environment-wide.
  renderFrontend: () => ({}),
  renderRoutes: (ctx) => renderNginxRoutes(ctx),
  requestMetrics: (target) => {
    // ingress-nginx merges a canary Ingress (Argo Rollouts' canary, or the preview's
    // header-only canary) into the main Ingress's location: its requests carry the MAIN
    // Ingress's name in `ingress` and the canary upstream "<ns>-<service>-<port name>" in
    // `canary`, which is empty for the main backend. Confirmed in kubernetes/ingress-nginx
    // controller-v1.15.1: internal/ingress/metric/collectors/socket.go (labels),
    // rootfs/etc/nginx/lua/monitor.lua (canary = proxy_alternative_upstream_name),
    // internal/ingress/controller/util.go upstreamName.
    const ns = target.namespace;
    const route = `${scrapedLabel('namespace', target.honorLabels)}="${ns}",ingress="${target.routeName}"`;
    const upstream = (service: string) => `${ns}-${service}-${target.servicePortName}`;
    const select = (selector: string) => RequestMetrics.select(INGRESS_NGINX_SERIES, selector);
    return {
      route: select(route),
      canary: target.canaryServiceName ? select(`${route},canary="${upstream(target.canaryServiceName)}"`) : undefined,
      preview: target.preview ? select(`${route},canary="${upstream(target.preview.serviceName)}"`) : undefined,
      live: select(`${route},canary=""`),
    };
  },
  // Argo Rollouts creates and weights its own canary Ingress from the stable one.
  canaryTrafficRouting: (predictionRoute) => ({ nginx: { stableIngress: predictionRoute } }),
};
