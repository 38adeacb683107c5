import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { type NamespaceBudget, NamespaceGuardrails, type NamespaceGuardrailsProps } from '../lib/isolation';
import { type KubeObject, checkPolicies } from '../lib/policy';
import { parseQuantity } from '../lib/private/quantity';
import { expectValid, expectValidationError, objectOf, synthObjects } from './helpers/constructs';

const GiB = 2 ** 30;
const BUDGET: NamespaceBudget = { pods: 12, cpu: 52, memoryBytes: 200 * GiB, ephemeralStorageBytes: 248 * GiB, gpus: 8 };

function build(props: Partial<NamespaceGuardrailsProps> = {}) {
  const chart = Testing.chart();
  new NamespaceGuardrails(chart, 'guardrails', { namespace: 'ml-production', budget: BUDGET, ...props });
  return synthObjects(chart);
}

describe('NamespaceGuardrails', () => {
  it('renders a default-deny NetworkPolicy, a ResourceQuota and a LimitRange in the namespace, with its labels', () => {
    const objects = build({ labels: { 'app.kubernetes.io/component': 'guardrails' } });
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'NetworkPolicy/ml-production/default-deny',
      'ResourceQuota/ml-production/model-serving',
      'LimitRange/ml-production/model-serving',
    ]);
    for (const o of objects) expect(o.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'guardrails' });
    // Without labels: none, rather than a guessed set.
    for (const o of build()) expect(o.metadata.labels ?? {}).toEqual({});
  });

  it('denies all ingress and egress of every pod unless a model\'s own policy allows it', () => {
    expect(objectOf(build(), 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  it('caps the namespace at the budget, requests and limits alike, and allows no load balancer or node port', () => {
    expect(objectOf(build(), 'ResourceQuota', 'model-serving').spec.hard).toEqual({
      'pods': 12,
      'requests.cpu': '52',
      'limits.cpu': '52',
      'requests.memory': '204800Mi',
      'limits.memory': '204800Mi',
      'requests.ephemeral-storage': '253952Mi',
      'limits.ephemeral-storage': '253952Mi',
      'requests.nvidia.com/gpu': 8,
      'services.loadbalancers': 0,
      'services.nodeports': 0,
    });
  });

  it('rounds the budget up, never below what was asked: millicores, then mebibytes', () => {
    const hard = objectOf(build({ budget: { ...BUDGET, cpu: 12.3456, memoryBytes: 1.5 * GiB + 1, ephemeralStorageBytes: 1 } }), 'ResourceQuota', 'model-serving').spec.hard;
    expect(hard['requests.cpu']).toBe('12346m');
    expect(hard['requests.memory']).toBe('1537Mi');
    expect(hard['requests.ephemeral-storage']).toBe('1Mi');
    expect(parseQuantity(hard['limits.cpu'])).toBeGreaterThanOrEqual(12.3456);
    expect(parseQuantity(hard['limits.memory'])).toBeGreaterThanOrEqual(1.5 * GiB + 1);
  });

  it('gives a container without resources small defaults, so the quota can admit it', () => {
    expect(objectOf(build(), 'LimitRange', 'model-serving').spec.limits).toEqual([{
      type: 'Container',
      defaultRequest: { 'cpu': '100m', 'memory': '128Mi', 'ephemeral-storage': '256Mi' },
      default: { 'cpu': '500m', 'memory': '512Mi', 'ephemeral-storage': '1Gi' },
    }]);
  });

  it('passes strict schema validation and the policy suite', () => {
    const objects = build({ budget: { ...BUDGET, cpu: 0.5, gpus: 0 } });
    expectValid(objects);
    expect(checkPolicies(objects as KubeObject[])).toEqual([]);
  });

  it.each<[string, Partial<NamespaceGuardrailsProps>, string, string]>([
    ['a namespace that is no namespace name', { namespace: 'ML_Prod' }, 'NamespaceGuardrails.InvalidNamespace', '\'namespace\' ("ML_Prod") must be a namespace name'],
    ['a namespace longer than 63 characters', { namespace: 'n'.repeat(64) }, 'NamespaceGuardrails.InvalidNamespace', 'must be a namespace name'],
    ['a negative pod count', { budget: { ...BUDGET, pods: -1 } }, 'NamespaceGuardrails.InvalidBudget', "'budget.pods' (-1) must be a whole number, at least 0"],
    ['half a GPU', { budget: { ...BUDGET, gpus: 0.5 } }, 'NamespaceGuardrails.InvalidBudget', "'budget.gpus' (0.5) must be a whole number, at least 0"],
    ['no CPU', { budget: { ...BUDGET, cpu: 0 } }, 'NamespaceGuardrails.InvalidBudget', "'budget.cpu' (0) must be a positive number"],
    ['memory that is not a number', { budget: { ...BUDGET, memoryBytes: Number.NaN } }, 'NamespaceGuardrails.InvalidBudget', "'budget.memoryBytes' (NaN) must be a positive number"],
    ['no ephemeral storage', { budget: { ...BUDGET, ephemeralStorageBytes: -5 } }, 'NamespaceGuardrails.InvalidBudget', "'budget.ephemeralStorageBytes' (-5)"],
  ])('refuses %s', (_name, props, code, detail) => {
    expectValidationError(() => build(props), code, 'test/guardrails', detail);
  });
});
