import { Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import * as k8s from '../../imports/k8s';
import { LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_NAME, MANAGED_BY } from '../private/labels';
import { ValidationError } from '../core/validation-error';

/**
 * One prometheus-adapter external metric rule.
 *
 * @see https://github.com/kubernetes-sigs/prometheus-adapter/blob/master/docs/externalmetrics.md
 */
export interface ExternalMetricRule {
  /** Finds the series the metric is built from. */
  readonly seriesQuery: string;
  /** Maps a label to the HPA's namespace, so `<<.LabelMatchers>>` restricts the query to it. */
  readonly resources: { readonly overrides: Record<string, { readonly resource: string }> };
  /** The external metric's name: `as` is what an HPA asks for. */
  readonly name: { readonly matches: string; readonly as: string };
  /** The query; `<<.LabelMatchers>>` becomes the namespace and the HPA's metric selector. */
  readonly metricsQuery: string;
}

/** The ConfigMap's data key. */
export const ADAPTER_RULES_KEY = 'external-rules.yaml';
const ID = 'PrometheusAdapterRules';

/**
 * The prometheus-adapter external metric rules an environment's HPAs need, in one ConfigMap
 * (`prometheus-adapter-external-rules`). The adapter reads its rules from its own config, in its
 * own namespace: merge this list into the adapter chart's `rules.external` value (or the
 * `externalRules` of its config file). Rules are keyed by `name.as`; every environment renders
 * the same text for the same metric, so merging environments is a union.
 *
 * One per chart: use {@link PrometheusAdapterRules.of}.
 */
export class PrometheusAdapterRules extends Construct {
  /**
   * The chart's rules, created in `namespace` on first use, written for the Prometheus at
   * `prometheusUrl` (the environment's one address).
   */
  public static of(scope: Construct, namespace: string, prometheusUrl: string): PrometheusAdapterRules {
    const chart = Chart.of(scope);
    const existing = chart.node.tryFindChild(ID) as PrometheusAdapterRules | undefined;
    if (!existing) return new PrometheusAdapterRules(chart, ID, namespace, prometheusUrl);
    if (existing.namespace !== namespace) {
      throw new ValidationError('PrometheusAdapterRules.NamespaceMismatch', `the chart's adapter rules are in namespace "${existing.namespace}", not "${namespace}"; one chart renders one namespace`, scope);
    }
    if (existing.prometheusUrl !== prometheusUrl) {
      throw new ValidationError('PrometheusAdapterRules.PrometheusMismatch', `the chart's adapter rules are written for ${existing.prometheusUrl}, not ${prometheusUrl}; an environment has one Prometheus`, scope);
    }
    return existing;
  }

  /** The ConfigMap holding the rules under `external-rules.yaml`. */
  public readonly configMap: k8s.KubeConfigMap;
  private readonly rules = new Map<string, ExternalMetricRule>();

  private constructor(scope: Construct, id: string, public readonly namespace: string, public readonly prometheusUrl: string) {
    super(scope, id);
    this.configMap = new k8s.KubeConfigMap(this, 'Resource', {
      metadata: {
        name: 'prometheus-adapter-external-rules',
        namespace,
        labels: { [LABEL_NAME]: 'torchserve', [LABEL_COMPONENT]: 'autoscaling', [LABEL_MANAGED_BY]: MANAGED_BY },
        annotations: {
          'model-serving/merge-into': 'prometheus-adapter Helm value rules.external (config file: externalRules)',
          // The adapter queries the Prometheus of its own configuration; these rules select
          // series as this environment's Prometheus stores them.
          'model-serving/prometheus-url': prometheusUrl,
        },
      },
      data: { [ADAPTER_RULES_KEY]: Lazy.any({ produce: () => this.render() }) },
    });
  }

  /** The rules, sorted by metric name. */
  public get externalRules(): ExternalMetricRule[] {
    return [...this.rules.values()].sort((a, b) => a.name.as.localeCompare(b.name.as));
  }

  /** Adds a rule; adding the same rule again is a no-op, a different rule under its name an error. */
  public addExternalRule(rule: ExternalMetricRule): void {
    const existing = this.rules.get(rule.name.as);
    if (existing && JSON.stringify(existing) !== JSON.stringify(rule)) {
      throw new ValidationError('PrometheusAdapterRules.Conflict', `two different rules define external metric "${rule.name.as}"`, this);
    }
    this.rules.set(rule.name.as, rule);
  }

  private render(): string {
    return `# Merge into prometheus-adapter's rules.external; rules are keyed by name.as.\n# Written for the Prometheus at ${this.prometheusUrl}: set the adapter's prometheus.url (and port) to it.\n${stringify(this.externalRules, { lineWidth: 0 })}`;
  }
}
