import { KongConsumer } from '../../../imports/kongconsumer-configuration.konghq.com';
import { KongPlugin } from '../../../imports/kongplugin-configuration.konghq.com';
import type { FrontendParts, RouteContext } from './route-context';

/** The KongPlugins of one model, by purpose; `undefined` where not asked for. */
export interface KongPluginNames {
  readonly prometheus: string;
  readonly requestSize: string;
  readonly jwt?: string;
  readonly rateLimit?: string;
  readonly cache?: string;
  readonly managementAllowList?: string;
}

/**
 * Defines the KongPlugins a model's routes use. Shared by the `kong` (Ingress) and
 * `gateway-api` with Kong renderers, which attach them by annotation or ExtensionRef.
 *
 * @see https://developer.konghq.com/plugins/
 */
export function defineKongPlugins(ctx: RouteContext): KongPluginNames {
  const plugin = (suffix: string, pluginName: string, config: Record<string, unknown>): string => {
    const name = `${ctx.name}-${suffix}`;
    new KongPlugin(ctx.scope, `KongPlugin${suffix}`, {
      metadata: { name, namespace: ctx.namespace, labels: ctx.labels },
      plugin: pluginName,
      config,
    });
    return name;
  };
  return {
    // Kong's metrics are per service and route only when the plugin says so; the alerts and
    // canary analysis read the status and latency metrics.
    prometheus: plugin('prometheus', 'prometheus', { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true }),
    requestSize: plugin('request-size', 'request-size-limiting', { allowed_payload_size: ctx.maxRequestBytes, size_unit: 'bytes', require_content_length: false }),
    jwt: ctx.jwt ? plugin('jwt', 'jwt', { claims_to_verify: ['exp'], key_claim_name: 'iss', secret_is_base64: false }) : undefined,
    rateLimit: ctx.rateLimit ? plugin('rate-limit', 'rate-limiting', { second: ctx.rateLimit.requestsPerSecond, limit_by: 'ip', policy: 'local' }) : undefined,
    cache: ctx.cacheGetResponses
      ? plugin('cache', 'proxy-cache', { strategy: 'memory', cache_ttl: 300, request_method: ['GET', 'HEAD'], response_code: [200], content_type: ['application/json', 'text/plain'] })
      : undefined,
    managementAllowList: ctx.managementRoute
      ? plugin('management-allow-list', 'ip-restriction', { allow: [...ctx.managementRoute.allowFrom] })
      : undefined,
  };
}

/** The plugins of the prediction route, in the order Kong lists them. */
export function predictionPlugins(plugins: KongPluginNames): string[] {
  return [plugins.prometheus, plugins.requestSize, plugins.jwt, plugins.rateLimit, plugins.cache].filter((p): p is string => p !== undefined);
}

export function managementPlugins(plugins: KongPluginNames): string[] {
  return [plugins.managementAllowList, plugins.prometheus, plugins.requestSize].filter((p): p is string => p !== undefined);
}

/** Kong reads upstream timeouts from annotations on the Kubernetes Service, in milliseconds. */
export function annotateKongTimeouts(ctx: RouteContext): void {
  const ms = String(ctx.responseTimeoutSeconds * 1000);
  // Every Service Kong proxies to: the release's canary or preview ones too.
  for (const service of [ctx.inference, ctx.management, ctx.canary, ctx.preview].filter((s) => s !== undefined)) {
    service.addAnnotation('konghq.com/read-timeout', ms);
    service.addAnnotation('konghq.com/write-timeout', ms);
    service.addAnnotation('konghq.com/connect-timeout', '10000');
  }
}

/**
 * The KongConsumer that JWTs are checked against: its credentials are Secrets created outside
 * this repository (labelled `konghq.com/credential: jwt`), referenced by name only.
 */
export function defineKongConsumer(ctx: FrontendParts, credentialSecrets: readonly string[]): void {
  new KongConsumer(ctx.scope, 'JwtConsumer', {
    metadata: { name: `${ctx.name}-api`, namespace: ctx.namespace, labels: ctx.labels, annotations: { 'kubernetes.io/ingress.class': 'kong' } },
    username: `${ctx.name}-api`,
    credentials: [...credentialSecrets],
  });
}
