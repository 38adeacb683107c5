import { Construct } from 'constructs';
import { Certificate } from '../../imports/certificate-cert-manager.io';
import { DNS_LABEL_PATTERN, isDnsLabel } from '../private/names';
import { ValidationError } from '../core/validation-error';
import { type GatewayProvider, JwtVerification } from './gateway-provider';
import { GatewayRoute, type GatewayRouteProps } from './gateway-route';

/** A route's props without what its {@link GatewayFrontend} knows: the gateway, its Gateway and the certificate. */
export type FrontendRouteOptions = Omit<GatewayRouteProps, 'gateway' | 'gatewayName' | 'tlsSecretName'>;

/** The cert-manager issuer kinds. */
export enum IssuerKind {
  ISSUER = 'Issuer',
  CLUSTER_ISSUER = 'ClusterIssuer',
}

/** Properties of a {@link GatewayFrontend}. */
export interface GatewayFrontendProps {
  /** The environment's gateway, e.g. `Gateways.gatewayApi(GatewayApiImplementation.KONG)`. */
  readonly gateway: GatewayProvider;
  /** Prefix of the object names, e.g. the fleet name. */
  readonly name: string;
  readonly namespace: string;
  /** Every host the environment serves; all go on one certificate. */
  readonly hosts: string[];
  /** The cert-manager Issuer or ClusterIssuer that signs the certificate. */
  readonly tlsIssuerName: string;
  /** @default IssuerKind.CLUSTER_ISSUER */
  readonly tlsIssuerKind?: IssuerKind;
  /** For a Gateway API gateway: the GatewayClass. @default - the implementation's usual class: kong, traefik, eg, nginx */
  readonly gatewayClassName?: string;
  /**
   * For gateways that verify JWTs against consumer credentials (Kong): Secrets (created outside
   * this repository, labelled `konghq.com/credential: jwt`) holding them. Only names are
   * referenced; no secret is written.
   * @default - no consumer
   */
  readonly jwtCredentialSecrets?: string[];
  /** @default {} */
  readonly labels?: Record<string, string>;
}

/**
 * What an environment's gateway needs once, whatever the number of models: a cert-manager
 * Certificate for every host, the HTTP-to-HTTPS redirect, the Gateway itself for `gateway-api`,
 * and the KongConsumer that JWTs are checked against.
 */
export class GatewayFrontend extends Construct {
  /** The Secret the Certificate writes, for the routes' TLS. */
  public readonly tlsSecretName: string;
  /** For a Gateway API gateway: the Gateway routes attach to. */
  public readonly gatewayName?: string;
  /** The environment's gateway. */
  public readonly gateway: GatewayProvider;

  constructor(scope: Construct, id: string, props: GatewayFrontendProps) {
    super(scope, id);
    // Object names are derived from it: "<name>-tls", "<name>-https-redirect", the Gateway itself.
    if (!isDnsLabel(props.name)) {
      throw new ValidationError('GatewayFrontend.InvalidName', `'name' ("${props.name}") must be a DNS-1123 label, e.g. the fleet name`, this);
    }
    if (!isDnsLabel(props.namespace)) {
      throw new ValidationError('GatewayFrontend.InvalidNamespace', `'namespace' ("${props.namespace}") must be a namespace name`, this);
    }
    if (!DNS_LABEL_PATTERN.test(props.tlsIssuerName)) {
      throw new ValidationError('GatewayFrontend.InvalidIssuer', `'tlsIssuerName' ("${props.tlsIssuerName}") must name a cert-manager issuer`, this);
    }
    if (props.hosts.length === 0) {
      throw new ValidationError('GatewayFrontend.NoHosts', "'hosts' must list at least one host", this);
    }
    this.gateway = props.gateway;
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

    if (props.jwtCredentialSecrets && props.jwtCredentialSecrets.length > 0 && props.gateway.jwtVerification !== JwtVerification.CONSUMER_CREDENTIALS) {
      throw new ValidationError('GatewayFrontend.UnusedCredentials', `gateway "${props.gateway.label}" does not verify JWTs against consumer credentials; remove 'jwtCredentialSecrets'`, this);
    }
    // The rest is the gateway's own: a Gateway and its redirect, a Traefik redirect, consumers.
    this.gatewayName = props.gateway.renderFrontend({
      scope: this,
      name: props.name,
      namespace: props.namespace,
      hosts,
      tlsSecretName: this.tlsSecretName,
      labels,
      gatewayClassName: props.gatewayClassName,
      jwtCredentialSecrets: props.jwtCredentialSecrets,
    }).gatewayName;
  }

  /** A model's routes through this gateway, attached to its Gateway and its certificate; a sibling of this construct. */
  public addRoute(id: string, options: FrontendRouteOptions): GatewayRoute {
    return new GatewayRoute(this.node.scope as Construct, id, {
      ...options,
      gateway: this.gateway,
      gatewayName: this.gatewayName,
      tlsSecretName: this.tlsSecretName,
    });
  }
}
