import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { IntOrString } from '../imports/k8s';
import { RedisCache } from '../lib/cache';
import { type IConnectable, type INetworkClient, ModelNetworkPolicy, type ModelNetworkPolicyProps } from '../lib/isolation';
import { type KubeObject, checkPolicies } from '../lib/policy';
import { NAMESPACE, expectValid, expectValidationError, modelService, objectOf, synthObjects } from './helpers/constructs';
import type { Manifest } from './helpers/manifests';

/** A model and its policy in a chart; `props` override the gateway and monitoring namespaces. */
function build(props: Partial<ModelNetworkPolicyProps> = {}, serviceProps: Parameters<typeof modelService>[1] = {}) {
  const chart = Testing.chart();
  const service = modelService(chart, serviceProps);
  const policy = new ModelNetworkPolicy(chart, 'policy', { service, gatewayNamespaces: ['kong'], monitoringNamespaces: ['monitoring'], ...props });
  const objects = () => synthObjects(chart);
  const spec = () => objectOf(objects(), 'NetworkPolicy', 'intent-classifier').spec;
  return { chart, service, policy, objects, spec };
}

const fromNamespace = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: 'TCP', port }));
const DNS = {
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
};

describe('ModelNetworkPolicy', () => {
  it('selects the model\'s pods, named and labelled after the model', () => {
    const policy = objectOf(build().objects(), 'NetworkPolicy', 'intent-classifier');
    expect(policy.metadata).toEqual({
      name: 'intent-classifier',
      namespace: NAMESPACE,
      labels: {
        'app.kubernetes.io/name': 'torchserve',
        'app.kubernetes.io/instance': 'intent-classifier',
        'app.kubernetes.io/component': 'network-policy',
        'app.kubernetes.io/managed-by': 'model-serving',
      },
    });
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'intent-classifier' } });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  it('by default admits the gateway to 8080, Prometheus to 8082 and the gateway to management (8081); lets out DNS and 443 to anywhere but the instance metadata address', () => {
    const spec = build().spec();
    expect(spec.ingress).toEqual([
      { from: [fromNamespace('kong')], ports: tcp(8080) },
      { from: [fromNamespace('monitoring')], ports: tcp(8082) },
      { from: [fromNamespace('kong')], ports: tcp(8081) },
    ]);
    expect(spec.egress).toEqual([DNS, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }], ports: tcp(443) }]);
  });

  it('takes management peers, object storage ranges and gRPC ports from the props, sorted and without duplicates', () => {
    const spec = build({
      gatewayNamespaces: ['traefik', 'kong', 'traefik'],
      monitoringNamespaces: [],
      managementNamespaces: ['ops'],
      managementCidrs: ['10.20.0.0/16'],
      objectStorageCidrs: ['52.216.0.0/15', '3.5.0.0/19'],
      grpc: true,
    }, { enableGrpc: true }).spec();
    expect(spec.ingress).toEqual([
      { from: [fromNamespace('kong'), fromNamespace('traefik')], ports: tcp(8080, 7070) },
      // No Prometheus namespace: the metrics port stays closed.
      { from: [fromNamespace('ops'), { ipBlock: { cidr: '10.20.0.0/16' } }], ports: tcp(8081, 7071) },
    ]);
    expect(spec.egress[1]).toEqual({ to: [{ ipBlock: { cidr: '52.216.0.0/15' } }, { ipBlock: { cidr: '3.5.0.0/19' } }], ports: tcp(443) });
  });

  it('closes the management API when no namespace or CIDR may reach it', () => {
    const spec = build({ managementNamespaces: [] }).spec();
    expect(spec.ingress.flatMap((rule: Manifest) => rule.ports.map((p: { port: number }) => p.port))).toEqual([8080, 8082]);
  });

  it('connectTo writes both sides: the model\'s egress and the peer\'s admission, both rendered at synth', () => {
    const { chart, service, policy, objects } = build();
    const cache = new RedisCache(chart, 'cache', { namespace: NAMESPACE });
    policy.connectTo(cache);
    const all = objects();
    const redis = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'prediction-cache' };
    expect(objectOf(all, 'NetworkPolicy', 'intent-classifier').spec.egress.at(-1)).toEqual({ to: [{ ...fromNamespace(NAMESPACE), podSelector: { matchLabels: redis } }], ports: tcp(6379) });
    expect(objectOf(all, 'NetworkPolicy', 'prediction-cache').spec.ingress).toEqual([{ from: [{ ...fromNamespace(NAMESPACE), podSelector: { matchLabels: { ...service.selectorLabels } } }], ports: tcp(6379) }]);
  });

  it('connectTo works with any IConnectable, and addEgress with any rule, after construction', () => {
    const { service, policy, spec } = build();
    const admitted: INetworkClient[] = [];
    const peer: IConnectable = {
      admit: (client) => {
        admitted.push(client);
        return { to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: IntOrString.fromNumber(5432) }] };
      },
    };
    policy.connectTo(peer);
    policy.addEgress({ to: [{ ipBlock: { cidr: '10.1.0.0/24' } }] });
    expect(admitted).toEqual([service]);
    expect(spec().egress.slice(2)).toEqual([{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: tcp(5432) }, { to: [{ ipBlock: { cidr: '10.1.0.0/24' } }] }]);
  });

  it('passes strict schema validation and the policy suite, together with the model and a connected cache', () => {
    const { chart, policy, objects } = build({ managementCidrs: ['10.20.0.0/16'], grpc: true }, { enableGrpc: true });
    policy.connectTo(new RedisCache(chart, 'cache', { namespace: NAMESPACE }));
    const all = objects();
    expectValid(all);
    expect(checkPolicies(all as KubeObject[])).toEqual([]);
  });

  describe('refuses', () => {
    it.each<[string, Partial<ModelNetworkPolicyProps>, string, string]>([
      ['no gateway namespace', { gatewayNamespaces: [] }, 'ModelNetworkPolicy.NoGateway', "'gatewayNamespaces' must name at least one namespace; otherwise nothing can reach the model"],
      ['a gateway namespace that is no namespace name', { gatewayNamespaces: ['Kong'] }, 'ModelNetworkPolicy.InvalidNamespace', '\'gatewayNamespaces\' entry "Kong" must be a namespace name'],
      ['a monitoring namespace that is no namespace name', { monitoringNamespaces: ['monitoring_ns'] }, 'ModelNetworkPolicy.InvalidNamespace', '\'monitoringNamespaces\' entry "monitoring_ns"'],
      ['a management namespace that is no namespace name', { managementNamespaces: [''] }, 'ModelNetworkPolicy.InvalidNamespace', '\'managementNamespaces\' entry ""'],
      ['a management CIDR with host bits', { managementCidrs: ['10.0.0.1/8'] }, 'ModelNetworkPolicy.InvalidCidr', '\'managementCidrs\' entry "10.0.0.1/8" has host bits set'],
      ['an object storage range that is no CIDR', { objectStorageCidrs: ['s3.amazonaws.com'] }, 'ModelNetworkPolicy.InvalidCidr', '\'objectStorageCidrs\' entry "s3.amazonaws.com"'],
      // An egress rule without destinations would allow 443 to every address.
      ['no object storage range', { objectStorageCidrs: [] }, 'ModelNetworkPolicy.NoObjectStorage', "'objectStorageCidrs' must list at least one CIDR"],
    ])('%s', (_name, props, code, detail) => {
      expectValidationError(() => build(props), code, 'test/policy', detail);
    });
  });
});
