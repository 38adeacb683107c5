import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADAPTER_RULES_KEY, ScalingBackend } from '../lib/autoscaling';
import { GpuMetrics } from '../lib/signals';
import { asRecordingRules, checkRules } from './fixtures/promtool/promtool';
import { monitoredEnvironment } from './fixtures/promtool/monitored-fleet';
import { fleetWithGateway } from './helpers/fleets';

const NAMESPACE = 'betterprompts-staging';

/** Grafana's variables, replaced the way Grafana would before sending a query. */
function substituteDashboardVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', NAMESPACE);
}

/** prometheus-adapter's templates, replaced the way the adapter would for an HPA in NAMESPACE. */
function substituteAdapterTemplates(query: string, namespaceLabel: string): string {
  return query
    .replaceAll('<<.LabelMatchers>>', `${namespaceLabel}="${NAMESPACE}",service="intent-classifier-metrics"`)
    .replaceAll('<<.GroupBy>>', namespaceLabel)
    .replaceAll('<<.Series>>', 'ts_queue_latency_microseconds');
}

describe('PromQL in dashboards and autoscalers', () => {
  it('every dashboard panel query parses, for gateways with and without request metrics and both GPU sources', () => {
    const envs = [
      monitoredEnvironment('staging'),
      monitoredEnvironment('production', { monitoring: { gpuMetrics: GpuMetrics.torchServe() } }),
      monitoredEnvironment('staging', {
        fleetText: fleetWithGateway({ kind: 'gateway-api', implementation: 'nginx-gateway-fabric', host: 'api.example.com', tls: { issuer: 'x' } }),
        monitoring: { requestAlerts: false },
      }),
    ];
    const files: Record<string, unknown> = {};
    envs.forEach((env, i) => {
      for (const configMap of env.objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'))) {
        const [json] = Object.values(configMap.data) as string[];
        const dashboard = JSON.parse(json);
        const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
        expect(exprs.length).toBeGreaterThanOrEqual(10);
        for (const expr of exprs) expect(substituteDashboardVariables(expr)).not.toMatch(/\$/);
        files[`dashboard-${i}-${configMap.metadata.name}.yaml`] = asRecordingRules('dashboard', exprs.map(substituteDashboardVariables));
      }
    });
    expect(Object.keys(files)).toHaveLength(3);
    const run = checkRules(files);
    expect(run.status, run.output).toBe(0);
  });

  it('every KEDA prometheus trigger query parses', () => {
    const { objects } = monitoredEnvironment('production');
    const queries = objects.filter((o) => o.kind === 'ScaledObject')
      .flatMap((o) => o.spec.triggers.filter((t: any) => t.type === 'prometheus').map((t: any) => t.metadata.query as string));
    expect(queries).toHaveLength(2);
    const run = checkRules({ 'keda.yaml': asRecordingRules('keda', queries) });
    expect(run.status, run.output).toBe(0);
  });

  it('every prometheus-adapter rule parses once the adapter fills in its templates', () => {
    const { objects } = monitoredEnvironment('production', { autoscaling: { backend: ScalingBackend.HPA_WITH_PROMETHEUS_ADAPTER, peakHours: undefined } });
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-adapter-external-rules');
    const rules = parse(configMap.data[ADAPTER_RULES_KEY]) as any[];
    expect(rules.map((r) => r.name.as)).toEqual(['torchserve_intent_classifier_gpu_utilization_percent', 'torchserve_queue_wait_milliseconds']);
    const exprs = rules.flatMap((r) => {
      const namespaceLabel = Object.keys(r.resources.overrides)[0];
      return [substituteAdapterTemplates(r.metricsQuery, namespaceLabel), r.seriesQuery];
    });
    const run = checkRules({ 'adapter.yaml': asRecordingRules('adapter', exprs) });
    expect(run.status, run.output).toBe(0);
  });
});
