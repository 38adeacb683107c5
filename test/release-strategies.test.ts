import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FleetConfigError, parseFleet } from '../lib/fleet';
import { type KubeObject, checkPolicies } from '../lib/policy';
import { formatIssue, validateDirectory } from '../lib/validation';
import { synthToTemp } from './helpers/app';
import { spawnAsync, twoAtATime } from './helpers/cli';
import { type AnalysisMetric, measurementPhase } from './helpers/argo-analysis';
import { RELEASE_FIXTURE_FLEET, editFleet } from './helpers/fleets';
import { type Manifest, readEnvironment } from './helpers/manifests';
import { checkPromqlParses } from './helpers/promtool';

const tls = { issuer: 'letsencrypt-prod' };
const GATEWAYS: [string, Record<string, unknown>][] = [
  ['gateway-api-kong', { kind: 'gateway-api', implementation: 'kong', host: 'api.example.com', tls }],
  ['gateway-api-traefik', { kind: 'gateway-api', implementation: 'traefik', host: 'api.example.com', tls }],
  ['gateway-api-envoy-gateway', { kind: 'gateway-api', implementation: 'envoy-gateway', host: 'api.example.com', tls }],
  ['kong', { kind: 'kong', host: 'api.example.com', tls }],
  ['traefik', { kind: 'traefik', host: 'api.example.com', tls }],
  ['nginx', { kind: 'nginx', host: 'api.example.com', tls }],
];
const STRATEGIES = ['canary', 'blue-green'];

function fleetText(gateway: Record<string, unknown>, strategy: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return editFleet((d) => {
    for (const env of ['staging', 'production']) {
      d.setIn(['environments', env, 'gateway'], d.createNode(gateway));
      d.setIn(['environments', env, 'strategy'], d.createNode(strategy));
    }
    for (const [key, value] of Object.entries(extra)) d.setIn([key], d.createNode(value));
  }, RELEASE_FIXTURE_FLEET);
}

const CASES = STRATEGIES.flatMap((strategy) => GATEWAYS.map(([name, gateway]) => [strategy, name, gateway] as const));

