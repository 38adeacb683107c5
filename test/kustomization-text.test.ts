import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kustomizationText } from '../lib/private/kustomization';

const expected = (resources: string[]) => `# h\n${stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources })}`;

describe('kustomizationText', () => {
  it('writes what yaml stringify writes, for manifest file names and any other names', () => {
    const fileName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,90}\.yaml$/);
    const trickyName = fc.oneof(fileName, fc.constantFrom('yes.yaml', '0o7.yaml', '1e3.yaml', 'a b.yaml', '- a.yaml', 'a: b.yaml', 'x'.repeat(100), '.yaml', 'no', '', '#.yaml'), fc.string());
    fc.assert(fc.property(fc.array(fc.oneof(fileName, trickyName), { maxLength: 20 }), (resources) => {
      expect(kustomizationText('# h\n', resources)).toBe(expected(resources));
    }), { numRuns: 2000 });
    expect(kustomizationText('# h\n', [])).toBe(expected([]));
  });
});
