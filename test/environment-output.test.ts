import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadFleet } from '../lib/fleet';
import { DEFAULT_FLEET, synthToTemp } from './helpers/app';
import { type Manifest, readEnvironment } from './helpers/manifests';

const outdir = synthToTemp();
const fleet = loadFleet(DEFAULT_FLEET);
const environments = Object.keys(fleet.environments).sort();

describe.each(environments)('dist/%s', (environment) => {
  const dir = path.join(outdir, environment);
  const manifests = readEnvironment(dir);
  const env = fleet.environments[environment];

  it('names one file per object, <Kind>.<name>.k8s.yaml, all listed in kustomization.yaml', () => {
    const files = fs.readdirSync(dir).filter((f) => f !== 'kustomization.yaml').sort();
    expect(files).toEqual(manifests.map((m) => `${m.kind}.${m.metadata.name}.k8s.yaml`).sort());
    const kustomization = parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf-8'));
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.kind).toBe('Kustomization');
    expect([...kustomization.resources].sort()).toEqual(files);
    expect(kustomization.resources[0]).toBe(`Namespace.${env.namespace}.k8s.yaml`);
  });

  it('generates its namespace with the restricted Pod Security profile enforced', () => {
    const namespaces = manifests.filter((m) => m.kind === 'Namespace');
    expect(namespaces.map((n) => n.metadata.name)).toEqual([env.namespace]);
    expect(namespaces[0].metadata.namespace).toBeUndefined();
    expect(namespaces[0].metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    for (const m of manifests.filter((o) => o.kind !== 'Namespace')) expect(m.metadata.namespace).toBe(env.namespace);
  });

  it('labels every object as part of the fleet, managed by model-serving', () => {
    for (const m of manifests) {
      expect(m.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': fleet.name, 'app.kubernetes.io/managed-by': 'model-serving' });
    }
  });

  it('writes no Secret and no secret values', () => {
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    const text = JSON.stringify(manifests);
    expect(text).not.toMatch(/AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  });

  it('has every Service, PDB and probe point at pods and ports that exist', () => {
    const workloads = manifests.filter((m) => ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind));
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    const podsFor = (selector: Record<string, string>) => workloads.filter((w) => matches(selector, w.spec.template.metadata.labels));
    for (const service of manifests.filter((m) => m.kind === 'Service')) {
      const [workload] = podsFor(service.spec.selector);
      expect(workload, `${service.metadata.name} selects no pods`).toBeDefined();
      const portNames = workload.spec.template.spec.containers.flatMap((c: Manifest) => c.ports.map((p: { name: string }) => p.name));
      for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    }
    for (const pdb of manifests.filter((m) => m.kind === 'PodDisruptionBudget')) {
      expect(podsFor(pdb.spec.selector.matchLabels)).toHaveLength(1);
    }
    for (const workload of workloads) {
      const spec = workload.spec.template.spec;
      expect(spec.serviceAccountName).toBeDefined();
      expect(manifests.some((m) => m.kind === 'ServiceAccount' && m.metadata.name === spec.serviceAccountName)).toBe(true);
      for (const c of spec.containers) {
        const ports = c.ports.map((p: { name: string }) => p.name);
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
          if (probe?.httpGet) expect(ports).toContain(probe.httpGet.port);
        }
      }
      for (const volume of (spec.volumes ?? []).filter((v: { configMap?: unknown }) => v.configMap)) {
        expect(manifests.some((m) => m.kind === 'ConfigMap' && m.metadata.name === volume.configMap.name)).toBe(true);
      }
    }
  });
});
