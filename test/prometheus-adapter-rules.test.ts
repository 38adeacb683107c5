import { Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADAPTER_RULES_KEY, type ExternalMetricRule, PrometheusAdapterRules } from '../lib/autoscaling';
import { expectValid, expectValidationError, objectOf, synthObjects } from './helpers/constructs';

const PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';

const rule = (name: string, query = `avg(${name}{<<.LabelMatchers>>})`): ExternalMetricRule => ({
  seriesQuery: `${name}{namespace!=""}`,
  resources: { overrides: { namespace: { resource: 'namespace' } } },
  name: { matches: `^${name}$`, as: `${name}_value` },
  metricsQuery: query,
});

describe('PrometheusAdapterRules', () => {
  it('is one per chart: every caller in the chart gets the same rules, in one ConfigMap', () => {
    const chart = Testing.chart();
    const a = PrometheusAdapterRules.of(new Construct(chart, 'a'), 'ml', PROMETHEUS);
    const b = PrometheusAdapterRules.of(new Construct(chart, 'b'), 'ml', PROMETHEUS);
    expect(b).toBe(a);
    expect(a.node.path).toBe('test/PrometheusAdapterRules');
    const configMap = objectOf(synthObjects(chart), 'ConfigMap', 'prometheus-adapter-external-rules');
    expect(configMap.metadata).toEqual({
      name: 'prometheus-adapter-external-rules',
      namespace: 'ml',
      labels: { 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/component': 'autoscaling', 'app.kubernetes.io/managed-by': 'model-serving' },
      annotations: {
        'model-serving/merge-into': 'prometheus-adapter Helm value rules.external (config file: externalRules)',
        'model-serving/prometheus-url': PROMETHEUS,
      },
    });
  });

  it('renders the rules added until synth, sorted by metric name, once each, under the Prometheus they are written for', () => {
    const chart = Testing.chart();
    const rules = PrometheusAdapterRules.of(chart, 'ml', PROMETHEUS);
    rules.addExternalRule(rule('zeta'));
    rules.addExternalRule(rule('alpha'));
    rules.addExternalRule(rule('zeta'));
    expect(rules.externalRules.map((r) => r.name.as)).toEqual(['alpha_value', 'zeta_value']);
    const text: string = objectOf(synthObjects(chart), 'ConfigMap', 'prometheus-adapter-external-rules').data[ADAPTER_RULES_KEY];
    expect(text.split('\n').slice(0, 2)).toEqual([
      "# Merge into prometheus-adapter's rules.external; rules are keyed by name.as.",
      `# Written for the Prometheus at ${PROMETHEUS}: set the adapter's prometheus.url (and port) to it.`,
    ]);
    expect(parse(text)).toEqual([rule('alpha'), rule('zeta')]);
  });

  it('passes strict schema validation', () => {
    const chart = Testing.chart();
    PrometheusAdapterRules.of(chart, 'ml', PROMETHEUS).addExternalRule(rule('alpha'));
    expectValid(synthObjects(chart));
  });

  it('refuses a second namespace or Prometheus in one chart, and two different rules for one metric', () => {
    const chart = Testing.chart();
    const rules = PrometheusAdapterRules.of(chart, 'ml', PROMETHEUS);
    const caller = new Construct(chart, 'autoscaler');
    expectValidationError(() => PrometheusAdapterRules.of(caller, 'ml-other', PROMETHEUS), 'PrometheusAdapterRules.NamespaceMismatch', 'test/autoscaler', 'the chart\'s adapter rules are in namespace "ml", not "ml-other"; one chart renders one namespace');
    expectValidationError(() => PrometheusAdapterRules.of(caller, 'ml', 'http://prometheus.other.svc:9090'), 'PrometheusAdapterRules.PrometheusMismatch', 'test/autoscaler', `written for ${PROMETHEUS}, not http://prometheus.other.svc:9090`);
    rules.addExternalRule(rule('alpha'));
    expectValidationError(() => rules.addExternalRule(rule('alpha', 'max(alpha)')), 'PrometheusAdapterRules.Conflict', 'test/PrometheusAdapterRules', 'two different rules define external metric "alpha_value"');
  });
});
