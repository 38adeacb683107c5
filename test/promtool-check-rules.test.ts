import { describe, expect, it } from 'vitest';
import { GpuMetrics } from '../lib/signals';
import { checkRules } from './fixtures/promtool/promtool';
import { monitoredEnvironment } from './fixtures/promtool/monitored-fleet';
import { fleetWithGateway } from './helpers/fleets';

const tls = { issuer: 'letsencrypt-prod' };
const HOST = 'api.example.com';

/** Every way the rules can come out: both environments, every gateway that exports request metrics, both GPU sources. */
function everyPrometheusRule(): Record<string, unknown> {
  const variants: [string, ReturnType<typeof monitoredEnvironment>][] = [
    ['staging', monitoredEnvironment('staging')],
    ['production', monitoredEnvironment('production')],
    ['production-torchserve-gpu', monitoredEnvironment('production', { monitoring: { gpuMetrics: GpuMetrics.torchServe() } })],
    ['no-request-metrics', monitoredEnvironment('staging', {
      fleetText: fleetWithGateway({ kind: 'gateway-api', implementation: 'nginx-gateway-fabric', host: HOST, tls }),
      monitoring: { requestAlerts: false },
    })],
    ...[
      { kind: 'gateway-api', implementation: 'traefik', host: HOST, tls },
      { kind: 'gateway-api', implementation: 'envoy-gateway', host: HOST, tls },
      { kind: 'kong', host: HOST, tls },
      { kind: 'traefik', host: HOST, tls },
      { kind: 'nginx', host: HOST, tls },
    ].map((gateway): [string, ReturnType<typeof monitoredEnvironment>] => [
      `gateway-${gateway.kind}${gateway.implementation ? `-${gateway.implementation}` : ''}`,
      monitoredEnvironment('staging', { fleetText: fleetWithGateway(gateway) }),
    ]),
  ];
  const files: Record<string, unknown> = {};
  for (const [variant, env] of variants) {
    for (const rule of env.objects.filter((o) => o.kind === 'PrometheusRule')) {
      files[`${variant}-${rule.metadata.name}.yaml`] = rule.spec;
    }
  }
  return files;
}

describe('promtool check rules', () => {
  it('accepts the spec of every PrometheusRule as a rules file', () => {
    const files = everyPrometheusRule();
    expect(Object.keys(files).length).toBeGreaterThanOrEqual(9);
    const run = checkRules(files);
    expect(run.status, run.output).toBe(0);
    // promtool reports each file's rule count; every file has the full set of alerts it should.
    for (const name of Object.keys(files)) {
      const expected = name.startsWith('no-request-metrics') ? 4 : 6;
      expect(run.output).toContain(`SUCCESS: ${expected} rules found`);
    }
  });

  it('rejects a broken rules file, so a pass means something', () => {
    const run = checkRules({ 'broken.yaml': { groups: [{ name: 'x', rules: [{ alert: 'Broken', expr: 'rate(ts_inference_requests_total[5m]' }] }] } });
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/unclosed left parenthesis|parse error/);
  });
});
