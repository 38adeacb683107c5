import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLUSTER_PREREQUISITES, GATEWAY_API_PLUGIN_SHA256, prerequisiteFor, prerequisitesTable } from '../lib';
import { readEnvironment } from './helpers/manifests';
import { REPO_ROOT, synthToTemp } from './helpers/app';
import { RELEASE_FIXTURE_FLEET, editFleet } from './helpers/fleets';

/** API groups every Kubernetes 1.28 cluster serves. */
const CORE_GROUPS = new Set(['', 'apps', 'batch', 'policy', 'autoscaling', 'networking.k8s.io', 'rbac.authorization.k8s.io']);

const tls = { issuer: 'letsencrypt-prod' };
const GATEWAYS = [
  { kind: 'nginx', host: 'api.example.com', tls },
  { kind: 'traefik', host: 'api.example.com', tls, jwt: { authUrl: 'http://verify.auth.svc/check' } },
  { kind: 'kong', host: 'api.example.com', tls, jwt: { credentialSecrets: ['api-jwt'] } },
  { kind: 'gateway-api', implementation: 'kong', host: 'api.example.com', tls },
  { kind: 'gateway-api', implementation: 'traefik', host: 'api.example.com', tls },
  { kind: 'gateway-api', implementation: 'envoy-gateway', host: 'api.example.com', tls },
];

describe('cluster prerequisites', () => {
  it('serve every custom resource the output contains, for every gateway, strategy and autoscaling backend', () => {
    const kinds = new Set<string>();
    for (const gateway of GATEWAYS) {
      for (const strategy of ['rolling', 'canary', 'blue-green']) {
        const text = editFleet((d) => {
          d.setIn(['environments', 'production', 'gateway'], d.createNode(gateway));
          d.setIn(['environments', 'production', 'strategy'], d.createNode({ type: strategy }));
          d.setIn(['environments', 'staging', 'autoscaling', 'backend'], 'hpa-with-prometheus-adapter');
          d.setIn(['argocd'], d.createNode({ repoURL: 'https://git.example.com/ml/serving.git' }));
          d.setIn(['argoRollouts'], d.createNode({ pluginConfigMap: true }));
        }, RELEASE_FIXTURE_FLEET);
        const outdir = synthToTemp({ text });
        for (const folder of fs.readdirSync(outdir)) {
          for (const m of readEnvironment(path.join(outdir, folder))) kinds.add(`${m.apiVersion} ${m.kind}`);
        }
      }
    }
    const custom = [...kinds].filter((k) => {
      const apiVersion = k.split(' ')[0];
      return !CORE_GROUPS.has(apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
    });
    expect(custom.length).toBeGreaterThan(10);
    const unserved = custom.filter((k) => prerequisiteFor(k.split(' ')[0], k.split(' ')[1]) === undefined);
    expect(unserved).toEqual([]);
    // And no prerequisite claims a kind the output never contains.
    const claimed = CLUSTER_PREREQUISITES.flatMap((p) => p.kinds);
    const contained = new Set(custom.map((k) => `${k.split(' ')[0].split('/')[0]}/${k.split(' ')[1]}`));
    expect(claimed.filter((k) => !contained.has(k))).toEqual([]);
  });

  it('are listed in the README exactly as the code lists them, the plugin pinned by checksum', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf-8');
    expect(readme).toContain('## Cluster prerequisites');
    expect(readme).toContain(prerequisitesTable());
    expect(readme).toContain(GATEWAY_API_PLUGIN_SHA256);
  });

});

describe('one Prometheus address per environment', () => {
  it('is set once and read by the release gates, KEDA and the prometheus-adapter rules', () => {
    const url = 'http://prometheus.observability.svc:9090';
    const text = editFleet((d) => {
      for (const env of ['staging', 'production']) {
        d.setIn(['environments', env, 'prometheus'], d.createNode({ url }));
        d.setIn(['environments', env, 'strategy'], d.createNode({ type: 'canary' }));
      }
      d.setIn(['environments', 'staging', 'autoscaling', 'backend'], 'hpa-with-prometheus-adapter');
    }, RELEASE_FIXTURE_FLEET);
    const outdir = synthToTemp({ text });
    const addresses = new Set<string>();
    for (const env of ['staging', 'production']) {
      for (const m of readEnvironment(path.join(outdir, env))) {
        if (m.kind === 'AnalysisTemplate') for (const metric of m.spec.metrics) addresses.add(metric.provider.prometheus.address);
        if (m.kind === 'ScaledObject') for (const t of m.spec.triggers) if (t.type === 'prometheus') addresses.add(t.metadata.serverAddress);
        if (m.metadata.name === 'prometheus-adapter-external-rules') addresses.add(m.metadata.annotations?.['model-serving/prometheus-url'] ?? 'missing');
      }
    }
    expect([...addresses]).toEqual([url]);
  });
});
