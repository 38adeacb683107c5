import {
  HttpRoute, HttpRouteSpecRulesFiltersType, HttpRouteSpecRulesMatchesHeadersType, HttpRouteSpecRulesMatchesPathType, type HttpRouteSpecRulesBackendRefs, type HttpRouteSpecRulesFilters,
  type HttpRouteSpecRulesMatchesHeaders,
} from '../../../imports/httproute-gateway.networking.k8s.io';
import { GatewayApiImplementation } from '../../gateway/gateway-kind';
import { defineKongPlugins, managementPlugins, predictionPlugins } from './kong-plugins';
import { HEALTH_PATH, PREVIEW_HEADER, PREVIEW_HEADER_VALUE, type RenderedRoutes, type RouteContext, managementPath, predictionPaths } from './route-context';
import { defineTraefikMiddlewares, managementMiddlewares, predictionMiddlewares } from './traefik-middlewares';

/** The listener names of the Gateway that {@link GatewayFrontend} defines. */
export const HTTPS_LISTENER = 'https';
export const HTTP_LISTENER = 'http';

/**
 * Gateway API: HTTPRoutes attached to the environment's Gateway. Features outside the standard
 * come from the implementation's own resources, referenced as ExtensionRef filters.
 *
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#httproute
 */
export function renderGatewayApiRoutes(ctx: RouteContext, gatewayName: string, implementation: GatewayApiImplementation): RenderedRoutes {
  let prediction: HttpRouteSpecRulesFilters[] = [];
  let health: HttpRouteSpecRulesFilters[] = [];
  let management: HttpRouteSpecRulesFilters[] = [];
  const extensionRefs = (group: string, kind: string, names: string[]): HttpRouteSpecRulesFilters[] =>
    names.map((name) => ({ type: HttpRouteSpecRulesFiltersType.EXTENSION_REF, extensionRef: { group, kind, name } }));

  if (implementation === GatewayApiImplementation.KONG) {
    const plugins = defineKongPlugins(ctx);
    const kongRefs = (names: string[]) => extensionRefs('configuration.konghq.com', 'KongPlugin', names);
    prediction = kongRefs(predictionPlugins(plugins));
    health = kongRefs([plugins.prometheus]);
    management = kongRefs(managementPlugins(plugins));
  } else if (implementation === GatewayApiImplementation.TRAEFIK) {
    const middlewares = defineTraefikMiddlewares(ctx);
    const traefikRefs = (names: string[]) => extensionRefs('traefik.io', 'Middleware', names);
    prediction = traefikRefs(predictionMiddlewares(middlewares));
    health = traefikRefs([middlewares.bodyLimit]);
    management = traefikRefs(managementMiddlewares(middlewares));
  }

  const route = (id: string, name: string, host: string, paths: { type: HttpRouteSpecRulesMatchesPathType; value: string }[], backends: HttpRouteSpecRulesBackendRefs[], filters: HttpRouteSpecRulesFilters[], headers?: HttpRouteSpecRulesMatchesHeaders[]): void => {
    new HttpRoute(ctx.scope, id, {
      metadata: { name, namespace: ctx.namespace, labels: ctx.labels },
      spec: {
        parentRefs: [{ name: gatewayName, sectionName: HTTPS_LISTENER }],
        hostnames: [host],
        rules: [{
          matches: paths.map((path) => ({ path, ...(headers ? { headers } : {}) })),
          ...(filters.length > 0 ? { filters } : {}),
          backendRefs: backends,
          timeouts: { request: `${ctx.responseTimeoutSeconds}s` },
        }],
      },
    });
  };
  const prefix = HttpRouteSpecRulesMatchesPathType.PATH_PREFIX;
  const to = (backend: { name: string; port: number }) => [{ name: backend.name, port: backend.port }];
  const predictionMatches = predictionPaths(ctx.modelName).map((value) => ({ type: prefix, value }));
  // With a canary, the Argo Rollouts Gateway API plugin shifts these backend weights.
  const predictionBackends = ctx.canary
    ? [{ name: ctx.inference.name, port: ctx.inference.port, weight: 100 }, { name: ctx.canary.name, port: ctx.canary.port, weight: 0 }]
    : to(ctx.inference);
  route('PredictionRoute', ctx.name, ctx.host, predictionMatches, predictionBackends, prediction);
  if (ctx.preview) {
    route('PreviewRoute', `${ctx.name}-preview`, ctx.host, predictionMatches, to(ctx.preview), prediction,
      [{ type: HttpRouteSpecRulesMatchesHeadersType.EXACT, name: PREVIEW_HEADER, value: PREVIEW_HEADER_VALUE }]);
  }
  if (ctx.routeHealthCheck) {
    route('HealthRoute', `${ctx.name}-health`, ctx.host, [{ type: HttpRouteSpecRulesMatchesPathType.EXACT, value: HEALTH_PATH }], to(ctx.inference), health);
  }
  if (ctx.managementRoute) {
    route('ManagementRoute', `${ctx.name}-management`, ctx.managementRoute.host, [{ type: prefix, value: managementPath(ctx.modelName) }], to(ctx.management), management);
  }
  return { predictionRoute: ctx.name, previewRoute: ctx.preview ? `${ctx.name}-preview` : undefined };
}
