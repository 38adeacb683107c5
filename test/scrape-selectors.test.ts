import { parser } from '@prometheus-io/lezer-promql';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADAPTER_RULES_KEY } from '../lib/autoscaling';
import { EnvironmentChart } from '../lib/environment';
import { parseFleet } from '../lib/fleet';
import { type ScrapeConfig, documentedScrape, exportersOf, storedLabelNames } from './fixtures/scrape/exporters';
import { RELEASE_FIXTURE_FLEET, editFleet } from './helpers/fleets';

/**
 * Every PromQL selector in the output (alerts, dashboards, KEDA triggers, prometheus-adapter
 * rules, release gates) names only labels that exist on the selected series once Prometheus
 * Operator has scraped the exporter as the README documents (test/fixtures/scrape/exporters.ts).
 * Selectors are found with Prometheus' own PromQL grammar (@prometheus-io/lezer-promql).
 */

interface Matcher { readonly label: string; readonly op: string; readonly value: string }
interface Selector { readonly metric?: string; readonly matchers: Matcher[]; readonly text: string }

/** The vector selectors of a PromQL expression; throws on a syntax error. */
function selectorsOf(expr: string): Selector[] {
  const tree = parser.parse(expr);
  const out: Selector[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${expr.slice(Math.max(0, node.from - 20), node.to + 20)}"`);
      if (node.name !== 'VectorSelector') return;
      const selector = node.node;
      const metric = selector.getChild('Identifier');
      const matchers: Matcher[] = [];
      const list = selector.getChild('LabelMatchers');
      for (const m of list ? [...list.getChildren('UnquotedLabelMatcher'), ...list.getChildren('LabelMatcher')] : []) {
        const name = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (!name || !op || !value) throw new Error(`unexpected matcher ${expr.slice(m.from, m.to)}`);
        matchers.push({ label: expr.slice(name.from, name.to), op: expr.slice(op.from, op.to), value: JSON.parse(expr.slice(value.from, value.to)) as string });
      }
      out.push({ metric: metric ? expr.slice(metric.from, metric.to) : undefined, matchers, text: expr.slice(node.from, node.to) });
    },
  });
  if (errors.length > 0) throw new Error(`not PromQL: ${errors.join('; ')} in ${expr}`);
  return out;
}

/** Whether a matcher also matches series WITHOUT the label (an absent label reads as ""). */
function acceptsAbsent(m: Matcher): boolean {
  const full = (pattern: string) => new RegExp(`^(?:${pattern})$`);
  switch (m.op) {
    case '=': return m.value === '';
    case '!=': return m.value !== '';
    case '=~': return full(m.value).test('');
    case '!~': return !full(m.value).test('');
    default: throw new Error(`unknown match operator ${m.op}`);
  }
}

/** Problems of one selector under `scrape`: unknown metrics and labels that cannot exist. */
function selectorProblems(selector: Selector, scrape: ScrapeConfig): string[] {
  if (!selector.metric) return [`${selector.text}: selects no metric name`];
  const exporters = exportersOf(selector.metric);
  if (exporters.length === 0) return [`${selector.text}: no known exporter emits ${selector.metric}`];
  const problems: string[] = [];
  for (const exporter of exporters) {
    const stored = storedLabelNames(exporter, selector.metric, scrape);
    for (const m of selector.matchers) {
      if (acceptsAbsent(m)) continue;
      const from = stored.get(m.label);
      if (!from) {
        problems.push(`${selector.text}: ${exporter.name}'s ${selector.metric} has no label "${m.label}" after the scrape (it has: ${[...stored.keys()].sort().join(', ')})`);
      } else if (from === 'target' && !exporter.targetIsModel && m.label !== '__name__') {
        // The label exists, but names the exporter's own pod, not the model's route.
        problems.push(`${selector.text}: "${m.label}" of ${exporter.name}'s ${selector.metric} is the scrape target's (${exporter.target[m.label] ?? m.label}); the exporter's own value is stored as exported_${m.label} unless its monitor honours labels`);
      }
    }
  }
  return problems;
}

const NAMESPACE = 'fixture-production';

