import { Construct } from 'constructs';
import { cidrProblem } from '../private/cidr';
import { isHostname } from '../private/names';
import type { RouteContext } from '../private/gateway/route-context';
import { ValidationError } from '../core/validation-error';
import type { IServiceBackend, ITorchServeWorkload } from '../torchserve';
import { GatewayFeature, GatewayKind } from './gateway-kind';
import { type GatewayProvider, JwtVerification, jwtAuthUrlProblem, unsupportedMessage } from './gateway-provider';
import type { RequestMetrics } from './request-metrics';

/** Properties of a {@link GatewayRoute}. */
export interface GatewayRouteProps {
  /** The gateway that serves the routes, e.g. `Gateways.gatewayApi(GatewayApiImplementation.KONG)`. */
  readonly gateway: GatewayProvider;
  /** The model deployment to route to. */
  readonly service: ITorchServeWorkload;
  /** The public host of the prediction API. */
  readonly host: string;
  /** The TLS Secret for `host` (and `managementHost`), e.g. from {@link GatewayFrontend}. */
  readonly tlsSecretName: string;
  /** For a Gateway API gateway: the Gateway, in the same namespace, to attach to (see {@link GatewayFrontend}). @default - required for gateway-api */
  readonly gatewayName?: string;
  /** The IngressClass (nginx, kong, traefik). @default - "nginx" for nginx, "kong" for kong, the controller's default for traefik */
  readonly className?: string;
  /** Route `GET /ping` to this model. Only one model per host can own it. @default true */
  readonly routeHealthCheck?: boolean;
  /**
   * Host on which the management API (`/models/<model>`) is reachable, only from
   * `managementAllowFrom`. @default - the management API is not routed at all
   */
  readonly managementHost?: string;
  /** CIDR blocks allowed to reach `managementHost`. @default - required with managementHost */
  readonly managementAllowFrom?: string[];
  /**
   * Require a valid JWT on the prediction API. Kong verifies it with its jwt plugin against the
   * consumers of the environment (see {@link GatewayFrontend}); the other gateways delegate to
   * `jwtAuthUrl`. @default false
   */
  readonly requireJwt?: boolean;
  /**
   * Verifier that answers 2xx for a valid token (Traefik forwardAuth, NGINX auth-url); refused on
   * gateways that never call one (see {@link jwtAuthUrlProblem}). @default - required with requireJwt on those gateways
   */
  readonly jwtAuthUrl?: string;
  /** Requests per second allowed per client address. @default - no rate limit */
  readonly rateLimitPerSecond?: number;
  /** Requests a client may send above the rate in a burst. @default - twice the rate (Kong: not applicable) */
  readonly rateLimitBurst?: number;
  /** Cache GET responses for 5 minutes. @default false */
  readonly cacheGetResponses?: boolean;
  /**
   * A release's canary Service (`ModelRelease.canaryBackend`): prediction traffic is split by
   * weight between the inference Service and it, for Argo Rollouts to shift (Traefik weighted
   * TraefikService, HTTPRoute backend weights; for ingress-nginx Argo Rollouts adds the canary
   * Ingress itself). @default - no canary
   */
  readonly canary?: IServiceBackend;
  /**
   * A release's blue-green preview Service (`ModelRelease.previewBackend`): prediction requests
   * carrying `X-Model-Preview: true` go to it, so it can be smoke-tested and analysed before
   * promotion. @default - no preview
   */
  readonly preview?: IServiceBackend;
  /**
   * The gateway's own ServiceMonitor or PodMonitor scrapes it with `honorLabels: true`, so its
   * `namespace` and `service` labels are stored under those names. With the gateway charts'
   * default (`false`) Prometheus stores them as `exported_namespace` and `exported_service`,
   * and every selector reads those. @default false
   */
  readonly metricsHonorLabels?: boolean;
}

/**
 * Routes one model's prediction API through the environment's gateway, with the same promises on
 * every gateway: TLS only, the management API only from an allow-list (or not at all), the
 * metrics port never, body size and timeouts matching TorchServe's, and JWT, rate limits and
 * caching where asked. A feature the gateway cannot do fails at construction; it is never dropped.
 */
