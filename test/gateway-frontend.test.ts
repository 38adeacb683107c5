import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROVIDERS, GatewayApiImplementation, GatewayFrontend, type GatewayFrontendProps, GatewayKind, type GatewayProvider, GatewayRoute, Gateways, IssuerKind } from '../lib/gateway';
import { NAMESPACE, expectValid, expectValidationError, modelService, objectOf, synthObjects } from './helpers/constructs';
import type { Manifest } from './helpers/manifests';

const HOST = 'api.example.com';
const MANAGEMENT_HOST = 'mgmt.example.com';
const LABELS = { 'app.kubernetes.io/component': 'gateway' };

function build(props: Partial<GatewayFrontendProps> = {}) {
  const chart = Testing.chart();
  const frontend = new GatewayFrontend(chart, 'frontend', {
    gateway: Gateways.nginx,
    name: 'serving',
    namespace: NAMESPACE,
    hosts: [HOST],
    tlsIssuerName: 'letsencrypt-prod',
    labels: LABELS,
    ...props,
  });
  return { chart, frontend, objects: () => synthObjects(chart) };
}

const kinds = (objects: Manifest[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

describe('GatewayFrontend', () => {
  it('issues one cert-manager Certificate for every host, once each, from a ClusterIssuer by default', () => {
    const { frontend, objects } = build({ hosts: [HOST, MANAGEMENT_HOST, HOST] });
    expect(frontend.tlsSecretName).toBe('serving-tls');
    const certificate = objectOf(objects(), 'Certificate', 'serving-tls');
    expect(certificate.metadata).toEqual({ name: 'serving-tls', namespace: NAMESPACE, labels: LABELS });
    expect(certificate.spec).toEqual({
      secretName: 'serving-tls',
      dnsNames: [HOST, MANAGEMENT_HOST],
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt-prod' },
    });
    const namespaced = build({ tlsIssuerKind: IssuerKind.ISSUER }).objects();
    expect(objectOf(namespaced, 'Certificate', 'serving-tls').spec.issuerRef.kind).toBe('Issuer');
  });

  it('adds nothing else for gateways that redirect to HTTPS per route (ingress-nginx, Kong Ingress)', () => {
    for (const gateway of [Gateways.nginx, Gateways.kong]) {
      const { frontend, objects } = build({ gateway });
      expect(frontend.gatewayName).toBeUndefined();
      expect(frontend.gateway).toBe(gateway);
      expect(kinds(objects())).toEqual(['Certificate/serving-tls']);
    }
  });

  it('redirects HTTP to HTTPS on the web entry point for Traefik, for every host', () => {
    const objects = build({ gateway: Gateways.traefik, hosts: [HOST, MANAGEMENT_HOST] }).objects();
    expect(kinds(objects)).toEqual(['Certificate/serving-tls', 'IngressRoute/serving-https-redirect', 'Middleware/serving-https-redirect']);
    expect(objectOf(objects, 'Middleware', 'serving-https-redirect').spec).toEqual({ redirectScheme: { scheme: 'https', permanent: true } });
    expect(objectOf(objects, 'IngressRoute', 'serving-https-redirect').spec.routes).toEqual([{
      kind: 'Rule',
      match: `Host(\`${HOST}\`) || Host(\`${MANAGEMENT_HOST}\`)`,
      middlewares: [{ name: 'serving-https-redirect' }],
      services: [{ kind: 'TraefikService', name: 'noop@internal' }],
    }]);
  });

  it.each([
    [GatewayApiImplementation.KONG, 'kong'],
    [GatewayApiImplementation.TRAEFIK, 'traefik'],
    [GatewayApiImplementation.ENVOY_GATEWAY, 'eg'],
    [GatewayApiImplementation.NGINX_GATEWAY_FABRIC, 'nginx'],
  ])('renders the Gateway for gateway-api (%s), of its usual class %s, with the certificate on HTTPS and a 301 on HTTP', (implementation, gatewayClassName) => {
    const { frontend, objects } = build({ gateway: Gateways.gatewayApi(implementation), hosts: [HOST, MANAGEMENT_HOST] });
    expect(frontend.gatewayName).toBe('serving');
    const all = objects();
    expect(kinds(all)).toEqual(['Certificate/serving-tls', 'Gateway/serving', 'HTTPRoute/serving-https-redirect']);
    const sameNamespace = { namespaces: { from: 'Same' } };
    expect(objectOf(all, 'Gateway', 'serving').spec).toEqual({
      gatewayClassName,
      listeners: [
        { name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: sameNamespace },
        { name: 'https', protocol: 'HTTPS', port: 443, tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'serving-tls' }] }, allowedRoutes: sameNamespace },
      ],
    });
    expect(objectOf(all, 'HTTPRoute', 'serving-https-redirect').spec).toEqual({
      parentRefs: [{ name: 'serving', sectionName: 'http' }],
      hostnames: [HOST, MANAGEMENT_HOST],
      rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
    });
  });

  it('takes the GatewayClass from the props', () => {
    const objects = build({ gateway: Gateways.gatewayApi(GatewayApiImplementation.ENVOY_GATEWAY), gatewayClassName: 'eg-internal' }).objects();
    expect(objectOf(objects, 'Gateway', 'serving').spec.gatewayClassName).toBe('eg-internal');
  });

  it('defines the KongConsumer that JWTs are checked against, referencing the credential Secrets by name only', () => {
    for (const gateway of [Gateways.kong, Gateways.gatewayApi(GatewayApiImplementation.KONG)]) {
      const objects = build({ gateway, jwtCredentialSecrets: ['api-jwt', 'partner-jwt'] }).objects();
      const consumer = objectOf(objects, 'KongConsumer', 'serving-api');
      expect(consumer).toMatchObject({ username: 'serving-api', credentials: ['api-jwt', 'partner-jwt'] });
      expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    }
  });

  it('addRoute: a model\'s routes, a sibling of the frontend, on its gateway, its Gateway and its certificate', () => {
    const { chart, frontend, objects } = build({ gateway: Gateways.gatewayApi(GatewayApiImplementation.TRAEFIK) });
    const service = modelService(chart);
    const route = frontend.addRoute('route', { service, host: HOST });
    expect(route).toBeInstanceOf(GatewayRoute);
    expect(route.node.path).toBe('test/route');
    expect(route.gateway).toBe(frontend.gateway);
    const prediction = objectOf(objects(), 'HTTPRoute', route.predictionRouteName);
    expect(prediction.spec.parentRefs).toEqual([{ name: 'serving', sectionName: 'https' }]);

    const ingress = build({ gateway: Gateways.nginx });
    const nginxRoute = ingress.frontend.addRoute('route', { service: modelService(ingress.chart), host: HOST });
    expect(objectOf(ingress.objects(), 'Ingress', nginxRoute.predictionRouteName).spec.tls).toEqual([{ hosts: [HOST], secretName: 'serving-tls' }]);
  });

  it.each(GATEWAY_PROVIDERS.map((p) => [p.label, p] as const))('passes strict schema validation with a routed model: %s', (_label, gateway: GatewayProvider) => {
    const consumer = gateway.kind === GatewayKind.KONG || gateway.implementation === GatewayApiImplementation.KONG;
    const { chart, frontend, objects } = build({ gateway, hosts: [HOST, MANAGEMENT_HOST], jwtCredentialSecrets: consumer ? ['api-jwt'] : undefined });
    frontend.addRoute('route', { service: modelService(chart), host: HOST });
    expectValid(objects());
  });

  describe('refuses', () => {
    it.each<[string, Partial<GatewayFrontendProps>, string, string]>([
      ['a name that is no DNS label', { name: 'Serving' }, 'GatewayFrontend.InvalidName', '\'name\' ("Serving") must be a DNS-1123 label'],
      ['a namespace that is no namespace name', { namespace: 'ml.prod' }, 'GatewayFrontend.InvalidNamespace', '\'namespace\' ("ml.prod") must be a namespace name'],
      ['an issuer that is no object name', { tlsIssuerName: "Let's Encrypt" }, 'GatewayFrontend.InvalidIssuer', '\'tlsIssuerName\' ("Let\'s Encrypt") must name a cert-manager issuer'],
      ['no host', { hosts: [] }, 'GatewayFrontend.NoHosts', "'hosts' must list at least one host"],
      ['JWT credentials for a gateway that delegates tokens to a verifier', { gateway: Gateways.traefik, jwtCredentialSecrets: ['api-jwt'] }, 'GatewayFrontend.UnusedCredentials', 'gateway "traefik" does not verify JWTs against consumer credentials; remove \'jwtCredentialSecrets\''],
      ['JWT credentials for a gateway without JWT', { gateway: Gateways.gatewayApi(GatewayApiImplementation.ENVOY_GATEWAY), jwtCredentialSecrets: ['api-jwt'] }, 'GatewayFrontend.UnusedCredentials', 'gateway "gateway-api (envoy-gateway)"'],
    ])('%s', (_name, props, code, detail) => {
      expectValidationError(() => build(props), code, 'test/frontend', detail);
    });
  });
});