describe.each(CASES)('%s through %s', (strategy, gatewayName, gateway) => {
  const outdir = synthToTemp({ text: fleetText(gateway, { type: strategy }, { argoRollouts: { pluginConfigMap: true } }) });
  const manifests = readEnvironment(path.join(outdir, 'production'));
  const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
  const rollout = manifests.find((m) => m.kind === 'Rollout')!;

  it('runs the model as an Argo Rollout, not a Deployment, with the same pod template', () => {
    expect(rollout).toBeDefined();
    expect(manifests.filter((m) => m.kind === 'Deployment')).toEqual([]);
    expect(rollout.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'torchserve', 'app.kubernetes.io/instance': 'intent-classifier' });
    expect(rollout.spec.template.spec.containers[0].name).toBe('torchserve');
    expect(rollout.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('passes strict schema validation (Rollout, AnalysisTemplate, Services and routes) and builds with kubectl kustomize', async () => {
    const builds = twoAtATime(fs.readdirSync(outdir).map((folder) => () => spawnAsync('kubectl', ['kustomize', path.join(outdir, folder)], { cwd: outdir, env: process.env })));
    expect(validateDirectory(outdir).issues.map(formatIssue)).toEqual([]);
    for (const build of await builds) expect(build.status, build.stderr).toBe(0);
  });

  it('names only Services, Ingresses, TraefikServices and HTTPRoutes that exist in the same output', () => {
    const s = rollout.spec.strategy;
    if (strategy === 'canary') {
      expect(find('Service', s.canary.stableService)).toBeDefined();
      expect(find('Service', s.canary.canaryService)).toBeDefined();
      const routing = s.canary.trafficRouting;
      if (routing.nginx) expect(find('Ingress', routing.nginx.stableIngress)).toBeDefined();
      if (routing.traefik) {
        const weighted = find('TraefikService', routing.traefik.weightedTraefikServiceName)!;
        expect(weighted.spec.weighted.services.map((x: Manifest) => [x.name, x.weight])).toEqual([[s.canary.stableService, 100], [s.canary.canaryService, 0]]);
      }
      if (routing.plugins) {
        const { httpRoute, namespace } = routing.plugins['argoproj-labs/gatewayAPI'];
        const route = find('HTTPRoute', httpRoute)!;
        expect(route.metadata.namespace).toBe(namespace);
        expect(route.spec.rules[0].backendRefs.map((b: Manifest) => [b.name, b.weight])).toEqual([[s.canary.stableService, 100], [s.canary.canaryService, 0]]);
        expect(find('Role', 'argo-rollouts-gatewayapi')).toBeDefined();
        // Asked for with argoRollouts.pluginConfigMap: the plugin, pinned by checksum.
        const config = readEnvironment(path.join(outdir, 'argo-rollouts')).find((m) => m.metadata.name === 'argo-rollouts-config')!;
        expect(config.data.trafficRouterPlugins).toMatch(/^- name: argoproj-labs\/gatewayAPI\n {2}location: https:\/\/github\.com\/.*\/v0\.15\.0\/gatewayapi-plugin-linux-amd64\n {2}sha256: [0-9a-f]{64}\n$/);
        expect(config.metadata.annotations?.['model-serving/replaces']).toContain('controller.trafficRouterPlugins');
      }
      const steps = s.canary.steps;
      expect(steps[0]).toEqual({ setWeight: 10 });
      expect(steps.filter((step: Manifest) => step.analysis)).toHaveLength(steps.filter((step: Manifest) => step.setWeight !== undefined).length);
    } else {
      expect(find('Service', s.blueGreen.activeService)).toBeDefined();
      expect(find('Service', s.blueGreen.previewService)).toBeDefined();
      expect(s.blueGreen.autoPromotionEnabled).toBe(false);
      expect(s.blueGreen.scaleDownDelaySeconds).toBe(600);
      const previewRoutes = manifests.filter((m) => /-preview$/.test(m.metadata.name) && ['Ingress', 'IngressRoute', 'HTTPRoute'].includes(m.kind));
      expect(previewRoutes).toHaveLength(1);
      expect(JSON.stringify(previewRoutes[0])).toMatch(/X-Model-Preview|x-model-preview/);
      expect(JSON.stringify(previewRoutes[0])).toContain('intent-classifier-preview');
    }
    const analyses = [
      ...(s.canary?.steps ?? []).filter((step: Manifest) => step.analysis).map((step: Manifest) => step.analysis),
      s.blueGreen?.prePromotionAnalysis, s.blueGreen?.postPromotionAnalysis,
    ].filter(Boolean);
    expect(analyses.length).toBeGreaterThan(0);
    for (const analysis of analyses) for (const t of analysis.templates) expect(find('AnalysisTemplate', t.templateName), t.templateName).toBeDefined();
  });

  it('gates on the 5xx ratio (< 5%) and latency (< 500 ms), failing closed: no data or NaN is never a pass', () => {
    const templates = manifests.filter((m) => m.kind === 'AnalysisTemplate');
    expect(templates.length).toBeGreaterThan(0);
    const queries: string[] = [];
    for (const t of templates) {
      const [errorRate, latency] = t.spec.metrics as (AnalysisMetric & Manifest)[];
      expect(errorRate).toMatchObject({ name: 'error-rate', failureLimit: 1, count: 3, inconclusiveLimit: 0 });
      expect(latency.name).toMatch(/^(p95|mean)-latency$/);
      // What the conditions DO, as Argo Rollouts evaluates them on the Prometheus result vector.
      const phase = (metric: AnalysisMetric, result: number[]) => measurementPhase(metric, result);
      for (const [metric, limit] of [[errorRate, 0.05], [latency, 0.5]] as const) {
        expect(phase(metric, []), `${t.metadata.name} ${metric.name} on no data`).toBe('Inconclusive');
        expect(phase(metric, [NaN]), `${metric.name} on NaN`).toBe('Inconclusive');
        expect(phase(metric, [limit / 2]), `${metric.name} below`).toBe('Successful');
        expect(phase(metric, [limit]), `${metric.name} at the limit`).toBe('Failed');
        expect(phase(metric, [limit * 4]), `${metric.name} above`).toBe('Failed');
        expect(phase(metric, [Infinity]), `${metric.name} beyond the last bucket`).toBe('Failed');
        // Every query is empty below the minimum request count, which the conditions read as no data.
        expect(metric.provider.prometheus.query).toMatch(/\) and \(sum\(increase\([a-zA-Z0-9_]+\{.+\}\[120s\]\)\) >= 30\)$/);
      }
      if (latency.name === 'p95-latency') expect(latency.provider.prometheus.query).toMatch(/^\(histogram_quantile\(0\.95, sum by \(le\) \(rate\([a-z_]+_bucket\{/);
      queries.push(errorRate.provider.prometheus.query, latency.provider.prometheus.query);
    }
    checkPromqlParses(queries.map((q) => q.replaceAll('{{args.canary-hash}}', '7c6b5d4f8')));
  });

  it('keeps the policy suite green, Rollout pod templates included', () => {
    expect(checkPolicies(manifests as KubeObject[], { productionNamespaces: ['fixture-production'] })).toEqual([]);
  });

  it('matches its YAML file snapshot', async () => {
    const release = manifests.filter((m) => ['Rollout', 'AnalysisTemplate', 'Service', 'TraefikService', 'Role', 'RoleBinding'].includes(m.kind) || /-preview$/.test(m.metadata.name)
      || (['Ingress', 'IngressRoute', 'HTTPRoute'].includes(m.kind) && m.metadata.name === 'intent-classifier'));
    const text = release.map((m) => stringify({ ...m, spec: m.kind === 'Rollout' ? { ...m.spec, template: '(the TorchServe pod template)' } : m.spec }, { lineWidth: 0 })).join('---\n');
    await expect(text).toMatchFileSnapshot(`./__snapshots__/release-${strategy}-${gatewayName}.k8s.yaml`);
  });
});

describe('release strategy errors', () => {
  const errorOf = (text: string) => {
    try {
      parseFleet(text, 'fleet.yaml');
    } catch (error) {
      if (error instanceof FleetConfigError) return error.message;
      throw error;
    }
    throw new Error('expected an error');
  };
  const gateway = GATEWAYS[0][1];

  it.each([
    ['a canary weight of 150', { type: 'canary', canary: { weights: [10, 150] } }, 'environments.staging.strategy.canary.weights[1]: got 150; must be an integer from 1 to 99, the percent of traffic a step sends to the canary (100 is the promotion itself)'],
    ['weights that go down', { type: 'canary', canary: { weights: [50, 10] } }, 'environments.staging.strategy.canary.weights: got a list; must increase step by step; 50 is followed by 10'],
    ['an unknown strategy', { type: 'shadow' }, 'environments.staging.strategy.type: got "shadow"; expected one of: "rolling", "canary", "blue-green"'],
    ['a failure limit that can never trip', { type: 'canary', gates: { count: 2, failureLimit: 2 } }, 'environments.staging.strategy.gates.failureLimit: got 2; must be below count (2), or a release could never fail'],
    ['a minimum request count of 0', { type: 'canary', gates: { minRequests: 0 } }, 'environments.staging.strategy.gates.minRequests: got 0; must be >= 1'],
    ['the Prometheus address in its old place', { type: 'canary', gates: { prometheusAddress: 'http://prom:9090' } }, 'environments.staging.strategy.gates.prometheusAddress: has moved to environments.staging.prometheus.url: an environment has one Prometheus address, used by the release gates, KEDA and the prometheus-adapter rules'],
  ])('rejects %s', (_name, strategy, message) => {
    expect(errorOf(fleetText(gateway, strategy))).toContain(message);
  });

  it('rejects a canary without a gateway, and on a gateway without request metrics', () => {
    const noGateway = editFleet((d) => {
      d.deleteIn(['environments', 'staging', 'gateway']);
      d.deleteIn(['environments', 'staging', 'monitoring']);
      d.setIn(['environments', 'staging', 'network', 'gatewayNamespaces'], d.createNode(['ingress']));
      d.setIn(['environments', 'staging', 'strategy'], d.createNode({ type: 'canary' }));
    }, RELEASE_FIXTURE_FLEET);
    expect(errorOf(noGateway)).toContain('environments.staging.strategy.type: got "canary"; needs a gateway');
    const ngf = fleetText({ kind: 'gateway-api', implementation: 'nginx-gateway-fabric', host: 'api.example.com', tls }, { type: 'blue-green' });
    expect(errorOf(ngf)).toContain('environments.staging.strategy.type: got "blue-green"; gateway "gateway-api (nginx-gateway-fabric)" cannot release by blue-green: NGINX Gateway Fabric exports no per-route request metrics (only with NGINX Plus)');
  });

  it('refuses a Kong or Envoy Gateway canary without monitoring, whose ServiceMonitor the canary gates read', () => {
    for (const gw of [{ kind: 'kong' }, { kind: 'gateway-api', implementation: 'envoy-gateway' }]) {
      const text = editFleet((d) => {
        d.setIn(['environments', 'staging', 'gateway'], d.createNode({ ...gw, host: 'api.example.com', tls }));
        d.setIn(['environments', 'staging', 'strategy'], d.createNode({ type: 'canary' }));
        d.deleteIn(['environments', 'staging', 'monitoring']);
      }, RELEASE_FIXTURE_FLEET);
      expect(errorOf(text)).toContain("environments.staging.strategy.type: got \"canary\"; needs environments.staging.monitoring: gateway");
    }
  });

  it('names the new place of the old autoscaling Prometheus key, with its line', () => {
    const text = editFleet((d) => d.setIn(['environments', 'staging', 'autoscaling', 'prometheusUrl'], 'http://prom:9090'), RELEASE_FIXTURE_FLEET);
    expect(errorOf(text)).toMatch(/fleet\.yaml:\d+:\d+: environments\.staging\.autoscaling\.prometheusUrl: has moved to environments\.staging\.prometheus\.url: an environment has one Prometheus address/);
  });

  it('writes no argo-rollouts-config unless asked: a Helm-installed Argo Rollouts owns it', () => {
    const outdir = synthToTemp({ text: fleetText(GATEWAYS[0][1], { type: 'canary' }) });
    expect(fs.readdirSync(outdir)).not.toContain('argo-rollouts');
  });

  it('serves a Kong canary through Kong\'s Gateway API support, which Argo Rollouts can weight', () => {
    const outdir = synthToTemp({ text: fleetText({ kind: 'kong', host: 'api.example.com', tls }, { type: 'canary' }) });
    const manifests = readEnvironment(path.join(outdir, 'production'));
    expect(manifests.find((m) => m.kind === 'Gateway')?.spec.gatewayClassName).toBe('kong');
    expect(manifests.filter((m) => m.kind === 'Ingress')).toEqual([]);
  });
});
