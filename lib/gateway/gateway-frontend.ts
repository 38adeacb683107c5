import { Construct } from 'constructs';
import { Certificate } from '../../imports/certificate-cert-manager.io';
import { Gateway, GatewaySpecListenersAllowedRoutesNamespacesFrom, GatewaySpecListenersTlsMode } from '../../imports/gateway-gateway.networking.k8s.io';
import {
  HttpRoute, HttpRouteSpecRulesFiltersRequestRedirectScheme, HttpRouteSpecRulesFiltersRequestRedirectStatusCode, HttpRouteSpecRulesFiltersType,
} from '../../imports/httproute-gateway.networking.k8s.io';
import { KongConsumer } from '../../imports/kongconsumer-configuration.konghq.com';
import { IngressRoute, IngressRouteSpecRoutesKind, IngressRouteSpecRoutesServicesKind, Middleware } from '../../imports/traefik.io';
import { HTTP_LISTENER, HTTPS_LISTENER } from '../private/gateway/gateway-api-routes';
import { DNS_LABEL_PATTERN } from '../private/names';
import { ValidationError } from '../private/validation-error';
import { GatewayApiImplementation, GatewayKind } from './gateway-kind';

/** The cert-manager issuer kinds. */
export enum IssuerKind {
  ISSUER = 'Issuer',
  CLUSTER_ISSUER = 'ClusterIssuer',
}

/** Properties of a {@link GatewayFrontend}. */
export interface GatewayFrontendProps {
  readonly kind: GatewayKind;
  /** Prefix of the object names, e.g. the fleet name. */
  readonly name: string;
  readonly namespace: string;
  /** Every host the environment serves; all go on one certificate. */
  readonly hosts: string[];
  /** The cert-manager Issuer or ClusterIssuer that signs the certificate. */
  readonly tlsIssuerName: string;
  /** @default IssuerKind.CLUSTER_ISSUER */
  readonly tlsIssuerKind?: IssuerKind;
  /** For `gateway-api`: the controller implementing it. @default - required for gateway-api */
  readonly implementation?: GatewayApiImplementation;
  /** For `gateway-api`: the GatewayClass. @default - the implementation's usual class: kong, traefik, eg, nginx */
  readonly gatewayClassName?: string;
  /**
   * For Kong JWT: Secrets (created outside this repository, labelled `konghq.com/credential: jwt`)
   * holding the consumers' JWT credentials. Only names are referenced; no secret is written.
   * @default - no consumer
   */
  readonly jwtCredentialSecrets?: string[];
  /** @default {} */
  readonly labels?: Record<string, string>;
}

const DEFAULT_GATEWAY_CLASS: Record<GatewayApiImplementation, string> = {
  [GatewayApiImplementation.KONG]: 'kong',
  [GatewayApiImplementation.TRAEFIK]: 'traefik',
  [GatewayApiImplementation.ENVOY_GATEWAY]: 'eg',
  [GatewayApiImplementation.NGINX_GATEWAY_FABRIC]: 'nginx',
};

/**
 * What an environment's gateway needs once, whatever the number of models: a cert-manager
 * Certificate for every host, the HTTP-to-HTTPS redirect, the Gateway itself for `gateway-api`,
 * and the KongConsumer that JWTs are checked against.
 */
export class GatewayFrontend extends Construct {
  /** The Secret the Certificate writes, for the routes' TLS. */
  public readonly tlsSecretName: string;
  /** For `gateway-api`: the Gateway routes attach to. */
  public readonly gatewayName?: string;

