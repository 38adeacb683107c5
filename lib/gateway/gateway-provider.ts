import type { FrontendParts, RenderedRoutes, RouteContext } from '../private/gateway/route-context';
import { httpUrlProblem } from '../private/url';
import { type GatewayApiImplementation, type GatewayFeature, type GatewayKind, featureName } from './gateway-kind';
import type { GatewayRequestMetrics, RequestMetricsTarget } from './request-metrics';

export type { BackendService, FrontendParts, RenderedRoutes, RouteContext } from '../private/gateway/route-context';

/** How a gateway checks the JWT on the prediction API. */
export enum JwtVerification {
  /** The gateway verifies the token itself against consumer credentials (Kong's jwt plugin and KongConsumer). */
  CONSUMER_CREDENTIALS = 'consumer-credentials',
  /** The gateway asks a verifier (`jwtAuthUrl`) that answers 2xx for a valid token (Traefik forwardAuth, NGINX auth-url). */
  VERIFIER = 'verifier',
}

/** What a canary's release gates read at this gateway. */
export enum CanaryGateSource {
  /** The gateway's own series of the canary backend, apart from the stable one. */
  GATEWAY = 'gateway',
  /**
   * TorchServe's metrics of the new ReplicaSet's pods: the gateway puts stable and canary into
   * one upstream and reports them together, so its series cannot judge the canary.
   */
  POD_METRICS = 'pod-metrics',
}

/** What the gateway-specific part of a {@link GatewayFrontend} needs. */
export interface FrontendContext extends FrontendParts {
  /** The GatewayClass, for gateways that have one. */
  readonly gatewayClassName?: string;
  /** Secrets holding the consumers' JWT credentials, for gateways that verify tokens themselves. */
  readonly jwtCredentialSecrets?: readonly string[];
}

/** What a provider's frontend rendered. */
export interface RenderedFrontend {
  /** The Gateway routes attach to, for Gateway API providers. */
  readonly gatewayName?: string;
}

/**
 * One gateway: what it can do and how it renders. `GatewayFrontend`, `GatewayRoute`,
 * `CanaryRollout`, the environment chart and the fleet file's schema ask the provider instead of
 * branching on the gateway's kind, so a new gateway is one new provider (see
 * `lib/gateway/providers/`).
 */
export interface GatewayProvider {
  readonly kind: GatewayKind;
  /** For `gateway-api`: the controller implementing it. */
  readonly implementation?: GatewayApiImplementation;
  /** A readable name, e.g. "gateway-api (envoy-gateway)". */
  readonly label: string;
  /** The namespace the gateway's proxies usually run in, which may call the models. */
  readonly defaultNamespace: string;
  /** How the gateway verifies JWTs; `undefined` when it cannot. */
  readonly jwtVerification?: JwtVerification;
  /** What canary gates read; `undefined` when the gateway cannot split canary traffic itself. */
  readonly canaryGates?: CanaryGateSource;
  /**
   * The provider that serves this gateway's canaries when the gateway cannot carry canary
   * weights itself: a Kong Ingress cannot, Kong's Gateway API support can.
   * @default - the gateway serves its own canaries, or none
   */
  readonly canaryProvider?: GatewayProvider;
  /** Whether a canary needs the Argo Rollouts Gateway API plugin (HTTPRoute weights). */
  readonly usesGatewayApiPlugin: boolean;

  /** Why the gateway cannot do `feature`; `undefined` when it can. */
  unsupported(feature: GatewayFeature): string | undefined;
  /** Renders what the environment needs once: a Gateway, a redirect, consumers. */
  renderFrontend(ctx: FrontendContext): RenderedFrontend;
  /** Renders one model's routes. `gatewayName` comes from {@link renderFrontend}. */
  renderRoutes(ctx: RouteContext, gatewayName?: string): RenderedRoutes;
  /** The gateway's request metrics for one model's routes; `undefined` when it exports none per route. */
  requestMetrics(target: RequestMetricsTarget): GatewayRequestMetrics | undefined;
  /** The Rollout's `canary.trafficRouting`, shifting weights on the prediction route. */
  canaryTrafficRouting(predictionRoute: string, namespace: string): Record<string, unknown>;
}

/**
 * Why `authUrl` cannot be the JWT verifier of a route through `provider` that requires a JWT, or
 * `undefined`. A gateway that asks a verifier needs an http(s) URL it can call; a gateway that
 * checks tokens against consumer credentials (Kong) never calls one, and a URL it ignores would
 * look like protection it does not give. The fleet file reports it at jwt.authUrl and
 * `GatewayRoute` throws it. Completes "got <authUrl>; ...".
 */
export function jwtAuthUrlProblem(provider: GatewayProvider, authUrl: string | undefined): string | undefined {
  if (provider.jwtVerification === JwtVerification.VERIFIER) {
    return authUrl === undefined
      ? `is required for gateway "${provider.label}", which delegates token checks to a verifier`
      : httpUrlProblem(authUrl, 'the http(s) URL of a verifier that answers 2xx for a valid token');
  }
  if (authUrl !== undefined && provider.jwtVerification === JwtVerification.CONSUMER_CREDENTIALS) {
    return `is never called by gateway "${provider.label}", which checks tokens against its consumers' JWT credentials; remove it`;
  }
  return undefined;
}

/** Why `provider` cannot do `feature`, as a sentence naming both; `undefined` when it can. */
export function unsupportedMessage(provider: GatewayProvider, feature: GatewayFeature): string | undefined {
  const reason = provider.unsupported(feature);
  return reason === undefined ? undefined : `gateway "${provider.label}" does not support ${featureName(feature)}: ${reason}`;
}

/** Every feature, for providers that declare their unsupported ones as a table. */
export function unsupportedFrom(table: Partial<Record<GatewayFeature, string>>): (feature: GatewayFeature) => string | undefined {
  return (feature) => table[feature];
}

