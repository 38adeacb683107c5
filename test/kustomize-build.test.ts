import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthToTemp, tempDir } from './helpers/app';

const outdir = synthToTemp();
const environments = fs.readdirSync(outdir).sort();

function kustomize(dir: string): Record<string, unknown>[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf-8' });
  return parseAllDocuments(text).map((d) => d.toJS());
}

describe.each(environments)('kubectl kustomize %s', (environment) => {
  it('builds every listed object', () => {
    const built = kustomize(path.join(outdir, environment));
    const files = fs.readdirSync(path.join(outdir, environment)).filter((f) => f.endsWith('.k8s.yaml'));
    const names = built.map((o) => `${o.kind}.${(o.metadata as { name: string }).name}.k8s.yaml`);
    expect(names.sort()).toEqual(files.sort());
  });

  it('serves as the base of a user overlay', () => {
    const overlay = tempDir();
    fs.writeFileSync(path.join(overlay, 'kustomization.yaml'), [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${JSON.stringify(path.relative(overlay, path.join(outdir, environment)))}]`,
      'commonAnnotations:',
      '  team: ml-platform',
      '',
    ].join('\n'));
    const built = kustomize(overlay);
    expect(built.length).toBeGreaterThan(0);
    for (const o of built) expect((o.metadata as { annotations: Record<string, string> }).annotations.team).toBe('ml-platform');
  });
});
