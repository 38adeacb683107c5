import { type GatewayApiFilters, renderGatewayApiFrontend, renderGatewayApiRoutes } from '../../private/gateway/gateway-api-routes';
import type { RouteContext } from '../../private/gateway/route-context';
import { type GatewayApiImplementation, type GatewayFeature, GatewayKind } from '../gateway-kind';
import { type CanaryGateSource, type FrontendContext, type GatewayProvider, type JwtVerification, unsupportedFrom } from '../gateway-provider';
import type { GatewayRequestMetrics, RequestMetricsTarget } from '../request-metrics';

/** The Argo Rollouts Gateway API traffic router plugin's name. */
export const GATEWAY_API_PLUGIN = 'argoproj-labs/gatewayAPI';

/** What sets one Gateway API implementation apart. */
export interface GatewayApiImplementationSpec {
  readonly implementation: GatewayApiImplementation;
  /** The implementation's usual GatewayClass. */
  readonly gatewayClassName: string;
  readonly defaultNamespace: string;
  /** Why it cannot do a feature, per feature it cannot do. */
  readonly unsupported: Partial<Record<GatewayFeature, string>>;
  readonly jwtVerification?: JwtVerification;
  readonly canaryGates?: CanaryGateSource;
  /** The HTTPRoute filters (the implementation's own resources) of one model's routes. */
  filters(ctx: RouteContext): GatewayApiFilters;
  /** Environment-wide objects beyond the Gateway, e.g. Kong's JWT consumer. @default - none */
  renderExtras?(ctx: FrontendContext): void;
  requestMetrics(target: RequestMetricsTarget): GatewayRequestMetrics | undefined;
}

/**
 * A Gateway API implementation: a Gateway with an HTTPS listener (and an HTTP one that only
 * redirects), HTTPRoutes attached to it, and canary weights shifted on the HTTPRoute by the Argo
 * Rollouts Gateway API plugin.
 *
 * @see https://gateway-api.sigs.k8s.io/reference/spec/
 */
export function gatewayApiProvider(spec: GatewayApiImplementationSpec): GatewayProvider {
  return {
    kind: GatewayKind.GATEWAY_API,
    implementation: spec.implementation,
    label: `${GatewayKind.GATEWAY_API} (${spec.implementation})`,
    defaultNamespace: spec.defaultNamespace,
    jwtVerification: spec.jwtVerification,
    canaryGates: spec.canaryGates,
    usesGatewayApiPlugin: true,
    unsupported: unsupportedFrom(spec.unsupported),
    renderFrontend: (ctx) => {
      spec.renderExtras?.(ctx);
      return { gatewayName: renderGatewayApiFrontend(ctx, ctx.gatewayClassName ?? spec.gatewayClassName) };
    },
    renderRoutes: (ctx, gatewayName) => renderGatewayApiRoutes(ctx, gatewayName ?? ctx.name, (route) => spec.filters(route)),
    requestMetrics: (target) => spec.requestMetrics(target),
    canaryTrafficRouting: (predictionRoute, namespace) => ({ plugins: { [GATEWAY_API_PLUGIN]: { httpRoute: predictionRoute, namespace } } }),
  };
}
