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

/** A capability a route or a release may ask of its gateway. */
export enum GatewayFeature {
  JWT = 'jwt',
  RATE_LIMIT = 'rateLimit',
  /** Requests above the rate in a burst. */
  RATE_LIMIT_BURST = 'rateLimitBurst',
  CACHE = 'cache',
  MANAGEMENT_ALLOW_LIST = 'management',
  /** Weighted canary traffic, with gates on request metrics. */
  CANARY = 'canary',
  /** A header-routed blue-green preview, with gates on request metrics. */
  BLUE_GREEN = 'blueGreen',
  /** Per-route request metrics, for latency and error alerts. */
  REQUEST_METRICS = 'requestMetrics',
}

const FEATURE_NAMES: Record<GatewayFeature, string> = {
  [GatewayFeature.JWT]: 'JWT authentication',
  [GatewayFeature.RATE_LIMIT]: 'rate limiting',
  [GatewayFeature.RATE_LIMIT_BURST]: 'a rate-limit burst',
  [GatewayFeature.CACHE]: 'response caching',
  [GatewayFeature.MANAGEMENT_ALLOW_LIST]: 'client IP allow-list for the management API',
  [GatewayFeature.CANARY]: 'canary releases',
  [GatewayFeature.BLUE_GREEN]: 'blue-green releases',
  [GatewayFeature.REQUEST_METRICS]: 'per-route request metrics',
};

/** The human name of a feature, for error messages and the README table. */
export function featureName(feature: GatewayFeature): string {
  return FEATURE_NAMES[feature];
}
