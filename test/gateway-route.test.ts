import path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FleetConfigError, parseFleet } from '../lib/fleet';
import {
  GATEWAY_PROVIDERS, GatewayApiImplementation, GatewayFeature, GatewayKind, type GatewayProvider, GatewayRoute, type GatewayRouteProps, Gateways, JwtVerification,
} from '../lib/gateway';
import { type IServiceBackend, ModelArchive, TorchServeService } from '../lib/torchserve';
import { synthToTemp } from './helpers/app';
import { NAMESPACE, expectValid, expectValidationError, modelService, objectOf, synthObjects } from './helpers/constructs';
import { fleetWithGateway } from './helpers/fleets';
import { type Manifest, readEnvironment } from './helpers/manifests';

const HOST = 'api.example.com';
const MANAGEMENT_HOST = 'mgmt.example.com';
const ALLOW = ['10.20.0.0/16', '192.0.2.7/32'];
const tls = { issuer: 'letsencrypt-prod' };
const management = { host: MANAGEMENT_HOST, allowFrom: ALLOW };

/** Every gateway with every feature it supports switched on. */
const GATEWAYS: [string, Record<string, unknown>][] = [
  ['gateway-api-kong', { kind: 'gateway-api', implementation: 'kong', host: HOST, tls, management, jwt: { credentialSecrets: ['api-jwt'] }, rateLimit: { requestsPerSecond: 50 }, cache: true }],
  ['gateway-api-traefik', { kind: 'gateway-api', implementation: 'traefik', host: HOST, tls, management, jwt: { authUrl: 'http://jwt.auth.svc:8080/verify' }, rateLimit: { requestsPerSecond: 50, burst: 100 } }],
  ['gateway-api-envoy-gateway', { kind: 'gateway-api', implementation: 'envoy-gateway', host: HOST, tls }],
  ['kong', { kind: 'kong', host: HOST, tls, management, jwt: { credentialSecrets: ['api-jwt'] }, rateLimit: { requestsPerSecond: 50 }, cache: true }],
  ['traefik', { kind: 'traefik', host: HOST, tls, management, jwt: { authUrl: 'http://jwt.auth.svc:8080/verify' }, rateLimit: { requestsPerSecond: 50, burst: 100 } }],
  ['nginx', { kind: 'nginx', host: HOST, tls, management, jwt: { authUrl: 'http://jwt.auth.svc:8080/verify' }, rateLimit: { requestsPerSecond: 50, burst: 100 } }],
];

const ROUTE_KINDS = new Set(['Ingress', 'IngressRoute', 'HTTPRoute']);

interface BackendRef { route: Manifest; service: string; port: string | number }

/** Every (route, service, port) a route object sends traffic to. */
function backendRefs(manifests: Manifest[]): BackendRef[] {
  const refs: BackendRef[] = [];
  for (const route of manifests.filter((m) => ROUTE_KINDS.has(m.kind))) {
    if (route.kind === 'Ingress') {
      for (const rule of route.spec.rules) for (const p of rule.http.paths) refs.push({ route, service: p.backend.service.name, port: p.backend.service.port.name ?? p.backend.service.port.number });
    } else if (route.kind === 'IngressRoute') {
      for (const r of route.spec.routes) for (const s of r.services) if (s.kind !== 'TraefikService') refs.push({ route, service: s.name, port: s.port });
    } else {
      for (const rule of route.spec.rules) for (const b of rule.backendRefs ?? []) refs.push({ route, service: b.name, port: b.port });
    }
  }
  return refs;
}

/** Names of the plugin/middleware objects a route applies. */
function attachedFilters(route: Manifest): { kind: string; name: string }[] {
  if (route.kind === 'Ingress') {
    const plugins = route.metadata.annotations?.['konghq.com/plugins'];
    return plugins ? plugins.split(',').map((name: string) => ({ kind: 'KongPlugin', name })) : [];
  }
  if (route.kind === 'IngressRoute') return route.spec.routes.flatMap((r: Manifest) => (r.middlewares ?? []).map((m: { name: string }) => ({ kind: 'Middleware', name: m.name })));
  return route.spec.rules.flatMap((r: Manifest) => (r.filters ?? []).filter((f: Manifest) => f.type === 'ExtensionRef').map((f: Manifest) => ({ kind: f.extensionRef.kind, name: f.extensionRef.name })));
}

