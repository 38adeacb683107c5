import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { cidrProblem } from '../private/cidr';
import { isDnsLabel } from '../private/names';
import { ValidationError } from '../core/validation-error';
import { type ITorchServeWorkload, TorchServePorts } from '../torchserve';
import { ANY_OBJECT_STORAGE, dnsEgressRule, objectStorageEgressRule } from '../private/pod-hardening';

/** The pods a connection comes from. */
export interface INetworkClient {
  /** Labels that select the client's pods. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  readonly namespace: string;
}

/**
 * A destination that pods may connect to and whose own policy admits them: connecting writes
 * both sides at once, so neither can be forgotten.
 */
export interface IConnectable {
  /** Admits `client`'s pods on this side; returns the egress rule the client's policy needs. */
  admit(client: INetworkClient): k8s.NetworkPolicyEgressRule;
}

/** What a {@link ModelNetworkPolicy} uses for an optional prop left out; the fleet file leaves them out too. */
export const NETWORK_POLICY_DEFAULTS = {
  monitoringNamespaces: ['monitoring'] as readonly string[],
  managementCidrs: [] as readonly string[],
  objectStorageCidrs: ANY_OBJECT_STORAGE,
  grpc: false,
} as const;

/** Properties of a {@link ModelNetworkPolicy}. */
export interface ModelNetworkPolicyProps {
  /** The model whose pods the policy admits traffic to and from. */
  readonly service: ITorchServeWorkload;
  /** Namespaces of the gateway's proxies, allowed to reach the inference port (8080). */
  readonly gatewayNamespaces: string[];
  /**
   * Namespaces of Prometheus, allowed to reach the metrics port (8082).
   * @default NETWORK_POLICY_DEFAULTS.monitoringNamespaces (['monitoring'], where kube-prometheus-stack usually runs)
   */
  readonly monitoringNamespaces?: string[];
  /** Namespaces allowed to reach the management API (8081). @default - the gateway namespaces */
  readonly managementNamespaces?: string[];
  /** CIDR blocks allowed to reach the management API directly (8081). @default NETWORK_POLICY_DEFAULTS.managementCidrs ([]) */
  readonly managementCidrs?: string[];
  /**
   * Where object storage lives, reached on 443 by the model-fetch init container (and STS for
   * IRSA). Narrow it to your S3 VPC endpoint's or prefix list's ranges where you can.
   * @default NETWORK_POLICY_DEFAULTS.objectStorageCidrs (['0.0.0.0/0'] without the instance metadata address 169.254.169.254)
   */
  readonly objectStorageCidrs?: string[];
  /** Serve gRPC: the gateway may also reach 7070, management 7071. @default NETWORK_POLICY_DEFAULTS.grpc (false) */
  readonly grpc?: boolean;
  /** Extra egress destinations; prefer {@link ModelNetworkPolicy.connectTo}. @default [] */
  readonly extraEgress?: k8s.NetworkPolicyEgressRule[];
}

/**
 * Admits exactly the traffic one model needs, on top of the namespace's default deny: the
 * gateway to 8080, Prometheus to 8082, management (8081) only from configured namespaces and
 * CIDRs; out to DNS, and to object storage on 443.
 */
export class ModelNetworkPolicy extends Construct {
  private readonly egress: k8s.NetworkPolicyEgressRule[];
  private readonly service: ITorchServeWorkload;

  constructor(scope: Construct, id: string, props: ModelNetworkPolicyProps) {
    super(scope, id);
    const fail = (code: string, message: string): never => {
      throw new ValidationError(`ModelNetworkPolicy.${code}`, message, this);
    };
    const namespaces = (prop: string, values: readonly string[]): string[] => {
      for (const ns of values) if (!isDnsLabel(ns)) fail('InvalidNamespace', `'${prop}' entry "${ns}" must be a namespace name`);
      return [...new Set(values)].sort();
    };
    const cidrs = (prop: string, values: readonly string[]): readonly string[] => {
      for (const cidr of values) {
        const problem = cidrProblem(cidr);
        if (problem) fail('InvalidCidr', `'${prop}' entry "${cidr}" ${problem}`);
      }
      return values;
    };
    const gateway = namespaces('gatewayNamespaces', props.gatewayNamespaces);
    if (gateway.length === 0) fail('NoGateway', "'gatewayNamespaces' must name at least one namespace; otherwise nothing can reach the model");
    const monitoring = namespaces('monitoringNamespaces', props.monitoringNamespaces ?? NETWORK_POLICY_DEFAULTS.monitoringNamespaces);
    const management = namespaces('managementNamespaces', props.managementNamespaces ?? gateway);
    const managementCidrs = cidrs('managementCidrs', props.managementCidrs ?? NETWORK_POLICY_DEFAULTS.managementCidrs);
    const storage = cidrs('objectStorageCidrs', props.objectStorageCidrs ?? NETWORK_POLICY_DEFAULTS.objectStorageCidrs);
    // An egress rule without destinations allows every destination: [] would open 443 to the world.
    if (storage.length === 0) fail('NoObjectStorage', "'objectStorageCidrs' must list at least one CIDR: an egress rule with no destination allows 443 to every address");
    const service = props.service;
    this.service = service;
    const fromNamespaces = (names: string[]): k8s.NetworkPolicyPeer[] =>
      names.map((name) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } }));
    const tcp = (...ports: number[]): k8s.NetworkPolicyPort[] => ports.map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) }));

    const ingress: k8s.NetworkPolicyIngressRule[] = [
      { from: fromNamespaces(gateway), ports: tcp(TorchServePorts.INFERENCE, ...(props.grpc ? [TorchServePorts.GRPC_INFERENCE] : [])) },
    ];
    if (monitoring.length > 0) ingress.push({ from: fromNamespaces(monitoring), ports: tcp(TorchServePorts.METRICS) });
    const managementPeers = [...fromNamespaces(management), ...managementCidrs.map((cidr) => ({ ipBlock: { cidr } }))];
    if (managementPeers.length > 0) {
      ingress.push({ from: managementPeers, ports: tcp(TorchServePorts.MANAGEMENT, ...(props.grpc ? [TorchServePorts.GRPC_MANAGEMENT] : [])) });
    }

    this.egress = [
      dnsEgressRule(),
      objectStorageEgressRule(storage),
      ...(props.extraEgress ?? []),
    ];

    new k8s.KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: service.name, namespace: service.namespace, labels: service.labelsFor('network-policy') },
      spec: {
        podSelector: { matchLabels: { ...service.selectorLabels } },
        policyTypes: ['Ingress', 'Egress'],
        ingress,
        // Rendered at synth, with every destination connected by then.
        egress: Lazy.any({ produce: () => [...this.egress] }) as unknown as k8s.NetworkPolicyEgressRule[],
      },
    });
  }

  /** Allows the model's pods to open connections to another destination, by rule. */
  public addEgress(rule: k8s.NetworkPolicyEgressRule): void {
    this.egress.push(rule);
  }

  /** Lets the model's pods connect to `peer` (e.g. the Redis cache), which admits them on its side. */
  public connectTo(peer: IConnectable): void {
    this.egress.push(peer.admit(this.service));
  }
}
