import { traefikFilters } from '../../private/gateway/gateway-api-routes';
import { GatewayApiImplementation, GatewayFeature } from '../gateway-kind';
import { CanaryGateSource, JwtVerification } from '../gateway-provider';
import { RequestMetrics, escapePromRegex as escape, scrapedLabel } from '../request-metrics';
import { gatewayApiProvider } from './gateway-api';
import { TRAEFIK_NO_CACHE, TRAEFIK_SERIES } from './traefik';

/**
 * Traefik Proxy's Gateway API provider (Traefik v3.2 to v3.7): HTTPRoutes with Middlewares as
 * ExtensionRef filters.
 */
export const GATEWAY_API_TRAEFIK = gatewayApiProvider({
  implementation: GatewayApiImplementation.TRAEFIK,
  gatewayClassName: 'traefik',
  defaultNamespace: 'traefik',
  unsupported: { [GatewayFeature.CACHE]: TRAEFIK_NO_CACHE },
  jwtVerification: JwtVerification.VERIFIER,
  canaryGates: CanaryGateSource.GATEWAY,
  filters: traefikFilters,
  requestMetrics: (target) => {
    // Traefik's Gateway API provider names each backend's load-balancer service
    // "<ns>-<service>-http-<port>" from v3.2 to v3.7.5, and
    // "httproute-<ns>-<route>-gw-<gw ns>-<gw>-ep-<entry point>-<rule>-<hash>-svc-<ns>-<service>-<backend index>"
    // from v3.7.6 (traefik/traefik pkg/provider/kubernetes/gateway/httproute.go loadService
    // at v3.2.0, v3.7.5, v3.7.6 and v3.7.9); both with "@kubernetesgateway". The selector
    // accepts both forms, for exactly this backend.
    const ns = target.namespace;
    const service = scrapedLabel('service', target.honorLabels);
    const backend = (route: string, name: string, index: number) =>
      `(${escape(ns)}-${escape(name)}-http-${target.servicePort}|httproute-${escape(ns)}-${escape(route)}-gw-.+-svc-${escape(ns)}-${escape(name)}-${index})@kubernetesgateway`;
    const select = (route: string, name: string, index: number) => RequestMetrics.select(TRAEFIK_SERIES, `${service}=~"${backend(route, name, index)}"`);
    const stable = select(target.routeName, target.serviceName, 0);
    const route = target.canaryServiceName
      ? RequestMetrics.select(TRAEFIK_SERIES, `${service}=~"${backend(target.routeName, target.serviceName, 0)}|${backend(target.routeName, target.canaryServiceName, 1)}"`)
      : stable;
    return {
      route,
      canary: target.canaryServiceName ? select(target.routeName, target.canaryServiceName, 1) : undefined,
      preview: target.preview ? select(target.preview.routeName, target.preview.serviceName, 0) : undefined,
      live: stable,
    };
  },
});