/** The CIDRs a route restricts clients to, or undefined when anyone may call it. */
function allowList(route: Manifest, manifests: Manifest[]): string[] | undefined {
  const nginx = route.metadata.annotations?.['nginx.ingress.kubernetes.io/allowlist-source-range'];
  if (nginx) return nginx.split(',');
  for (const { kind, name } of attachedFilters(route)) {
    const filter = manifests.find((m) => m.kind === kind && m.metadata.name === name);
    if (filter?.plugin === 'ip-restriction') return filter.config.allow;
    if (filter?.spec?.ipAllowList) return filter.spec.ipAllowList.sourceRange;
  }
  return undefined;
}

describe.each(GATEWAYS)('gateway %s', (name, gateway) => {
  const outdir = synthToTemp({ text: fleetWithGateway(gateway) });
  const manifests = readEnvironment(path.join(outdir, 'production'));
  const routes = manifests.filter((m) => ROUTE_KINDS.has(m.kind));

  it('matches its YAML file snapshot', async () => {
    const gatewayObjects = manifests.filter((m) => m.metadata.labels?.['app.kubernetes.io/component'] === 'gateway' || Object.keys(m.metadata.annotations ?? {}).some((k) => k.startsWith('konghq.com/')));
    await expect(gatewayObjects.map((m) => stringify(m, { lineWidth: 0 })).join('---\n')).toMatchFileSnapshot(`./__snapshots__/gateway-${name}.k8s.yaml`);
  });

  it('routes the prediction API, explanations and /ping to the inference port', () => {
    const text = JSON.stringify(routes);
    expect(text).toContain('/predictions/intent_classifier');
    expect(text).toContain('/explanations/intent_classifier');
    expect(text).toContain('/ping');
    const toInference = backendRefs(manifests).filter((r) => r.service === 'intent-classifier');
    expect(toInference.length).toBeGreaterThan(0);
    for (const ref of toInference) expect([8080, 'http']).toContain(ref.port);
  });

  it('resolves every backend reference to a Service and a port in the same output', () => {
    const refs = backendRefs(manifests);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const service = manifests.find((m) => m.kind === 'Service' && m.metadata.name === ref.service && m.metadata.namespace === ref.route.metadata.namespace);
      expect(service, `${ref.route.kind}/${ref.route.metadata.name} -> ${ref.service}`).toBeDefined();
      const port = service!.spec.ports.find((p: { name: string; port: number }) => p.name === ref.port || p.port === ref.port);
      expect(port, `${ref.route.kind}/${ref.route.metadata.name} -> ${ref.service}:${ref.port}`).toBeDefined();
    }
    for (const route of routes) {
      for (const filter of attachedFilters(route)) {
        expect(manifests.some((m) => m.kind === filter.kind && m.metadata.name === filter.name), `${route.metadata.name} -> ${filter.kind}/${filter.name}`).toBe(true);
      }
      for (const parent of route.spec.parentRefs ?? []) {
        expect(manifests.some((m) => m.kind === 'Gateway' && m.metadata.name === parent.name)).toBe(true);
      }
    }
  });

  it('serves TLS only, from the cert-manager Certificate, and redirects HTTP to HTTPS', () => {
    const certificate = manifests.find((m) => m.kind === 'Certificate');
    expect(certificate?.spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt-prod' });
    expect(certificate?.spec.dnsNames).toContain(HOST);
    const secret = certificate?.spec.secretName;
    for (const route of routes.filter((r) => r.kind !== 'HTTPRoute')) {
      if (route.kind === 'Ingress') expect(route.spec.tls).toEqual([{ hosts: [route.spec.rules[0].host], secretName: secret }]);
      else if (route.spec.entryPoints.includes('websecure')) expect(route.spec.tls).toEqual({ secretName: secret });
    }
    const redirects = JSON.stringify(manifests);
    if (name === 'nginx') expect(redirects).toContain('"nginx.ingress.kubernetes.io/force-ssl-redirect":"true"');
    else if (name === 'kong') expect(redirects).toContain('"konghq.com/https-redirect-status-code":"301"');
    else if (name === 'traefik') expect(redirects).toContain('"redirectScheme":{"permanent":true,"scheme":"https"}');
    else {
      const gw = manifests.find((m) => m.kind === 'Gateway');
      expect(gw?.spec.listeners.find((l: Manifest) => l.protocol === 'HTTPS').tls.certificateRefs).toEqual([{ kind: 'Secret', name: secret }]);
      expect(redirects).toContain('"requestRedirect":{"scheme":"https","statusCode":301}');
    }
  });

  it('never routes the metrics port, and the management API only behind the allow-list', () => {
    const refs = backendRefs(manifests);
    expect(refs.filter((r) => r.service === 'intent-classifier-metrics' || r.port === 8082 || r.port === 'metrics')).toEqual([]);
    const toManagement = refs.filter((r) => r.service === 'intent-classifier-management' || r.port === 8081 || r.port === 'management');
    if (gateway.management === undefined) {
      expect(toManagement).toEqual([]);
      return;
    }
    expect(toManagement.length).toBeGreaterThan(0);
    for (const ref of toManagement) {
      expect(allowList(ref.route, manifests), `${ref.route.kind}/${ref.route.metadata.name} reaches the management API without an allow-list`).toEqual(ALLOW);
      const hosts = ref.route.kind === 'Ingress' ? ref.route.spec.rules.map((r: Manifest) => r.host) : ref.route.spec.hostnames ?? [ref.route.spec.routes[0].match];
      expect(JSON.stringify(hosts)).toContain(MANAGEMENT_HOST);
      expect(JSON.stringify(hosts)).not.toContain(`"${HOST}"`);
    }
    for (const route of routes.filter((r) => allowList(r, manifests) === undefined)) {
      expect(backendRefs([route]).every((r) => r.service === 'intent-classifier')).toBe(true);
    }
  });

  it('limits request bodies and timeouts to what TorchServe allows', () => {
    const text = JSON.stringify(manifests);
    if (name.endsWith('envoy-gateway')) {
      // No body-limit resource exists in the standard; TorchServe's own max_request_size applies.
      expect(text).toContain('"timeouts":{"request":"60s"}');
    } else if (name.includes('kong')) {
      expect(text).toContain('"allowed_payload_size":6553500');
    } else if (name.includes('traefik')) {
      expect(text).toContain('"maxRequestBodyBytes":6553500');
    } else {
      expect(text).toContain('"nginx.ingress.kubernetes.io/proxy-body-size":"6553500"');
      expect(text).toContain('"nginx.ingress.kubernetes.io/proxy-read-timeout":"60"');
    }
  });
});

