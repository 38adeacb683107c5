import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { isDnsLabel } from '../private/names';
import { ValidationError } from '../core/validation-error';
import { integerDigits } from '../private/quantity';

/** What the namespace's workloads may use at most, summed over all pods. */
export interface NamespaceBudget {
  /** Pods, including surge pods during a rollout. */
  readonly pods: number;
  /** CPU cores. */
  readonly cpu: number;
  /** Memory, in bytes. */
  readonly memoryBytes: number;
  /** Ephemeral storage, in bytes. */
  readonly ephemeralStorageBytes: number;
  /** `nvidia.com/gpu`. */
  readonly gpus: number;
}

/** Properties of a {@link NamespaceGuardrails}. */
export interface NamespaceGuardrailsProps {
  readonly namespace: string;
  /** The ResourceQuota's hard limits; size it for the largest rollout the namespace runs. */
  readonly budget: NamespaceBudget;
  /** @default {} */
  readonly labels?: Record<string, string>;
}

/**
 * The namespace-wide safety net: a NetworkPolicy that denies all ingress and egress unless a
 * model's own policy allows it, a ResourceQuota sized from the fleet, and a LimitRange that
 * gives any container without resources sane defaults.
 */
export class NamespaceGuardrails extends Construct {
  constructor(scope: Construct, id: string, props: NamespaceGuardrailsProps) {
    super(scope, id);
    if (!isDnsLabel(props.namespace)) {
      throw new ValidationError('NamespaceGuardrails.InvalidNamespace', `'namespace' ("${props.namespace}") must be a namespace name`, this);
    }
    const metadata = (name: string) => ({ name, namespace: props.namespace, labels: props.labels ?? {} });
    const { budget } = props;
    // The API server refuses a negative hard limit; a fractional pod or GPU count limits nothing real.
    for (const key of ['pods', 'gpus'] as const) {
      if (!Number.isInteger(budget[key]) || budget[key] < 0) {
        throw new ValidationError('NamespaceGuardrails.InvalidBudget', `'budget.${key}' (${budget[key]}) must be a whole number, at least 0`, this);
      }
    }
    for (const key of ['cpu', 'memoryBytes', 'ephemeralStorageBytes'] as const) {
      if (!Number.isFinite(budget[key]) || budget[key] <= 0) {
        throw new ValidationError('NamespaceGuardrails.InvalidBudget', `'budget.${key}' (${budget[key]}) must be a positive number`, this);
      }
    }

    new k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: metadata('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });

    const mebibytes = (bytes: number) => k8s.Quantity.fromString(`${integerDigits(bytes / 2 ** 20)}Mi`);
    const hard: Record<string, k8s.Quantity> = {
      'pods': k8s.Quantity.fromNumber(budget.pods),
      'requests.cpu': k8s.Quantity.fromString(formatCores(budget.cpu)),
      'limits.cpu': k8s.Quantity.fromString(formatCores(budget.cpu)),
      'requests.memory': mebibytes(budget.memoryBytes),
      'limits.memory': mebibytes(budget.memoryBytes),
      'requests.ephemeral-storage': mebibytes(budget.ephemeralStorageBytes),
      'limits.ephemeral-storage': mebibytes(budget.ephemeralStorageBytes),
      'requests.nvidia.com/gpu': k8s.Quantity.fromNumber(budget.gpus),
      // Nothing here needs a load balancer or a node port; the gateway owns ingress.
      'services.loadbalancers': k8s.Quantity.fromNumber(0),
      'services.nodeports': k8s.Quantity.fromNumber(0),
    };
    new k8s.KubeResourceQuota(this, 'Quota', { metadata: metadata('model-serving'), spec: { hard } });

    new k8s.KubeLimitRange(this, 'Limits', {
      metadata: metadata('model-serving'),
      spec: {
        limits: [{
          type: 'Container',
          defaultRequest: { 'cpu': k8s.Quantity.fromString('100m'), 'memory': k8s.Quantity.fromString('128Mi'), 'ephemeral-storage': k8s.Quantity.fromString('256Mi') },
          default: { 'cpu': k8s.Quantity.fromString('500m'), 'memory': k8s.Quantity.fromString('512Mi'), 'ephemeral-storage': k8s.Quantity.fromString('1Gi') },
        }],
      },
    });
  }
}

/** Whole cores where possible, millicores otherwise: "12", "12500m". */
function formatCores(cores: number): string {
  const milli = Math.ceil(cores * 1000);
  return milli % 1000 === 0 ? integerDigits(milli / 1000) : `${integerDigits(milli)}m`;
}
