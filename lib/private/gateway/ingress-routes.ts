import * as k8s from '../../../imports/k8s';
import { annotateKongTimeouts, defineKongPlugins, managementPlugins, predictionPlugins } from './kong-plugins';
import { HEALTH_PATH, PREVIEW_HEADER, PREVIEW_HEADER_VALUE, type RenderedRoutes, type RouteContext, managementPath, predictionPaths } from './route-context';

interface IngressSpec {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly paths: { path: string; pathType: 'Prefix' | 'Exact' }[];
  readonly backend: { name: string; portName: string };
  readonly annotations: Record<string, string>;
}

function ingress(ctx: RouteContext, className: string, spec: IngressSpec): void {
  new k8s.KubeIngress(ctx.scope, spec.id, {
    metadata: { name: spec.name, namespace: ctx.namespace, labels: ctx.labels, annotations: spec.annotations },
    spec: {
      ingressClassName: className,
      tls: [{ hosts: [spec.host], secretName: ctx.tlsSecretName }],
      rules: [{
        host: spec.host,
        http: {
          paths: spec.paths.map(({ path, pathType }) => ({
            path,
            pathType,
            backend: { service: { name: spec.backend.name, port: { name: spec.backend.portName } } },
          })),
        },
      }],
    },
  });
}

/** An Ingress for the prediction and explanation paths on the public host. */
function predictionIngress(ctx: RouteContext, className: string, id: string, name: string, backend: IngressSpec['backend'], annotations: Record<string, string>): void {
  ingress(ctx, className, {
    id,
    name,
    host: ctx.host,
    paths: predictionPaths(ctx.modelName).map((path) => ({ path, pathType: 'Prefix' })),
    backend,
    annotations,
  });
}

/**
 * ingress-nginx: one Ingress per audience, because its annotations (auth, rate limits, the
 * allow-list) apply to a whole Ingress.
 *
 * @see https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/
 */
export function renderNginxRoutes(ctx: RouteContext): RenderedRoutes {
  const className = ctx.className ?? 'nginx';
  const common: Record<string, string> = {
    'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
    'nginx.ingress.kubernetes.io/proxy-body-size': String(ctx.maxRequestBytes),
    'nginx.ingress.kubernetes.io/proxy-read-timeout': String(ctx.responseTimeoutSeconds),
    'nginx.ingress.kubernetes.io/proxy-send-timeout': String(ctx.responseTimeoutSeconds),
  };
  const prediction: Record<string, string> = { ...common };
  if (ctx.jwt?.authUrl) {
    // ingress-nginx cannot verify a JWT itself; the verifier answers 2xx to let a request through.
    prediction['nginx.ingress.kubernetes.io/auth-url'] = ctx.jwt.authUrl;
  }
  if (ctx.rateLimit) {
    // limit-rps is per client address; the burst is expressed as a multiple of the rate.
    prediction['nginx.ingress.kubernetes.io/limit-rps'] = String(ctx.rateLimit.requestsPerSecond);
    prediction['nginx.ingress.kubernetes.io/limit-burst-multiplier'] = String(Math.max(1, Math.ceil(ctx.rateLimit.burst / ctx.rateLimit.requestsPerSecond)));
  }
  predictionIngress(ctx, className, 'PredictionIngress', ctx.name, ctx.inference, prediction);
  if (ctx.routeHealthCheck) {
    ingress(ctx, className, { id: 'HealthIngress', name: `${ctx.name}-health`, host: ctx.host, paths: [{ path: HEALTH_PATH, pathType: 'Exact' }], backend: ctx.inference, annotations: common });
  }
  if (ctx.managementRoute) {
    const cidrs = ctx.managementRoute.allowFrom.join(',');
    ingress(ctx, className, {
      id: 'ManagementIngress',
      name: `${ctx.name}-management`,
      host: ctx.managementRoute.host,
      paths: [{ path: managementPath(ctx.modelName), pathType: 'Prefix' }],
      backend: ctx.management,
      annotations: {
        ...common,
        // Controllers since v1.12 read allowlist-source-range; older ones only the alias.
        'nginx.ingress.kubernetes.io/allowlist-source-range': cidrs,
        'nginx.ingress.kubernetes.io/whitelist-source-range': cidrs,
      },
    });
  }
  // Argo Rollouts creates and weights its own canary Ingress from the stable one; the preview is
  // an ingress-nginx canary Ingress that matches on the header only (weight 0).
  if (ctx.preview) {
    predictionIngress(ctx, className, 'PreviewIngress', `${ctx.name}-preview`, ctx.preview, {
      'nginx.ingress.kubernetes.io/canary': 'true',
      'nginx.ingress.kubernetes.io/canary-by-header': PREVIEW_HEADER,
      'nginx.ingress.kubernetes.io/canary-by-header-value': PREVIEW_HEADER_VALUE,
      'nginx.ingress.kubernetes.io/canary-weight': '0',
    });
  }
  return { predictionRoute: ctx.name, previewRoute: ctx.preview ? `${ctx.name}-preview` : undefined };
}

/**
 * Kong Ingress Controller: Ingresses with KongPlugins attached by annotation.
 *
 * @see https://developer.konghq.com/kubernetes-ingress-controller/reference/annotations/
 */
export function renderKongRoutes(ctx: RouteContext): RenderedRoutes {
  const className = ctx.className ?? 'kong';
  const plugins = defineKongPlugins(ctx);
  annotateKongTimeouts(ctx);
  const common = (pluginNames: string[]): Record<string, string> => ({
    'konghq.com/protocols': 'https',
    'konghq.com/https-redirect-status-code': '301',
    'konghq.com/plugins': pluginNames.join(','),
  });
  predictionIngress(ctx, className, 'PredictionIngress', ctx.name, ctx.inference, common(predictionPlugins(plugins)));
  if (ctx.routeHealthCheck) {
    ingress(ctx, className, {
      id: 'HealthIngress', name: `${ctx.name}-health`, host: ctx.host, paths: [{ path: HEALTH_PATH, pathType: 'Exact' }], backend: ctx.inference, annotations: common([plugins.prometheus]),
    });
  }
  if (ctx.managementRoute) {
    ingress(ctx, className, {
      id: 'ManagementIngress',
      name: `${ctx.name}-management`,
      host: ctx.managementRoute.host,
      paths: [{ path: managementPath(ctx.modelName), pathType: 'Prefix' }],
      backend: ctx.management,
      annotations: common(managementPlugins(plugins)),
    });
  }
  if (ctx.preview) {
    predictionIngress(ctx, className, 'PreviewIngress', `${ctx.name}-preview`, ctx.preview,
      { ...common(predictionPlugins(plugins)), [`konghq.com/headers.${PREVIEW_HEADER.toLowerCase()}`]: PREVIEW_HEADER_VALUE });
  }
  return { predictionRoute: ctx.name, previewRoute: ctx.preview ? `${ctx.name}-preview` : undefined };
}