describe('gateway features a gateway cannot do', () => {
  it.each([
    ['nginx', { cache: true }, 'environments.production.gateway.cache: got true; gateway "nginx" cannot do this: ingress-nginx can only cache through configuration snippets'],
    ['traefik', { cache: true }, 'environments.production.gateway.cache: got true; gateway "traefik" cannot do this: Traefik Proxy (OSS) has no response cache'],
    ['gateway-api', { implementation: 'envoy-gateway', jwt: { authUrl: 'http://x.y/z' } }, 'environments.production.gateway.jwt: got a mapping; gateway "gateway-api (envoy-gateway)" cannot do this: the Gateway API standard has no JWT authentication'],
    ['gateway-api', { implementation: 'nginx-gateway-fabric', management }, 'environments.production.gateway.management: got a mapping; gateway "gateway-api (nginx-gateway-fabric)" cannot do this: the Gateway API standard has no client IP allow-list'],
    ['kong', { rateLimit: { requestsPerSecond: 5, burst: 10 } }, 'environments.production.gateway.rateLimit.burst: got 10; gateway "kong" cannot do this: Kong\'s rate-limiting plugin counts fixed one-second windows; remove burst'],
    ['traefik', { jwt: {} }, 'environments.production.gateway.jwt.authUrl: is required for gateway "traefik", which delegates token checks to a verifier'],
    ['kong', { jwt: { authUrl: 'http://x.y/z' } }, 'environments.production.gateway.jwt.credentialSecrets: is required for gateway "kong"'],
    // Kong checks tokens against its consumers and would never call the URL: refused at its line, not ignored.
    ['kong', { jwt: { authUrl: 'http://x.y/z', credentialSecrets: ['kong-jwt'] } }, 'environments.production.gateway.jwt.authUrl: got "http://x.y/z"; is never called by gateway "kong", which checks tokens against its consumers\' JWT credentials; remove it'],
    ['traefik', { jwt: { authUrl: 'HTTP://verify.auth.svc/check' } }, 'environments.production.gateway.jwt.authUrl: got "HTTP://verify.auth.svc/check"; must be the http(s) URL of a verifier that answers 2xx for a valid token'],
    ['nginx', { host: `${'a'.repeat(64)}.example.com` }, `environments.production.gateway.host: got "${'a'.repeat(56)}...; must be a DNS name such as "api.example.com"`],
    ['gateway-api', {}, 'environments.production.gateway.implementation: is required for gateway-api; one of: kong, traefik, envoy-gateway, nginx-gateway-fabric'],
    ['nginx', { management: { host: MANAGEMENT_HOST, allowFrom: ['10.0.0.1/8'] } }, 'environments.production.gateway.management.allowFrom[0]: got "10.0.0.1/8"; has host bits set; did you mean "10.0.0.0/8" (or "10.0.0.1/32" for one address)?'],
    ['nginx', { management: { host: MANAGEMENT_HOST, allowFrom: [] } }, 'environments.production.gateway.management.allowFrom: got a list; must list at least one CIDR'],
    ['nginx', { tls: undefined }, 'environments.production.gateway.tls: is required'],
    ['istio', {}, 'environments.production.gateway.kind: got "istio"; expected one of: "gateway-api", "kong", "traefik", "nginx"'],
  ] as [string, Record<string, unknown>, string][])('rejects %s with %j', (kind, extra, message) => {
    const gateway = { kind, host: HOST, tls, ...extra };
    if ('tls' in extra && extra.tls === undefined) delete (gateway as Record<string, unknown>).tls;
    let error: unknown;
    try {
      parseFleet(fleetWithGateway(gateway, ['production']), 'fleet.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FleetConfigError);
    expect((error as Error).message).toContain(message);
  });

  it('throws at construction, naming the gateway and the feature, for library users', () => {
    const chart = new Chart(Testing.app(), 'prod');
    const service = new TorchServeService(chart, 'model', {
      modelName: 'm', modelVersion: '1.0.0', modelArchive: ModelArchive.fromS3('s3://bucket/m.mar'), handler: 'h.py',
      image: 'pytorch/torchserve:0.12.0-gpu', cpu: '1', memory: '4Gi', namespace: 'ml',
    });
    expect(() => new GatewayRoute(chart, 'route', { gateway: Gateways.traefik, service, host: HOST, tlsSecretName: 'tls', cacheGetResponses: true }))
      .toThrow('[GatewayRoute.UnsupportedFeature] prod/route: gateway "traefik" does not support response caching: Traefik Proxy (OSS) has no response cache');
    expect(() => new GatewayRoute(chart, 'route2', {
      gateway: Gateways.gatewayApi(GatewayApiImplementation.ENVOY_GATEWAY), gatewayName: 'gw', service, host: HOST, tlsSecretName: 'tls', rateLimitPerSecond: 5,
    })).toThrow('[GatewayRoute.UnsupportedFeature] prod/route2: gateway "gateway-api (envoy-gateway)" does not support rate limiting');
    expect(() => new GatewayRoute(chart, 'route3', { gateway: Gateways.nginx, service, host: HOST, tlsSecretName: 'tls', managementHost: MANAGEMENT_HOST }))
      .toThrow("[GatewayRoute.MissingAllowList] prod/route3: 'managementAllowFrom' must list at least one CIDR");
  });
});

describe('GatewayRoute, built with props', () => {
  function build(props: Partial<GatewayRouteProps> = {}) {
    const chart = Testing.chart();
    const service = modelService(chart);
    const route = new GatewayRoute(chart, 'route', { gateway: Gateways.nginx, service, host: HOST, tlsSecretName: 'serving-tls', ...props });
    return { chart, service, route, objects: () => synthObjects(chart) };
  }
  const backend = (name: string): IServiceBackend => ({ name, port: 8080, portName: 'http', addAnnotation: () => undefined });
  const names = (objects: Manifest[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

  it('by default routes predictions and /ping over TLS, never the management API, labelled as the model\'s gateway part', () => {
    const { route, objects } = build();
    const all = objects();
    expect(names(all.filter((o) => o.kind === 'Ingress'))).toEqual(['Ingress/intent-classifier', 'Ingress/intent-classifier-health']);
    expect(route.predictionRouteName).toBe('intent-classifier');
    for (const ingress of all.filter((o) => o.kind === 'Ingress')) {
      expect(ingress.metadata.namespace).toBe(NAMESPACE);
      expect(ingress.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'intent-classifier', 'app.kubernetes.io/component': 'gateway' });
      expect(ingress.spec.tls).toEqual([{ hosts: [HOST], secretName: 'serving-tls' }]);
      expect(ingress.spec.ingressClassName).toBe('nginx');
    }
    expect(JSON.stringify(all.filter((o) => o.kind === 'Ingress'))).not.toMatch(/management|"port":\{"number":8081\}/);
    // Only one model per host can own /ping.
    expect(names(build({ routeHealthCheck: false }).objects().filter((o) => o.kind === 'Ingress'))).toEqual(['Ingress/intent-classifier']);
  });

  it('uses each gateway\'s usual IngressClass unless told', () => {
    const ingressClass = (gateway: GatewayProvider, className?: string) => objectOf(build({ gateway, className }).objects(), 'Ingress', 'intent-classifier').spec.ingressClassName;
    expect(ingressClass(Gateways.nginx)).toBe('nginx');
    expect(ingressClass(Gateways.kong)).toBe('kong');
    expect(ingressClass(Gateways.nginx, 'nginx-internal')).toBe('nginx-internal');
    // Traefik's IngressRoutes go to the controller's default unless a class is named.
    const ingressRoute = (className?: string) => objectOf(build({ gateway: Gateways.traefik, className }).objects(), 'IngressRoute', 'intent-classifier').spec;
    expect(ingressRoute()).not.toHaveProperty('ingressClassName');
    expect(ingressRoute('traefik-internal').ingressClassName).toBe('traefik-internal');
  });

  it('allows a burst of twice the rate unless told', () => {
    const rateLimit = (props: Partial<GatewayRouteProps>) => objectOf(build({ gateway: Gateways.traefik, ...props }).objects(), 'Middleware', 'intent-classifier-rate-limit').spec.rateLimit;
    expect(rateLimit({ rateLimitPerSecond: 10 })).toMatchObject({ average: 10, burst: 20 });
    expect(rateLimit({ rateLimitPerSecond: 10, rateLimitBurst: 50 })).toMatchObject({ average: 10, burst: 50 });
  });

  it('weights prediction traffic between the model and a release\'s canary, and routes preview requests to its preview', () => {
    const canary = build({ gateway: Gateways.traefik, canary: backend('intent-classifier-canary') });
    expect(canary.route.canaryServiceName).toBe('intent-classifier-canary');
    expect(canary.route.canaryRequestMetrics).toBeDefined();
    expect(objectOf(canary.objects(), 'TraefikService', 'intent-classifier').spec.weighted.services.map((s: Manifest) => [s.name, s.weight])).toEqual([['intent-classifier', 100], ['intent-classifier-canary', 0]]);
    const preview = build({ gateway: Gateways.nginx, preview: backend('intent-classifier-preview') });
    expect(preview.route).toMatchObject({ previewServiceName: 'intent-classifier-preview', previewRouteName: 'intent-classifier-preview' });
    expect(preview.route.previewRequestMetrics).toBeDefined();
    expect(objectOf(preview.objects(), 'Ingress', 'intent-classifier-preview').metadata.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/canary': 'true' });
  });

  it('exposes no request metrics where the gateway exports none, so a release or an alert cannot read empty series', () => {
    const route = build({ gateway: Gateways.gatewayApi(GatewayApiImplementation.NGINX_GATEWAY_FABRIC), gatewayName: 'serving' }).route;
    expect(route.requestMetrics).toBeUndefined();
    expect(build().route.requestMetrics).toBeDefined();
  });

  it.each(GATEWAY_PROVIDERS.map((p) => [p.label, p] as const))('passes strict schema validation with every feature %s supports', (_label, gateway: GatewayProvider) => {
    const can = (feature: GatewayFeature) => gateway.unsupported(feature) === undefined;
    const { objects } = build({
      gateway,
      gatewayName: gateway.kind === GatewayKind.GATEWAY_API ? 'serving' : undefined,
      requireJwt: can(GatewayFeature.JWT),
      jwtAuthUrl: can(GatewayFeature.JWT) && gateway.jwtVerification === JwtVerification.VERIFIER ? 'http://jwt.auth.svc:8080/verify' : undefined,
      rateLimitPerSecond: can(GatewayFeature.RATE_LIMIT) ? 50 : undefined,
      rateLimitBurst: can(GatewayFeature.RATE_LIMIT_BURST) ? 100 : undefined,
      cacheGetResponses: can(GatewayFeature.CACHE),
      managementHost: can(GatewayFeature.MANAGEMENT_ALLOW_LIST) ? MANAGEMENT_HOST : undefined,
      managementAllowFrom: can(GatewayFeature.MANAGEMENT_ALLOW_LIST) ? ALLOW : undefined,
    });
    expectValid(objects());
  });

  describe('refuses', () => {
    it.each<[string, Partial<GatewayRouteProps>, string, string]>([
      ['a Gateway API route without its Gateway', { gateway: Gateways.gatewayApi(GatewayApiImplementation.TRAEFIK) }, 'GatewayRoute.MissingGateway', "Gateway API routes need 'gatewayName', the Gateway to attach to"],
      ['a host that is no DNS name', { host: 'API.example.com' }, 'GatewayRoute.InvalidHost', '\'host\' ("API.example.com") must be a DNS name such as "api.example.com"'],
      ['a management host that is no DNS name', { managementHost: 'mgmt', managementAllowFrom: ALLOW }, 'GatewayRoute.InvalidHost', '\'managementHost\' ("mgmt") must be a DNS name'],
      // A DNS label holds 63 characters; the fleet file refuses a longer one too.
      ['a host with a label of 64 characters', { host: `${'a'.repeat(64)}.example.com` }, 'GatewayRoute.InvalidHost', 'must be a DNS name such as "api.example.com"'],
      ['a management host open to everyone', { managementHost: MANAGEMENT_HOST, managementAllowFrom: [] }, 'GatewayRoute.MissingAllowList', "'managementAllowFrom' must list at least one CIDR when 'managementHost' is set"],
      ['an allow-list entry that is no CIDR', { managementHost: MANAGEMENT_HOST, managementAllowFrom: ['10.20.0.0'] }, 'GatewayRoute.InvalidCidr', '\'managementAllowFrom\' entry "10.20.0.0"'],
      ['an allow-list without a management host', { managementAllowFrom: ALLOW }, 'GatewayRoute.MissingManagementHost', "'managementAllowFrom' needs 'managementHost'"],
      ['JWT on a verifier gateway without the verifier', { requireJwt: true }, 'GatewayRoute.MissingJwtAuthUrl', '\'jwtAuthUrl\' is required for gateway "nginx", which delegates token checks to a verifier'],
      ['a verifier without requireJwt, which would check no token', { jwtAuthUrl: 'http://jwt.auth.svc:8080/verify' }, 'GatewayRoute.UnusedJwtAuthUrl', "'jwtAuthUrl' needs 'requireJwt: true'"],
      ['a verifier Kong would never call', { gateway: Gateways.kong, requireJwt: true, jwtAuthUrl: 'http://jwt.auth.svc:8080/verify' }, 'GatewayRoute.UnusedJwtAuthUrl', '\'jwtAuthUrl\' ("http://jwt.auth.svc:8080/verify") is never called by gateway "kong", which checks tokens against its consumers\' JWT credentials; remove it'],
      ['a verifier that is no http(s) URL', { requireJwt: true, jwtAuthUrl: 'jwt.auth.svc:8080/verify' }, 'GatewayRoute.InvalidJwtAuthUrl', '\'jwtAuthUrl\' ("jwt.auth.svc:8080/verify") must be the http(s) URL of a verifier that answers 2xx for a valid token'],
      ['a rate of 0', { rateLimitPerSecond: 0 }, 'GatewayRoute.InvalidRateLimit', "'rateLimitPerSecond' (0) must be a positive integer"],
      ['a fractional burst', { rateLimitPerSecond: 10, rateLimitBurst: 2.5 }, 'GatewayRoute.InvalidRateLimit', "'rateLimitBurst' (2.5) must be a positive integer"],
      ['a burst without a rate, which would limit nothing', { rateLimitBurst: 20 }, 'GatewayRoute.InvalidRateLimit', "'rateLimitBurst' needs 'rateLimitPerSecond'"],
      ['a canary and a preview at once', { canary: backend('a-canary'), preview: backend('a-preview') }, 'GatewayRoute.ConflictingReleases', "'canary' and 'preview' belong to different strategies; choose one"],
      ['a canary on a Kong Ingress, which cannot carry weights', { gateway: Gateways.kong, canary: backend('a-canary') }, 'GatewayRoute.UnsupportedFeature', 'gateway "kong" cannot carry canary weights; its canaries are served by gateway "gateway-api (kong)"'],
      ['a canary on a gateway without request metrics', { gateway: Gateways.gatewayApi(GatewayApiImplementation.NGINX_GATEWAY_FABRIC), gatewayName: 'serving', canary: backend('a-canary') }, 'GatewayRoute.UnsupportedFeature', 'does not support canary releases'],
    ])('%s', (_name, props, code, detail) => {
      expectValidationError(() => build(props), code, 'test/route', detail);
    });
  });
});