  constructor(scope: Construct, id: string, props: GatewayFrontendProps) {
    super(scope, id);
    if (!DNS_LABEL_PATTERN.test(props.tlsIssuerName)) {
      throw new ValidationError('GatewayFrontend.InvalidIssuer', `'tlsIssuerName' ("${props.tlsIssuerName}") must name a cert-manager issuer`, this);
    }
    if (props.hosts.length === 0) {
      throw new ValidationError('GatewayFrontend.NoHosts', "'hosts' must list at least one host", this);
    }
    const labels = props.labels ?? {};
    const metadata = (name: string) => ({ name, namespace: props.namespace, labels });
    const hosts = [...new Set(props.hosts)];
    this.tlsSecretName = `${props.name}-tls`;

    // One explicit Certificate rather than ingress-shim annotations: several routes share the
    // host, and one Secret must have exactly one owner.
    new Certificate(this, 'Certificate', {
      metadata: metadata(`${props.name}-tls`),
      spec: {
        secretName: this.tlsSecretName,
        dnsNames: hosts,
        issuerRef: { group: 'cert-manager.io', kind: props.tlsIssuerKind ?? IssuerKind.CLUSTER_ISSUER, name: props.tlsIssuerName },
      },
    });

    if (props.jwtCredentialSecrets && props.jwtCredentialSecrets.length > 0) {
      new KongConsumer(this, 'JwtConsumer', {
        metadata: { ...metadata(`${props.name}-api`), annotations: { 'kubernetes.io/ingress.class': 'kong' } },
        username: `${props.name}-api`,
        credentials: [...props.jwtCredentialSecrets],
      });
    }

    switch (props.kind) {
      case GatewayKind.GATEWAY_API: {
        if (!props.implementation) {
          throw new ValidationError('GatewayFrontend.MissingImplementation', "gateway-api needs 'implementation'", this);
        }
        this.gatewayName = props.name;
        const sameNamespace = { namespaces: { from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME } };
        new Gateway(this, 'Gateway', {
          metadata: metadata(props.name),
          spec: {
            gatewayClassName: props.gatewayClassName ?? DEFAULT_GATEWAY_CLASS[props.implementation],
            listeners: [
              { name: HTTP_LISTENER, protocol: 'HTTP', port: 80, allowedRoutes: sameNamespace },
              {
                name: HTTPS_LISTENER,
                protocol: 'HTTPS',
                port: 443,
                tls: { mode: GatewaySpecListenersTlsMode.TERMINATE, certificateRefs: [{ kind: 'Secret', name: this.tlsSecretName }] },
                allowedRoutes: sameNamespace,
              },
            ],
          },
        });
        new HttpRoute(this, 'HttpsRedirect', {
          metadata: metadata(`${props.name}-https-redirect`),
          spec: {
            parentRefs: [{ name: props.name, sectionName: HTTP_LISTENER }],
            hostnames: hosts,
            rules: [{
              filters: [{
                type: HttpRouteSpecRulesFiltersType.REQUEST_REDIRECT,
                requestRedirect: { scheme: HttpRouteSpecRulesFiltersRequestRedirectScheme.HTTPS, statusCode: HttpRouteSpecRulesFiltersRequestRedirectStatusCode.VALUE_301 },
              }],
            }],
          },
        });
        break;
      }
      case GatewayKind.TRAEFIK: {
        new Middleware(this, 'HttpsRedirectMiddleware', {
          metadata: metadata(`${props.name}-https-redirect`),
          spec: { redirectScheme: { scheme: 'https', permanent: true } },
        });
        new IngressRoute(this, 'HttpsRedirect', {
          metadata: metadata(`${props.name}-https-redirect`),
          spec: {
            entryPoints: ['web'],
            routes: [{
              kind: IngressRouteSpecRoutesKind.RULE,
              match: hosts.map((h) => `Host(\`${h}\`)`).join(' || '),
              middlewares: [{ name: `${props.name}-https-redirect` }],
              // A redirecting route still needs a service; Traefik's internal no-op serves.
              services: [{ kind: IngressRouteSpecRoutesServicesKind.TRAEFIK_SERVICE, name: 'noop@internal' }],
            }],
          },
        });
        break;
      }
      default:
        // ingress-nginx (force-ssl-redirect) and Kong (https-redirect-status-code) redirect per Ingress.
        break;
    }
  }
}