/** A model's routes as a release needs them: the gateway, the prediction route and its metrics. */
export interface IModelRoute {
  readonly gateway: GatewayProvider;
  /** The route object carrying the prediction API (Ingress, IngressRoute or HTTPRoute). */
  readonly predictionRouteName: string;
  /** The canary Service the prediction route weights against the stable one, if any. */
  readonly canaryServiceName?: string;
  /** The blue-green preview Service, if any. */
  readonly previewServiceName?: string;
  /** Every request of the prediction route, or `undefined` when the gateway exports none. */
  readonly requestMetrics?: RequestMetrics;
  /** The canary's requests alone, or `undefined` when the gateway reports stable and canary together. */
  readonly canaryRequestMetrics?: RequestMetrics;
  /** The preview's requests alone. */
  readonly previewRequestMetrics?: RequestMetrics;
  /** The prediction route without the preview's requests: live traffic. */
  readonly liveRequestMetrics?: RequestMetrics;
}

export class GatewayRoute extends Construct implements IModelRoute {
  /** The route object carrying the prediction API (Ingress, IngressRoute or HTTPRoute). */
  public readonly predictionRouteName: string;
  /** The gateway's request metrics for the whole prediction route, or `undefined` when it exports none. */
  public readonly requestMetrics?: RequestMetrics;
  /**
   * The gateway's metrics of the canary's requests only, or `undefined` when the gateway
   * reports stable and canary together (Kong and Envoy Gateway HTTPRoutes).
   */
  public readonly canaryRequestMetrics?: RequestMetrics;
  /** The prediction route's requests without the blue-green preview's: live traffic. */
  public readonly liveRequestMetrics?: RequestMetrics;
  /** The gateway that serves the routes. */
  public readonly gateway: GatewayProvider;
  /** The canary Service the prediction route weights against the stable one, if any. */
  public readonly canaryServiceName?: string;
  /** The blue-green preview Service, if any. */
  public readonly previewServiceName?: string;
  /** The route carrying preview requests, if any. */
  public readonly previewRouteName?: string;
  /** The gateway's metrics of the blue-green preview's requests only, if any. */
  public readonly previewRequestMetrics?: RequestMetrics;

