import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { RedisCache, RedisPersistence } from '../lib/cache';
import { EnvironmentChart } from '../lib/environment';
import { loadFleet } from '../lib/fleet';
import { ModelStoreBackup, modelStorePrefix } from '../lib/operations';
import { type KubeObject, checkPolicies } from '../lib/policy';
import { parseQuantity } from '../lib/private/quantity';
import { defaultValidator, formatIssue } from '../lib/validation';
import { DEFAULT_FLEET } from './helpers/app';

const fleet = loadFleet(DEFAULT_FLEET);
const productionNamespaces = Object.values(fleet.environments).filter((e) => e.stage === 'production').map((e) => e.namespace);

/**
 * Each environment of the default fleet with the cache and the backup added the way the
 * integration note wires them into EnvironmentChart (after its constructor, here).
 */
function environmentWithOperations(environment: string): KubeObject[] {
  const env = fleet.environments[environment];
  const chart = new EnvironmentChart(Testing.app(), environment, { fleet, environment });
  const production = env.stage === 'production';
  // Once the chart wires them itself (the fleet's redis and backup sections), test that instead.
  if (chart.node.tryFindChild('PredictionCache') === undefined) {
    const cache = new RedisCache(chart, 'PredictionCache', {
      namespace: env.namespace,
      partOf: fleet.name,
      persistence: production ? RedisPersistence.appendOnly({ size: '5Gi' }) : RedisPersistence.none(),
      clients: [...chart.services.values()],
    });
    for (const policy of chart.networkPolicies.values()) policy.addEgress(cache.egressRule());
  }
  if (production && chart.node.tryFindChild('ModelStoreBackup') === undefined) {
    new ModelStoreBackup(chart, 'ModelStoreBackup', {
      namespace: env.namespace,
      partOf: fleet.name,
      source: modelStorePrefix(fleet.models.map((m) => m.mar as string)) as string,
      destination: 's3://betterprompts-model-backups/model-store/',
      iamRoleArn: 'arn:aws:iam::123456789012:role/betterprompts-model-backup',
      image: fleet.modelFetcher && `${fleet.modelFetcher.repository}:${fleet.modelFetcher.tag}`,
      objectStorageCidrs: env.network?.objectStorageCidrs,
    });
  }
  return Testing.synth(chart) as KubeObject[];
}

/**
 * Every pod template with how many of its pods may run at once: a model's largest size (its
 * autoscaler's maximum, else its replicas) doubled for a rollout, one cache pod, one backup run.
 */
function podsAtPeak(objects: KubeObject[]): { count: number; containers: any[] }[] {
  const largest = (o: KubeObject): number => {
    const hpa = objects.find((h) => h.kind === 'HorizontalPodAutoscaler' && h.spec.scaleTargetRef?.name === o.metadata.name);
    return Math.max(o.spec.replicas ?? 1, hpa?.spec.maxReplicas ?? 0);
  };
  return objects.flatMap((o) => {
    switch (o.kind) {
      case 'Deployment': case 'Rollout': return [{ count: largest(o) * 2, containers: o.spec.template.spec.containers }];
      case 'StatefulSet': return [{ count: o.spec.replicas ?? 1, containers: o.spec.template.spec.containers }];
      case 'CronJob': return [{ count: 1, containers: o.spec.jobTemplate.spec.template.spec.containers }];
      default: return [];
    }
  });
}

describe.each(Object.keys(fleet.environments))('the %s environment with the cache and the backup', (environment) => {
  const objects = environmentWithOperations(environment);

  it('passes the policy suite and strict schema validation as a whole', () => {
    expect(checkPolicies(objects, { productionNamespaces })).toEqual([]);
    expect(objects.flatMap((o) => defaultValidator().validate(o)).map(formatIssue)).toEqual([]);
  });

  it('fits in the namespace quota, models doubled for a rollout', () => {
    const quota = objects.find((o) => o.kind === 'ResourceQuota')!.spec.hard;
    const pods = podsAtPeak(objects);
    expect(pods.reduce((n, p) => n + p.count, 0)).toBeLessThanOrEqual(Number(quota.pods));
    for (const resource of ['cpu', 'memory', 'ephemeral-storage']) {
      const requested = pods.reduce((sum, p) => sum + p.count * p.containers.reduce((s: number, c: any) => s + parseQuantity(String(c.resources.requests[resource])), 0), 0);
      expect(requested, resource).toBeLessThanOrEqual(parseQuantity(String(quota[`requests.${resource}`])));
    }
  });

  it('lets every model reach the cache and nothing else in the namespace', () => {
    const cachePolicy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'prediction-cache')!;
    const models = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Rollout');
    expect(cachePolicy.spec.ingress[0].from.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/instance']).sort())
      .toEqual(models.map((m) => m.metadata.name).sort());
    for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy' && models.some((m) => m.metadata.name === o.metadata.name))) {
      expect(policy.spec.egress.some((rule: any) => rule.ports?.some((p: any) => p.port === 6379))).toBe(true);
    }
  });
});