/** Every PromQL expression of one synthesized environment, with templates filled in as their consumers would. */
function queriesOf(objects: any[]): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata.name}`;
    if (o.kind === 'PrometheusRule') {
      for (const group of o.spec.groups) for (const rule of group.rules) out.push({ where, expr: rule.expr });
    }
    if (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard')) {
      for (const json of Object.values(o.data) as string[]) {
        for (const panel of JSON.parse(json).panels) {
          for (const target of panel.targets) {
            // Grafana's variables, as Grafana fills them in.
            out.push({ where, expr: target.expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', NAMESPACE) });
          }
        }
      }
    }
    if (o.kind === 'ScaledObject') {
      for (const trigger of o.spec.triggers) if (trigger.type === 'prometheus') out.push({ where, expr: trigger.metadata.query });
    }
    if (o.kind === 'AnalysisTemplate') {
      for (const metric of o.spec.metrics) out.push({ where, expr: metric.provider.prometheus.query });
    }
    if (o.kind === 'ConfigMap' && o.data?.[ADAPTER_RULES_KEY]) {
      const hpas = objects.filter((h) => h.kind === 'HorizontalPodAutoscaler');
      for (const rule of parse(o.data[ADAPTER_RULES_KEY]) as any[]) {
        out.push({ where, expr: rule.seriesQuery });
        // prometheus-adapter fills <<.LabelMatchers>> with the namespace (through the resource
        // override's label) and the HPA's metric selector.
        const namespaceLabel = Object.keys(rule.resources.overrides)[0];
        const selectors = hpas.flatMap((h) => h.spec.metrics.filter((m: any) => m.type === 'External' && m.external.metric.name === rule.name.as))
          .map((m: any) => m.external.metric.selector?.matchLabels ?? {});
        expect(selectors.length, `an HPA uses ${rule.name.as}`).toBeGreaterThan(0);
        for (const matchLabels of selectors) {
          const matchers = [`${namespaceLabel}="${NAMESPACE}"`, ...Object.entries(matchLabels).map(([k, v]) => `${k}="${v}"`)].join(',');
          out.push({ where, expr: rule.metricsQuery.replaceAll('<<.LabelMatchers>>', matchers) });
        }
      }
    }
  }
  return out;
}

const tls = { issuer: 'letsencrypt-prod' };
const GATEWAYS: Record<string, Record<string, unknown>> = {
  nginx: { kind: 'nginx', host: 'api.example.com', tls },
  traefik: { kind: 'traefik', host: 'api.example.com', tls },
  kong: { kind: 'kong', host: 'api.example.com', tls },
  'gateway-api kong': { kind: 'gateway-api', implementation: 'kong', host: 'api.example.com', tls },
  'gateway-api traefik': { kind: 'gateway-api', implementation: 'traefik', host: 'api.example.com', tls },
  'gateway-api envoy-gateway': { kind: 'gateway-api', implementation: 'envoy-gateway', host: 'api.example.com', tls },
  'gateway-api nginx-gateway-fabric': { kind: 'gateway-api', implementation: 'nginx-gateway-fabric', host: 'api.example.com', tls },
};

interface Variant {
  readonly name: string;
  readonly gateway: Record<string, unknown>;
  readonly strategy: string;
  readonly autoscaling: Record<string, unknown>;
  readonly gpu: Record<string, unknown>;
}

/** Every gateway with every strategy it supports, both autoscaling backends, every GPU source and both gateway scrape settings. */
function variants(): Variant[] {
  const out: Variant[] = [];
  for (const [name, gateway] of Object.entries(GATEWAYS)) {
    const ngf = name.endsWith('nginx-gateway-fabric');
    for (const strategy of ngf ? ['rolling'] : ['rolling', 'canary', 'blue-green']) {
      for (const honor of [false, true]) {
        out.push({
          name: `${name}, ${strategy}${honor ? ', gateway scraped with honorLabels' : ''}`,
          gateway: { ...gateway, ...(honor ? { metricsHonorLabels: true } : {}) },
          strategy,
          autoscaling: honor
            ? { backend: 'hpa-with-prometheus-adapter', minReplicas: 2, maxReplicas: 8, gpuUtilization: 80 }
            : { backend: 'keda', minReplicas: 2, maxReplicas: 8, gpuUtilization: 80 },
          gpu: honor ? { source: 'dcgm', dcgmHonorLabels: true } : strategy === 'blue-green' ? { source: 'torchserve' } : { source: 'dcgm' },
        });
      }
    }
  }
  return out;
}

function synthVariant(v: Variant): any[] {
  const text = editFleet((d) => {
    d.setIn(['environments', 'production', 'gateway'], d.createNode(v.gateway));
    d.setIn(['environments', 'production', 'strategy'], d.createNode({ type: v.strategy }));
    d.setIn(['environments', 'production', 'autoscaling'], d.createNode(v.autoscaling));
    d.setIn(['environments', 'production', 'monitoring', 'gpuMetrics'], d.createNode(v.gpu));
    if (String(v.gateway.implementation) === 'nginx-gateway-fabric') d.setIn(['environments', 'production', 'monitoring', 'requestAlerts'], false);
  }, RELEASE_FIXTURE_FLEET);
  const fleet = parseFleet(text);
  return Testing.synth(new EnvironmentChart(Testing.app(), 'production', { fleet, environment: 'production' })) as any[];
}

describe('every PromQL selector in the output selects labels that exist after the scrape', () => {
  it('holds for every gateway, strategy, autoscaling backend, GPU source and scrape setting', () => {
    const problems: string[] = [];
    let selectors = 0;
    const kinds = new Set<string>();
    for (const v of variants()) {
      const objects = synthVariant(v);
      const scrape = documentedScrape({
        gatewayHonorLabels: v.gateway.metricsHonorLabels === true,
        dcgmHonorLabels: v.gpu.dcgmHonorLabels === true,
        rollout: v.strategy !== 'rolling',
      });
      for (const { where, expr } of queriesOf(objects)) {
        kinds.add(where.split('/')[0]);
        for (const selector of selectorsOf(expr)) {
          selectors++;
          problems.push(...selectorProblems(selector, scrape).map((p) => `${v.name}: ${where}: ${p}`));
        }
      }
    }
    expect(problems).toEqual([]);
    expect([...kinds].sort()).toEqual(['AnalysisTemplate', 'ConfigMap', 'PrometheusRule', 'ScaledObject']);
    expect(selectors).toBeGreaterThan(1000);
  });

  it('finds the selectors that break under the default scrape: the ones this project used before', () => {
    const scrape = documentedScrape();
    const old = [
      'sum(rate(traefik_service_requests_total{service=~"ns-(a|a-canary)-8080@kubernetescrd"}[2m]))',
      'nginx_ingress_controller_requests{namespace="ns",ingress="a-preview"}',
      'kong_http_requests_total{service=~"httproute\\\\.ns\\\\..*"}',
      'DCGM_FI_DEV_GPU_UTIL{namespace="ns",pod=~"a-.*"}',
      'ts_inference_requests_total{namespace="ns",rollouts_pod_template_hash="abc"}',
      'torchserve_made_up_metric{namespace="ns"}',
    ];
    const found = old.map((expr) => selectorsOf(expr).flatMap((s) => selectorProblems(s, scrape)));
    expect(found.map((p) => p.length > 0)).toEqual([true, true, true, true, true, true]);
    expect(found[0][0]).toContain('"service" of traefik\'s traefik_service_requests_total is the scrape target\'s (traefik-metrics)');
    expect(found[4][0]).toContain('has no label "rollouts_pod_template_hash" after the scrape');
    // The same selectors are fine where the scrape keeps the labels.
    const honoring = documentedScrape({ gatewayHonorLabels: true, dcgmHonorLabels: true, rollout: true });
    expect(old.slice(0, 5).map((expr) => selectorsOf(expr).flatMap((s) => selectorProblems(s, honoring)))).toEqual([[], [], [], [], []]);
    expect(() => selectorsOf('sum(rate(x{a="b"}[5m])')).toThrow(/not PromQL/);
  });
});
