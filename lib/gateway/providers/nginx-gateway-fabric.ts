import { noFilters } from '../../private/gateway/gateway-api-routes';
import { GatewayApiImplementation, GatewayFeature } from '../gateway-kind';
import { gatewayApiProvider } from './gateway-api';
import { withoutPolicyResources } from './envoy-gateway';

/** NGINX Gateway Fabric exports per-upstream request metrics only with NGINX Plus. */
const NO_REQUEST_METRICS = 'NGINX Gateway Fabric exports no per-route request metrics (only with NGINX Plus), which release gates and latency and error alerts read';

/** NGINX Gateway Fabric: routing and TLS through the Gateway API standard. */
export const NGINX_GATEWAY_FABRIC = gatewayApiProvider({
  implementation: GatewayApiImplementation.NGINX_GATEWAY_FABRIC,
  gatewayClassName: 'nginx',
  defaultNamespace: 'nginx-gateway',
  unsupported: {
    ...withoutPolicyResources(GatewayApiImplementation.NGINX_GATEWAY_FABRIC, [GatewayFeature.JWT, GatewayFeature.RATE_LIMIT, GatewayFeature.RATE_LIMIT_BURST, GatewayFeature.CACHE, GatewayFeature.MANAGEMENT_ALLOW_LIST]),
    [GatewayFeature.CANARY]: NO_REQUEST_METRICS,
    [GatewayFeature.BLUE_GREEN]: NO_REQUEST_METRICS,
    [GatewayFeature.REQUEST_METRICS]: NO_REQUEST_METRICS,
  },
  filters: noFilters,
  requestMetrics: () => undefined,
});