  constructor(scope: Construct, id: string, props: GatewayRouteProps) {
    super(scope, id);
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`GatewayRoute.${code}`, message, this);
    };
    const gateway = props.gateway;
    if (gateway.kind === GatewayKind.GATEWAY_API && !props.gatewayName) {
      fail('MissingGateway', "Gateway API routes need 'gatewayName', the Gateway to attach to");
    }
    const requireFeature = (feature: GatewayFeature, asked: boolean): void => {
      const message = asked ? unsupportedMessage(gateway, feature) : undefined;
      if (message) fail('UnsupportedFeature', message);
    };
    requireFeature(GatewayFeature.JWT, props.requireJwt ?? false);
    requireFeature(GatewayFeature.RATE_LIMIT, props.rateLimitPerSecond !== undefined);
    requireFeature(GatewayFeature.RATE_LIMIT_BURST, props.rateLimitBurst !== undefined);
    requireFeature(GatewayFeature.CACHE, props.cacheGetResponses ?? false);
    requireFeature(GatewayFeature.MANAGEMENT_ALLOW_LIST, props.managementHost !== undefined);
    requireFeature(GatewayFeature.CANARY, props.canary !== undefined);
    requireFeature(GatewayFeature.BLUE_GREEN, props.preview !== undefined);

    for (const [prop, host] of [['host', props.host], ['managementHost', props.managementHost]] as const) {
      if (host !== undefined && !isHostname(host)) fail('InvalidHost', `'${prop}' ("${host}") must be a DNS name such as "api.example.com"`);
    }
    if (props.managementHost !== undefined) {
      if (!props.managementAllowFrom || props.managementAllowFrom.length === 0) {
        fail('MissingAllowList', "'managementAllowFrom' must list at least one CIDR when 'managementHost' is set; the management API is never open to everyone");
      }
      for (const cidr of props.managementAllowFrom ?? []) {
        const problem = cidrProblem(cidr);
        if (problem) fail('InvalidCidr', `'managementAllowFrom' entry "${cidr}" ${problem}`);
      }
    } else if (props.managementAllowFrom) {
      fail('MissingManagementHost', "'managementAllowFrom' needs 'managementHost'");
    }
    const authUrl = props.jwtAuthUrl;
    // A verifier without requireJwt would leave the prediction API open while looking protected.
    if (authUrl !== undefined && !props.requireJwt) fail('UnusedJwtAuthUrl', "'jwtAuthUrl' needs 'requireJwt: true'; without it no token is checked");
    const authUrlIssue = props.requireJwt ? jwtAuthUrlProblem(gateway, authUrl) : undefined;
    if (authUrlIssue && authUrl === undefined) fail('MissingJwtAuthUrl', `'jwtAuthUrl' ${authUrlIssue}`);
    if (authUrlIssue && gateway.jwtVerification === JwtVerification.VERIFIER) fail('InvalidJwtAuthUrl', `'jwtAuthUrl' ("${authUrl}") ${authUrlIssue}`);
    if (authUrlIssue) fail('UnusedJwtAuthUrl', `'jwtAuthUrl' ("${authUrl}") ${authUrlIssue}`);
    const rate = props.rateLimitPerSecond;
    if (rate !== undefined && (!Number.isInteger(rate) || rate < 1)) fail('InvalidRateLimit', `'rateLimitPerSecond' (${rate}) must be a positive integer`);
    const burst = props.rateLimitBurst;
    if (burst !== undefined && (!Number.isInteger(burst) || burst < 1)) fail('InvalidRateLimit', `'rateLimitBurst' (${burst}) must be a positive integer`);
    // Never dropped: a burst alone would limit nothing.
    if (burst !== undefined && rate === undefined) fail('InvalidRateLimit', "'rateLimitBurst' needs 'rateLimitPerSecond'");

    if (props.canary && gateway.canaryProvider) {
      fail('UnsupportedFeature', `gateway "${gateway.label}" cannot carry canary weights; its canaries are served by gateway "${gateway.canaryProvider.label}": create the route with that gateway`);
    }
    if (props.canary && props.preview) fail('ConflictingReleases', "'canary' and 'preview' belong to different strategies; choose one");

    const service = props.service;
    this.gateway = gateway;
    this.canaryServiceName = props.canary?.name;
    this.previewServiceName = props.preview?.name;
    const ctx: RouteContext = {
      scope: this,
      name: service.name,
      namespace: service.namespace,
      modelName: service.modelName,
      labels: service.labelsFor('gateway'),
      host: props.host,
      tlsSecretName: props.tlsSecretName,
      className: props.className,
      inference: service.inference,
      management: service.management,
      responseTimeoutSeconds: service.responseTimeout.toSeconds(),
      maxRequestBytes: service.maxRequestBytes,
      routeHealthCheck: props.routeHealthCheck ?? true,
      managementRoute: props.managementHost ? { host: props.managementHost, allowFrom: props.managementAllowFrom ?? [] } : undefined,
      jwt: props.requireJwt ? { authUrl: props.jwtAuthUrl } : undefined,
      rateLimit: rate !== undefined ? { requestsPerSecond: rate, burst: props.rateLimitBurst ?? rate * 2 } : undefined,
      cacheGetResponses: props.cacheGetResponses ?? false,
      canary: props.canary,
      preview: props.preview,
    };
    const rendered = gateway.renderRoutes(ctx, props.gatewayName);
    this.predictionRouteName = rendered.predictionRoute;
    this.previewRouteName = rendered.previewRoute;
    const metrics = gateway.requestMetrics({
      namespace: service.namespace,
      serviceName: service.inference.name,
      servicePort: ctx.inference.port,
      servicePortName: ctx.inference.portName,
      routeName: rendered.predictionRoute,
      canaryServiceName: this.canaryServiceName,
      preview: this.previewServiceName && rendered.previewRoute ? { serviceName: this.previewServiceName, routeName: rendered.previewRoute } : undefined,
      honorLabels: props.metricsHonorLabels ?? false,
    });
    this.requestMetrics = metrics?.route;
    this.canaryRequestMetrics = metrics?.canary;
    this.previewRequestMetrics = metrics?.preview;
    this.liveRequestMetrics = metrics?.live;
  }
}
