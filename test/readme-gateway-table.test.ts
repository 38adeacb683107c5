import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayApiImplementation, GatewayFeature, GatewayKind, unsupportedReason } from '../lib/gateway';
import { REPO_ROOT } from './helpers/app';

/** The README's gateway table, as rows of cells. */
function gatewayTable(): string[][] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf-8');
  const section = readme.slice(readme.indexOf('## Gateways'));
  const lines = section.split('\n').filter((l) => l.startsWith('|')).slice(0, 12);
  return lines.map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

const COLUMNS: [GatewayKind, GatewayApiImplementation | undefined][] = [
  [GatewayKind.GATEWAY_API, GatewayApiImplementation.KONG],
  [GatewayKind.GATEWAY_API, GatewayApiImplementation.TRAEFIK],
  [GatewayKind.GATEWAY_API, GatewayApiImplementation.ENVOY_GATEWAY],
  [GatewayKind.KONG, undefined],
  [GatewayKind.TRAEFIK, undefined],
  [GatewayKind.NGINX, undefined],
];

const ROWS: Record<string, GatewayFeature> = {
  'management allow-list': GatewayFeature.MANAGEMENT_ALLOW_LIST,
  'jwt': GatewayFeature.JWT,
  'rateLimit (per client)': GatewayFeature.RATE_LIMIT,
  'cache (GET, 5 min)': GatewayFeature.CACHE,
};

describe('the README gateway table', () => {
  it('says "yes" exactly where the code supports a feature, and "no" where it refuses it', () => {
    const table = gatewayTable();
    for (const [label, feature] of Object.entries(ROWS)) {
      const row = table.find((r) => r[0] === label);
      expect(row, label).toBeDefined();
      COLUMNS.forEach(([kind, implementation], i) => {
        const supported = unsupportedReason(feature, kind, implementation) === undefined;
        expect(row![i + 1].startsWith(supported ? 'yes' : 'no'), `${label} / ${kind} ${implementation ?? ''}: "${row![i + 1]}"`).toBe(true);
      });
    }
    // nginx-gateway-fabric shares the envoy-gateway column; it must support the same.
    for (const feature of Object.values(GatewayFeature)) {
      expect(unsupportedReason(feature, GatewayKind.GATEWAY_API, GatewayApiImplementation.NGINX_GATEWAY_FABRIC) === undefined)
        .toBe(unsupportedReason(feature, GatewayKind.GATEWAY_API, GatewayApiImplementation.ENVOY_GATEWAY) === undefined);
    }
  });
});
