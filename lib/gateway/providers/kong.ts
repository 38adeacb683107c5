import { renderKongRoutes } from '../../private/gateway/ingress-routes';
import { defineKongConsumer } from '../../private/gateway/kong-plugins';
import { GatewayFeature, GatewayKind } from '../gateway-kind';
import { CanaryGateSource, type GatewayProvider, JwtVerification, unsupportedFrom } from '../gateway-provider';
import { RequestMetrics, escapePromRegex as escape } from '../request-metrics';
import { GATEWAY_API_KONG, KONG_NO_BURST, KONG_SERIES } from './gateway-api-kong';

/**
 * Kong Ingress Controller with Ingresses and KongPlugins attached by annotation. A Kong Ingress
 * cannot carry canary weights and Argo Rollouts shifts Kong traffic through HTTPRoutes, so its
 * canaries are served by Kong's Gateway API support: the same plugins, on a Gateway of class "kong".
 *
 * @see https://developer.konghq.com/kubernetes-ingress-controller/reference/annotations/
 */
export const KONG: GatewayProvider = {
  kind: GatewayKind.KONG,
  label: 'kong',
  defaultNamespace: 'kong',
  jwtVerification: JwtVerification.CONSUMER_CREDENTIALS,
  canaryGates: CanaryGateSource.POD_METRICS,
  canaryProvider: GATEWAY_API_KONG,
  usesGatewayApiPlugin: false,
  unsupported: unsupportedFrom({ [GatewayFeature.RATE_LIMIT_BURST]: KONG_NO_BURST }),
  renderFrontend: (ctx) => {
    if (ctx.jwtCredentialSecrets && ctx.jwtCredentialSecrets.length > 0) defineKongConsumer(ctx, ctx.jwtCredentialSecrets);
    // Kong redirects to HTTPS per Ingress (https-redirect-status-code).
    return {};
  },
  renderRoutes: (ctx) => renderKongRoutes(ctx),
  requestMetrics: (target) => {
    // Selected by Kong route, "<ns>.<ingress>.<service>.<host>.<port>" (Kong/kubernetes-
    // ingress-controller v3.5 internal/dataplane/translator/subtranslator/ingress.go
    // intoKongRouteName); `route` survives the scrape, unlike Kong's `service` label.
    const byIngress = (ingress: string) => RequestMetrics.select(KONG_SERIES, `route=~"${escape(target.namespace)}\\\\.${escape(ingress)}\\\\..+"`);
    const route = byIngress(target.routeName);
    return { route, preview: target.preview ? byIngress(target.preview.routeName) : undefined, live: route };
  },
  canaryTrafficRouting: () => {
    throw new Error('a Kong Ingress cannot carry canary weights; its canaries are served by its canaryProvider');
  },
};
