/**
 * The gateways an environment can put in front of TorchServe.
 *
 * `gateway-api` is the recommended choice: Kong, Traefik, NGINX Gateway Fabric and Envoy Gateway
 * all implement it. `nginx` targets the community ingress-nginx controller, which was retired in
 * March 2026; it stays for existing clusters.
 */
export enum GatewayKind {
  GATEWAY_API = 'gateway-api',
  KONG = 'kong',
  TRAEFIK = 'traefik',
  NGINX = 'nginx',
}

/**
 * The controller behind a `gateway-api` Gateway. Features beyond routing and TLS (JWT, rate
 * limits, allow-lists, caching) are not part of the Gateway API standard; they come from the
 * implementation's own filters, which this project generates for Kong (KongPlugin) and Traefik
 * (Middleware), whose CRDs it validates against.
 */
export enum GatewayApiImplementation {
  KONG = 'kong',
  TRAEFIK = 'traefik',
  ENVOY_GATEWAY = 'envoy-gateway',
  NGINX_GATEWAY_FABRIC = 'nginx-gateway-fabric',
}

/** A capability a route may ask of its gateway. */
export enum GatewayFeature {
  JWT = 'jwt',
  RATE_LIMIT = 'rateLimit',
  CACHE = 'cache',
  MANAGEMENT_ALLOW_LIST = 'management',
}

const FEATURE_NAMES: Record<GatewayFeature, string> = {
  [GatewayFeature.JWT]: 'JWT authentication',
  [GatewayFeature.RATE_LIMIT]: 'rate limiting',
  [GatewayFeature.CACHE]: 'response caching',
  [GatewayFeature.MANAGEMENT_ALLOW_LIST]: 'client IP allow-list for the management API',
};

/** Why a gateway cannot do a feature; `undefined` means it can. */
const UNSUPPORTED: Record<string, Partial<Record<GatewayFeature, string>>> = {
  [GatewayKind.NGINX]: {
    [GatewayFeature.CACHE]: 'ingress-nginx can only cache through configuration snippets, which are disabled by default (allow-snippet-annotations=false) and rated Critical risk',
  },
  [GatewayKind.TRAEFIK]: {
    [GatewayFeature.CACHE]: 'Traefik Proxy (OSS) has no response cache; caching is a Traefik Hub feature',
  },
  [GatewayKind.KONG]: {},
  [`${GatewayKind.GATEWAY_API}/${GatewayApiImplementation.KONG}`]: {},
  [`${GatewayKind.GATEWAY_API}/${GatewayApiImplementation.TRAEFIK}`]: {
    [GatewayFeature.CACHE]: 'Traefik Proxy (OSS) has no response cache; caching is a Traefik Hub feature',
  },
  ...Object.fromEntries([GatewayApiImplementation.ENVOY_GATEWAY, GatewayApiImplementation.NGINX_GATEWAY_FABRIC].map((impl) => [
    `${GatewayKind.GATEWAY_API}/${impl}`,
    Object.fromEntries(Object.values(GatewayFeature).map((feature) => [
      feature,
      `the Gateway API standard has no ${feature === GatewayFeature.MANAGEMENT_ALLOW_LIST ? 'client IP allow-list' : FEATURE_NAMES[feature]}, and ${impl}'s own policy resources are not among the CRDs this project validates; use implementation kong or traefik`,
    ])),
  ])),
};


/** A readable name for a gateway, e.g. "gateway-api (envoy-gateway)". */
export function gatewayLabel(kind: GatewayKind, implementation?: GatewayApiImplementation): string {
  return kind === GatewayKind.GATEWAY_API ? `${kind} (${implementation})` : kind;
}

/** Why `kind` cannot provide `feature`, or `undefined` when it can. */
export function unsupportedReason(feature: GatewayFeature, kind: GatewayKind, implementation?: GatewayApiImplementation): string | undefined {
  const key = kind === GatewayKind.GATEWAY_API ? `${kind}/${implementation}` : kind;
  return UNSUPPORTED[key]?.[feature];
}

/** The human name of a feature, for error messages and the README table. */
export function featureName(feature: GatewayFeature): string {
  return FEATURE_NAMES[feature];
}
