import {
  IngressRoute, IngressRouteSpecRoutesKind, IngressRouteSpecRoutesServicesKind, IngressRouteSpecRoutesServicesPort, Middleware, ServersTransport,
  ServersTransportSpecForwardingTimeoutsResponseHeaderTimeout, TraefikService, TraefikServiceSpecWeightedServicesKind, TraefikServiceSpecWeightedServicesPort,
} from '../../../imports/traefik.io';
import { type FrontendParts, HEALTH_PATH, PREVIEW_HEADER, PREVIEW_HEADER_VALUE, type RenderedRoutes, type RouteContext, managementPath, predictionPaths } from './route-context';
import { defineTraefikMiddlewares, managementMiddlewares, predictionMiddlewares } from './traefik-middlewares';

/** A Traefik rule matching a path and everything below it, but not `/pathsuffix`. */
function pathRule(path: string): string {
  return `Path(\`${path}\`) || PathPrefix(\`${path}/\`)`;
}

/**
 * Traefik Proxy v3: IngressRoutes on the `websecure` entry point with Middlewares, and a
 * ServersTransport carrying TorchServe's response timeout.
 *
 * @see https://doc.traefik.io/traefik/routing/providers/kubernetes-crd/
 */
export function renderTraefikRoutes(ctx: RouteContext): RenderedRoutes {
  const middlewares = defineTraefikMiddlewares(ctx);
  new ServersTransport(ctx.scope, 'ServersTransport', {
    metadata: { name: ctx.name, namespace: ctx.namespace, labels: ctx.labels },
    spec: { forwardingTimeouts: { responseHeaderTimeout: ServersTransportSpecForwardingTimeoutsResponseHeaderTimeout.fromString(`${ctx.responseTimeoutSeconds}s`) } },
  });
  const route = (id: string, name: string, host: string, match: string, backend: { name: string; port: number; traefikService?: boolean }, middlewareNames: string[]): void => {
    new IngressRoute(ctx.scope, id, {
      metadata: { name, namespace: ctx.namespace, labels: ctx.labels },
      spec: {
        ...(ctx.className ? { ingressClassName: ctx.className } : {}),
        entryPoints: ['websecure'],
        routes: [{
          kind: IngressRouteSpecRoutesKind.RULE,
          match: `Host(\`${host}\`) && (${match})`,
          middlewares: middlewareNames.map((m) => ({ name: m })),
          services: [backend.traefikService
            ? { kind: IngressRouteSpecRoutesServicesKind.TRAEFIK_SERVICE, name: backend.name }
            : {
              kind: IngressRouteSpecRoutesServicesKind.SERVICE,
              name: backend.name,
              // By number: Traefik then names the service "<ns>-<name>-<port>", which the alerts select on.
              port: IngressRouteSpecRoutesServicesPort.fromNumber(backend.port),
              serversTransport: ctx.name,
            }],
        }],
        tls: { secretName: ctx.tlsSecretName },
      },
    });
  };
  let predictionBackend: { name: string; port: number; traefikService?: boolean } = ctx.inference;
  if (ctx.canary) {
    // Argo Rollouts shifts the weights of this TraefikService during a canary.
    new TraefikService(ctx.scope, 'WeightedService', {
      metadata: { name: ctx.name, namespace: ctx.namespace, labels: ctx.labels },
      spec: {
        weighted: {
          services: [[ctx.inference, 100], [ctx.canary, 0]].map(([backend, weight]) => ({
            kind: TraefikServiceSpecWeightedServicesKind.SERVICE,
            name: (backend as { name: string }).name,
            port: TraefikServiceSpecWeightedServicesPort.fromNumber((backend as { port: number }).port),
            serversTransport: ctx.name,
            weight: weight as number,
          })),
        },
      },
    });
    predictionBackend = { name: ctx.name, port: ctx.inference.port, traefikService: true };
  }
  const predictionMatch = predictionPaths(ctx.modelName).map(pathRule).join(' || ');
  route('PredictionRoute', ctx.name, ctx.host, predictionMatch, predictionBackend, predictionMiddlewares(middlewares));
  if (ctx.preview) {
    route('PreviewRoute', `${ctx.name}-preview`, ctx.host, `(${predictionMatch}) && Header(\`${PREVIEW_HEADER}\`, \`${PREVIEW_HEADER_VALUE}\`)`, ctx.preview, predictionMiddlewares(middlewares));
  }
  if (ctx.routeHealthCheck) {
    route('HealthRoute', `${ctx.name}-health`, ctx.host, `Path(\`${HEALTH_PATH}\`)`, ctx.inference, [middlewares.bodyLimit]);
  }
  if (ctx.managementRoute) {
    route('ManagementRoute', `${ctx.name}-management`, ctx.managementRoute.host, pathRule(managementPath(ctx.modelName)), ctx.management, managementMiddlewares(middlewares));
  }
  return { predictionRoute: ctx.name, previewRoute: ctx.preview ? `${ctx.name}-preview` : undefined };
}


/** Traefik's HTTP-to-HTTPS redirect for every host: a Middleware and an IngressRoute on `web`. */
export function renderTraefikFrontend(ctx: FrontendParts): void {
  const metadata = (name: string) => ({ name, namespace: ctx.namespace, labels: ctx.labels });
  new Middleware(ctx.scope, 'HttpsRedirectMiddleware', {
    metadata: metadata(`${ctx.name}-https-redirect`),
    spec: { redirectScheme: { scheme: 'https', permanent: true } },
  });
  new IngressRoute(ctx.scope, 'HttpsRedirect', {
    metadata: metadata(`${ctx.name}-https-redirect`),
    spec: {
      entryPoints: ['web'],
      routes: [{
        kind: IngressRouteSpecRoutesKind.RULE,
        match: ctx.hosts.map((h) => `Host(\`${h}\`)`).join(' || '),
        middlewares: [{ name: `${ctx.name}-https-redirect` }],
        // A redirecting route still needs a service; Traefik's internal no-op serves.
        services: [{ kind: IngressRouteSpecRoutesServicesKind.TRAEFIK_SERVICE, name: 'noop@internal' }],
      }],
    },
  });
}
