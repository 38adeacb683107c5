import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, validateDirectory } from '../lib/validation';
import { synthToTemp } from './helpers/app';
import { fleetWithGateway } from './helpers/fleets';

const tls = { issuer: 'letsencrypt-prod' };
const management = { host: 'mgmt.example.com', allowFrom: ['10.0.0.0/8'] };
const VARIANTS: [string, string | undefined][] = [
  ['the default fleet', undefined],
  ['gateway-api (traefik)', fleetWithGateway({ kind: 'gateway-api', implementation: 'traefik', host: 'api.example.com', tls, management, jwt: { authUrl: 'http://jwt.auth.svc/verify' }, rateLimit: { requestsPerSecond: 5, burst: 10 } })],
  ['gateway-api (envoy-gateway)', fleetWithGateway({ kind: 'gateway-api', implementation: 'envoy-gateway', host: 'api.example.com', tls })],
  ['kong', fleetWithGateway({ kind: 'kong', host: 'api.example.com', tls, management, jwt: { credentialSecrets: ['jwt'] }, rateLimit: { requestsPerSecond: 5 }, cache: true })],
  ['traefik', fleetWithGateway({ kind: 'traefik', host: 'api.example.com', tls, management, jwt: { authUrl: 'http://jwt.auth.svc/verify' }, rateLimit: { requestsPerSecond: 5, burst: 10 } })],
  ['nginx', fleetWithGateway({ kind: 'nginx', host: 'api.example.com', tls, management, jwt: { authUrl: 'http://jwt.auth.svc/verify' }, rateLimit: { requestsPerSecond: 5, burst: 10 } })],
];

describe('strict schema validation and kubectl kustomize of the synthesized output, for every gateway (Kubernetes 1.28 and the pinned CRDs; unknown fields are errors)', () => {
  it.each(VARIANTS)('%s: every object is valid', (_name, text) => {
    const outdir = text === undefined ? synthToTemp() : synthToTemp({ text });
    const result = validateDirectory(outdir);
    const files = fs.readdirSync(outdir).flatMap((env) => fs.readdirSync(path.join(outdir, env)).filter((f) => f.endsWith('.k8s.yaml')));
    expect(result.objects).toBe(files.length);
    expect(result.issues.map(formatIssue)).toEqual([]);
    // And every folder builds with real Kustomize.
    for (const folder of fs.readdirSync(outdir)) {
      const built = execFileSync('kubectl', ['kustomize', path.join(outdir, folder)], { encoding: 'utf-8' });
      expect(built.split(/^---$/m).length).toBe(fs.readdirSync(path.join(outdir, folder)).filter((f) => f.endsWith('.k8s.yaml')).length);
    }
  });
});
