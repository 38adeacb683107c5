import { Middleware, MiddlewareSpecRateLimitPeriod } from '../../../imports/traefik.io';
import type { RouteContext } from './route-context';

/** The Middlewares of one model, by purpose; `undefined` where not asked for. */
export interface TraefikMiddlewareNames {
  readonly bodyLimit: string;
  readonly jwt?: string;
  readonly rateLimit?: string;
  readonly managementAllowList?: string;
}

/**
 * Defines the Traefik Middlewares a model's routes use. Shared by the `traefik` (IngressRoute)
 * and `gateway-api` with Traefik renderers.
 *
 * @see https://doc.traefik.io/traefik/middlewares/http/overview/
 */
export function defineTraefikMiddlewares(ctx: RouteContext): TraefikMiddlewareNames {
  const middleware = (suffix: string, spec: ConstructorParameters<typeof Middleware>[2]['spec']): string => {
    const name = `${ctx.name}-${suffix}`;
    new Middleware(ctx.scope, `Middleware${suffix}`, { metadata: { name, namespace: ctx.namespace, labels: ctx.labels }, spec });
    return name;
  };
  return {
    bodyLimit: middleware('body-limit', { buffering: { maxRequestBodyBytes: ctx.maxRequestBytes } }),
    // Traefik OSS cannot verify a JWT itself; a verifier answers 2xx to let the request through.
    jwt: ctx.jwt?.authUrl
      ? middleware('jwt', { forwardAuth: { address: ctx.jwt.authUrl, authResponseHeaders: ['X-Auth-Subject'], trustForwardHeader: false } })
      : undefined,
    // Per client: the default source criterion is the client's remote address.
    rateLimit: ctx.rateLimit
      ? middleware('rate-limit', {
        rateLimit: {
          average: ctx.rateLimit.requestsPerSecond,
          period: MiddlewareSpecRateLimitPeriod.fromString('1s'),
          burst: ctx.rateLimit.burst,
        },
      })
      : undefined,
    managementAllowList: ctx.managementRoute
      ? middleware('management-allow-list', { ipAllowList: { sourceRange: [...ctx.managementRoute.allowFrom] } })
      : undefined,
  };
}

export function predictionMiddlewares(names: TraefikMiddlewareNames): string[] {
  return [names.bodyLimit, names.jwt, names.rateLimit].filter((n): n is string => n !== undefined);
}

export function managementMiddlewares(names: TraefikMiddlewareNames): string[] {
  return [names.managementAllowList, names.bodyLimit].filter((n): n is string => n !== undefined);
}
