import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FleetConfigError, parseFleet } from '../lib/fleet';
import { synthToTemp } from './helpers/app';
import { editFleet } from './helpers/fleets';
import { readEnvironment } from './helpers/manifests';

describe('Argo CD Applications', () => {
  const outdir = synthToTemp();
  const apps = readEnvironment(path.join(outdir, 'argocd'));

  it('points one Application at each environment folder, in its own Kustomize folder', () => {
    expect(apps.map((a) => a.metadata.name)).toEqual(['betterprompts-production', 'betterprompts-staging']);
    for (const app of apps) {
      const env = app.spec.source.path.replace(/^dist\//, '');
      expect(fs.existsSync(path.join(outdir, env, 'kustomization.yaml'))).toBe(true);
      const namespace = readEnvironment(path.join(outdir, env)).find((m) => m.kind === 'Namespace')!.metadata.name;
      expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace });
      expect(app.spec.source).toMatchObject({ repoURL: 'https://git.example.com/ml/betterprompts-serving.git', targetRevision: 'main' });
      expect(app.metadata.namespace).toBe('argocd');
      expect(app.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    }
    expect(parse(fs.readFileSync(path.join(outdir, 'argocd', 'kustomization.yaml'), 'utf-8')).resources).toHaveLength(2);
  });

  it('syncs automatically only the environments the fleet file lists', () => {
    const byName = Object.fromEntries(apps.map((a) => [a.metadata.name, a]));
    expect(byName['betterprompts-staging'].spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(byName['betterprompts-production'].spec.syncPolicy.automated).toBeUndefined();
  });

  it('ignores the fields Argo Rollouts rewrites during a canary', () => {
    const canary = synthToTemp({ text: editFleet((d) => d.setIn(['environments', 'production', 'strategy'], d.createNode({ type: 'canary' }))) });
    const app = readEnvironment(path.join(canary, 'argocd')).find((a) => a.metadata.name === 'betterprompts-production')!;
    expect(app.spec.ignoreDifferences.map((d: { kind: string }) => d.kind)).toEqual(['Service', 'HTTPRoute', 'TraefikService']);
    expect(app.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
  });

  it('rejects an automated sync for an environment that does not exist, and reserved environment names', () => {
    const bad = editFleet((d) => d.setIn(['argocd', 'automatedSync'], d.createNode(['prod'])));
    expect(() => parseFleet(bad, 'f.yaml')).toThrow(FleetConfigError);
    expect(() => parseFleet(bad, 'f.yaml')).toThrow('argocd.automatedSync[0]: got "prod"; is not an environment; the fleet defines: staging, production');
    const reserved = editFleet((d) => { d.setIn(['environments', 'argocd'], d.getIn(['environments', 'staging'])); d.deleteIn(['environments', 'staging']); d.setIn(['argocd', 'automatedSync'], d.createNode([])); });
    expect(() => parseFleet(reserved, 'f.yaml')).toThrow('environments.argocd: got a mapping; is reserved for an output folder (argo-rollouts, argocd, packaging); rename the environment');
  });
});
