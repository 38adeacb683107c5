import { Gateway, GatewaySpecListenersAllowedRoutesNamespacesFrom, GatewaySpecListenersTlsMode } from '../../../imports/gateway-gateway.networking.k8s.io';
import {
  HttpRoute, HttpRouteSpecRulesFiltersRequestRedirectScheme, HttpRouteSpecRulesFiltersRequestRedirectStatusCode, HttpRouteSpecRulesFiltersType,
  HttpRouteSpecRulesMatchesHeadersType, HttpRouteSpecRulesMatchesPathType, type HttpRouteSpecRulesBackendRefs, type HttpRouteSpecRulesFilters,
  type HttpRouteSpecRulesMatchesHeaders,
} from '../../../imports/httproute-gateway.networking.k8s.io';
import { defineKongPlugins, managementPlugins, predictionPlugins } from './kong-plugins';
import { type FrontendParts, HEALTH_PATH, PREVIEW_HEADER, PREVIEW_HEADER_VALUE, type RenderedRoutes, type RouteContext, managementPath, predictionPaths } from './route-context';
import { defineTraefikMiddlewares, managementMiddlewares, predictionMiddlewares } from './traefik-middlewares';

/** The listener names of the Gateway that {@link renderGatewayApiFrontend} defines. */
export const HTTPS_LISTENER = 'https';
export const HTTP_LISTENER = 'http';

/** The HTTPRoute filters of a model's routes, by route: an implementation's own features. */
export interface GatewayApiFilters {
  readonly prediction: HttpRouteSpecRulesFilters[];
  readonly health: HttpRouteSpecRulesFilters[];
  readonly management: HttpRouteSpecRulesFilters[];
}

const extensionRefs = (group: string, kind: string, names: string[]): HttpRouteSpecRulesFilters[] =>
  names.map((name) => ({ type: HttpRouteSpecRulesFiltersType.EXTENSION_REF, extensionRef: { group, kind, name } }));

/** Kong's features as KongPlugins, referenced from the routes as ExtensionRef filters. */
export function kongFilters(ctx: RouteContext): GatewayApiFilters {
  const plugins = defineKongPlugins(ctx);
  const refs = (names: string[]) => extensionRefs('configuration.konghq.com', 'KongPlugin', names);
  return { prediction: refs(predictionPlugins(plugins)), health: refs([plugins.prometheus]), management: refs(managementPlugins(plugins)) };
}

/** Traefik's features as Middlewares, referenced from the routes as ExtensionRef filters. */
export function traefikFilters(ctx: RouteContext): GatewayApiFilters {
  const middlewares = defineTraefikMiddlewares(ctx);
  const refs = (names: string[]) => extensionRefs('traefik.io', 'Middleware', names);
  return { prediction: refs(predictionMiddlewares(middlewares)), health: refs([middlewares.bodyLimit]), management: refs(managementMiddlewares(middlewares)) };
}

/** No filters: routing and TLS only, what the Gateway API standard itself defines. */
export function noFilters(): GatewayApiFilters {
  return { prediction: [], health: [], management: [] };
}

/**
 * The environment's Gateway (an HTTP listener that only redirects, an HTTPS listener with the
 * certificate), both accepting routes from its own namespace only, and the redirect HTTPRoute.
 */
export function renderGatewayApiFrontend(ctx: FrontendParts, gatewayClassName: string): string {
  const metadata = (name: string) => ({ name, namespace: ctx.namespace, labels: ctx.labels });
  const sameNamespace = { namespaces: { from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME } };
  new Gateway(ctx.scope, 'Gateway', {
    metadata: metadata(ctx.name),
    spec: {
      gatewayClassName,
      listeners: [
        { name: HTTP_LISTENER, protocol: 'HTTP', port: 80, allowedRoutes: sameNamespace },
        {
          name: HTTPS_LISTENER,
          protocol: 'HTTPS',
          port: 443,
          tls: { mode: GatewaySpecListenersTlsMode.TERMINATE, certificateRefs: [{ kind: 'Secret', name: ctx.tlsSecretName }] },
          allowedRoutes: sameNamespace,
        },
      ],
    },
  });
  new HttpRoute(ctx.scope, 'HttpsRedirect', {
    metadata: metadata(`${ctx.name}-https-redirect`),
    spec: {
      parentRefs: [{ name: ctx.name, sectionName: HTTP_LISTENER }],
      hostnames: [...ctx.hosts],
      rules: [{
        filters: [{
          type: HttpRouteSpecRulesFiltersType.REQUEST_REDIRECT,
          requestRedirect: { scheme: HttpRouteSpecRulesFiltersRequestRedirectScheme.HTTPS, statusCode: HttpRouteSpecRulesFiltersRequestRedirectStatusCode.VALUE_301 },
        }],
      }],
    },
  });
  return ctx.name;
}

/**
 * Gateway API: HTTPRoutes attached to the environment's Gateway. Features outside the standard
 * come from the implementation's own resources, referenced as ExtensionRef filters.
 *
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#httproute
 */
export function renderGatewayApiRoutes(ctx: RouteContext, gatewayName: string, filters: (ctx: RouteContext) => GatewayApiFilters): RenderedRoutes {
  const { prediction, health, management } = filters(ctx);
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
