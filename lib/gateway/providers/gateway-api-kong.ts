import { kongFilters } from '../../private/gateway/gateway-api-routes';
import { defineKongConsumer } from '../../private/gateway/kong-plugins';
import { GatewayApiImplementation, GatewayFeature } from '../gateway-kind';
import { CanaryGateSource, JwtVerification } from '../gateway-provider';
import { type ExporterSeries, RequestMetrics, escapePromRegex as escape } from '../request-metrics';
import { gatewayApiProvider } from './gateway-api';

/** Kong's prometheus plugin, with status code and latency metrics on. */
export const KONG_SERIES: ExporterSeries = {
  source: 'Kong prometheus plugin (status_code_metrics, latency_metrics)',
  requestsMetric: 'kong_http_requests_total',
  bucketMetric: 'kong_request_latency_ms_bucket',
  statusLabel: 'code',
  serverErrorPattern: '5..',
  durationUnitSeconds: 0.001,
};

/** Kong's rate-limiting plugin has no burst. */
export const KONG_NO_BURST = "Kong's rate-limiting plugin counts fixed one-second windows; remove burst";

/**
 * Kong Ingress Controller's Gateway API support: HTTPRoutes with KongPlugins as ExtensionRef
 * filters, and a KongConsumer for JWTs.
 */
export const GATEWAY_API_KONG = gatewayApiProvider({
  implementation: GatewayApiImplementation.KONG,
  gatewayClassName: 'kong',
  defaultNamespace: 'kong',
  unsupported: { [GatewayFeature.RATE_LIMIT_BURST]: KONG_NO_BURST },
  jwtVerification: JwtVerification.CONSUMER_CREDENTIALS,
  canaryGates: CanaryGateSource.POD_METRICS,
  filters: kongFilters,
  renderExtras: (ctx) => {
    if (ctx.jwtCredentialSecrets && ctx.jwtCredentialSecrets.length > 0) defineKongConsumer(ctx, ctx.jwtCredentialSecrets);
  },
  requestMetrics: (target) => {
    // Kong's ingress controller turns an HTTPRoute rule into ONE Kong service whatever its
    // backends (weighted targets inside it), so stable and canary share every series; only
    // the Kong route, "httproute.<ns>.<route>.[<host>.]<rule>.<match>", tells routes apart
    // (Kong/kubernetes-ingress-controller v3.5 subtranslator/httproute.go and
    // httproute_atc.go). No canary series: the gates read TorchServe's pods instead.
    const byRoute = (route: string) => RequestMetrics.select(KONG_SERIES, `route=~"httproute\\\\.${escape(target.namespace)}\\\\.${escape(route)}\\\\..+"`);
    const route = byRoute(target.routeName);
    return { route, preview: target.preview ? byRoute(target.preview.routeName) : undefined, live: route };
  },
});
