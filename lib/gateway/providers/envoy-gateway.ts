import { noFilters } from '../../private/gateway/gateway-api-routes';
import { GatewayApiImplementation, GatewayFeature, featureName } from '../gateway-kind';
import { CanaryGateSource } from '../gateway-provider';
import { type ExporterSeries, RequestMetrics } from '../request-metrics';
import { gatewayApiProvider } from './gateway-api';

/** Envoy's per-cluster upstream statistics, as Envoy Gateway's proxies export them. */
export const ENVOY_SERIES: ExporterSeries = {
  source: 'Envoy Gateway proxy metrics (envoy_cluster_upstream_*)',
  requestsMetric: 'envoy_cluster_upstream_rq_xx',
  bucketMetric: 'envoy_cluster_upstream_rq_time_bucket',
  statusLabel: 'envoy_response_code_class',
  serverErrorPattern: '5',
  durationUnitSeconds: 0.001,
};

/** Why a Gateway API implementation without policy resources here cannot do a feature. */
export function withoutPolicyResources(implementation: string, features: readonly GatewayFeature[]): Partial<Record<GatewayFeature, string>> {
  return Object.fromEntries(features.map((feature) => [
    feature,
    `the Gateway API standard has no ${feature === GatewayFeature.MANAGEMENT_ALLOW_LIST ? 'client IP allow-list' : featureName(feature)}, and ${implementation}'s own policy resources are not among the CRDs this project validates; use implementation kong or traefik`,
  ]));
}

const POLICY_FEATURES = [GatewayFeature.JWT, GatewayFeature.RATE_LIMIT, GatewayFeature.RATE_LIMIT_BURST, GatewayFeature.CACHE, GatewayFeature.MANAGEMENT_ALLOW_LIST];

/** Envoy Gateway: routing and TLS through the Gateway API standard. */
export const ENVOY_GATEWAY = gatewayApiProvider({
  implementation: GatewayApiImplementation.ENVOY_GATEWAY,
  gatewayClassName: 'eg',
  defaultNamespace: 'envoy-gateway-system',
  unsupported: withoutPolicyResources(GatewayApiImplementation.ENVOY_GATEWAY, POLICY_FEATURES),
  canaryGates: CanaryGateSource.POD_METRICS,
  filters: noFilters,
  requestMetrics: (target) => {
    // Envoy Gateway builds one Envoy cluster per HTTPRoute rule, "httproute/<ns>/<route>/rule/<n>",
    // with every backendRef a weighted endpoint group inside it (envoyproxy/gateway v1.9.0
    // internal/gatewayapi/helpers.go irRouteDestinationName), so stable and canary share
    // its series. Each route here has one rule. No canary series: the gates read TorchServe.
    const byRoute = (route: string) => RequestMetrics.select(ENVOY_SERIES, `envoy_cluster_name="httproute/${target.namespace}/${route}/rule/0"`);
    const route = byRoute(target.routeName);
    return { route, preview: target.preview ? byRoute(target.preview.routeName) : undefined, live: route };
  },
});
