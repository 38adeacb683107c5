import { GatewayApiImplementation, GatewayKind } from '../gateway-kind';
import type { GatewayProvider } from '../gateway-provider';
import { ENVOY_GATEWAY } from './envoy-gateway';
import { GATEWAY_API_KONG } from './gateway-api-kong';
import { GATEWAY_API_TRAEFIK } from './gateway-api-traefik';
import { INGRESS_NGINX } from './ingress-nginx';
import { KONG } from './kong';
import { NGINX_GATEWAY_FABRIC } from './nginx-gateway-fabric';
import { TRAEFIK } from './traefik';

export { GATEWAY_API_PLUGIN, gatewayApiProvider } from './gateway-api';
export type { GatewayApiImplementationSpec } from './gateway-api';
export { ENVOY_GATEWAY, ENVOY_SERIES } from './envoy-gateway';
export { GATEWAY_API_KONG, KONG_SERIES } from './gateway-api-kong';
export { GATEWAY_API_TRAEFIK } from './gateway-api-traefik';
export { INGRESS_NGINX, INGRESS_NGINX_SERIES } from './ingress-nginx';
export { KONG } from './kong';
export { NGINX_GATEWAY_FABRIC } from './nginx-gateway-fabric';
export { TRAEFIK, TRAEFIK_SERIES } from './traefik';

/** Every gateway this project renders; a new one is a new provider file and a line here. */
export const GATEWAY_PROVIDERS: readonly GatewayProvider[] = [GATEWAY_API_KONG, GATEWAY_API_TRAEFIK, ENVOY_GATEWAY, NGINX_GATEWAY_FABRIC, KONG, TRAEFIK, INGRESS_NGINX];

/** The provider of a gateway kind (and, for `gateway-api`, implementation); `undefined` for none. */
export function findGatewayProvider(kind: GatewayKind | string, implementation?: GatewayApiImplementation | string): GatewayProvider | undefined {
  return GATEWAY_PROVIDERS.find((p) => p.kind === kind && (p.implementation ?? undefined) === (kind === GatewayKind.GATEWAY_API ? implementation : undefined));
}

/** The gateway kinds, and the implementations of `gateway-api`, that providers exist for. */
export const GATEWAY_KINDS: readonly string[] = [...new Set(GATEWAY_PROVIDERS.map((p) => p.kind))];
export const GATEWAY_API_IMPLEMENTATIONS: readonly string[] = GATEWAY_PROVIDERS.filter((p) => p.kind === GatewayKind.GATEWAY_API).map((p) => p.implementation as string);

/** Re-exported for convenience: `Gateways.kong`, `Gateways.gatewayApi(...)`. */
export const Gateways = {
  nginx: INGRESS_NGINX,
  kong: KONG,
  traefik: TRAEFIK,
  /** The provider of a Gateway API implementation. */
  gatewayApi(implementation: GatewayApiImplementation): GatewayProvider {
    const provider = findGatewayProvider(GatewayKind.GATEWAY_API, implementation);
    if (!provider) throw new Error(`no Gateway API provider for "${implementation}"; known: ${GATEWAY_API_IMPLEMENTATIONS.join(', ')}`);
    return provider;
  },
};
