import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROVIDERS, GatewayFeature, type GatewayProvider } from '../lib/gateway';
import { REPO_ROOT } from './helpers/app';

/** The README's gateway table, as rows of cells. */
function gatewayTable(): string[][] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf-8');
  const section = readme.slice(readme.indexOf('## Gateways'));
  const lines = section.split('\n').filter((l) => l.startsWith('|')).slice(0, 16);
  return lines.map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

/** A column header names its providers, e.g. "`gateway-api` (envoy-gateway, nginx-gateway-fabric)". */
function columnProviders(header: string): GatewayProvider[] {
  const kind = /`([a-z-]+)`/.exec(header)?.[1];
  const implementations = /\(([^)]*)\)/.exec(header)?.[1].split(',').map((i) => i.trim());
  return GATEWAY_PROVIDERS.filter((p) => p.kind === kind && (implementations === undefined ? p.implementation === undefined : implementations.includes(p.implementation as string)));
}

const ROWS: Record<string, GatewayFeature> = {
  'management allow-list': GatewayFeature.MANAGEMENT_ALLOW_LIST,
  'jwt': GatewayFeature.JWT,
  'rateLimit (per client)': GatewayFeature.RATE_LIMIT,
  'cache (GET, 5 min)': GatewayFeature.CACHE,
  'canary': GatewayFeature.CANARY,
  'blue-green': GatewayFeature.BLUE_GREEN,
};

describe('the README gateway table', () => {
  it('has a column for every gateway provider, and says "yes" exactly where the provider can', () => {
    const table = gatewayTable();
    const columns = table[0].slice(1).map(columnProviders);
    expect(columns.flat().map((p) => p.label).sort()).toEqual(GATEWAY_PROVIDERS.map((p) => p.label).sort());
    for (const [label, feature] of Object.entries(ROWS)) {
      const row = table.find((r) => r[0] === label);
      expect(row, label).toBeDefined();
      columns.forEach((providers, i) => {
        for (const provider of providers) {
          // A gateway whose canaries another provider serves supports what that one does.
          const serving = feature === GatewayFeature.CANARY ? provider.canaryProvider ?? provider : provider;
          const supported = serving.unsupported(feature) === undefined;
          expect(row![i + 1].startsWith(supported ? 'yes' : 'no'), `${label} / ${provider.label}: "${row![i + 1]}"`).toBe(true);
        }
      });
    }
  });
});
