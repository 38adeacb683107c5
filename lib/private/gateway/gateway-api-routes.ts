import {
  HttpRoute, HttpRouteSpecRulesFiltersType, HttpRouteSpecRulesMatchesPathType, type HttpRouteSpecRulesFilters,
} from '../../../imports/httproute-gateway.networking.k8s.io';
import { GatewayApiImplementation } from '../../gateway/gateway-kind';
import { defineKongPlugins, managementPlugins, predictionPlugins } from './kong-plugins';
import { HEALTH_PATH, type RenderedRoutes, type RouteContext, managementPath, predictionPaths } from './route-context';
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

  const route = (id: string, name: string, host: string, paths: { type: HttpRouteSpecRulesMatchesPathType; value: string }[], backend: { name: string; port: number }, filters: HttpRouteSpecRulesFilters[]): void => {
    new HttpRoute(ctx.scope, id, {
      metadata: { name, namespace: ctx.namespace, labels: ctx.labels },
      spec: {
        parentRefs: [{ name: gatewayName, sectionName: HTTPS_LISTENER }],
        hostnames: [host],
        rules: [{
          matches: paths.map((path) => ({ path })),
          ...(filters.length > 0 ? { filters } : {}),
          backendRefs: [{ name: backend.name, port: backend.port }],
          timeouts: { request: `${ctx.responseTimeoutSeconds}s` },
        }],
      },
    });
  };
  const prefix = HttpRouteSpecRulesMatchesPathType.PATH_PREFIX;
  route('PredictionRoute', ctx.name, ctx.host, predictionPaths(ctx.modelName).map((value) => ({ type: prefix, value })), ctx.inference, prediction);
  if (ctx.routeHealthCheck) {
    route('HealthRoute', `${ctx.name}-health`, ctx.host, [{ type: HttpRouteSpecRulesMatchesPathType.EXACT, value: HEALTH_PATH }], ctx.inference, health);
  }
  if (ctx.managementRoute) {
    route('ManagementRoute', `${ctx.name}-management`, ctx.managementRoute.host, [{ type: prefix, value: managementPath(ctx.modelName) }], ctx.management, management);
  }
  return { predictionRoute: ctx.name };
}
