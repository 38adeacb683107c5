import {
  IngressRoute, IngressRouteSpecRoutesKind, IngressRouteSpecRoutesServicesKind, IngressRouteSpecRoutesServicesPort, ServersTransport, ServersTransportSpecForwardingTimeoutsResponseHeaderTimeout,
} from '../../../imports/traefik.io';
import { HEALTH_PATH, type RenderedRoutes, type RouteContext, managementPath, predictionPaths } from './route-context';
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
  const route = (id: string, name: string, host: string, match: string, backend: { name: string; port: number }, middlewareNames: string[]): void => {
    new IngressRoute(ctx.scope, id, {
      metadata: { name, namespace: ctx.namespace, labels: ctx.labels },
      spec: {
        ...(ctx.className ? { ingressClassName: ctx.className } : {}),
        entryPoints: ['websecure'],
        routes: [{
          kind: IngressRouteSpecRoutesKind.RULE,
          match: `Host(\`${host}\`) && (${match})`,
          middlewares: middlewareNames.map((m) => ({ name: m })),
          services: [{
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
  route('PredictionRoute', ctx.name, ctx.host, predictionPaths(ctx.modelName).map(pathRule).join(' || '), ctx.inference, predictionMiddlewares(middlewares));
  if (ctx.routeHealthCheck) {
    route('HealthRoute', `${ctx.name}-health`, ctx.host, `Path(\`${HEALTH_PATH}\`)`, ctx.inference, [middlewares.bodyLimit]);
  }
  if (ctx.managementRoute) {
    route('ManagementRoute', `${ctx.name}-management`, ctx.managementRoute.host, pathRule(managementPath(ctx.modelName)), ctx.management, managementMiddlewares(middlewares));
  }
  return { predictionRoute: ctx.name };
}

