import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { YamlEditError, editYamlText } from '../lib/repository/yaml-edit';
import { changedLines } from './helpers/text';


const FLEET = `# The fleet
name: demo                          # the fleet's name
environments:
  staging:
    stage: staging
    gateway: { kind: nginx, host: a.example.com }
    network:
      gatewayNamespaces: [ingress-nginx]    # flow list, spaced as written
    versions:
      intent_classifier: 1.0.0      # pinned by deploy

  production:
    stage: production
    replicas: 3
    # the last key of production
    autoscaling:
      maxReplicas: 8
      # minReplicas: 2
`;

describe('editYamlText', () => {
  it('replaces one value and keeps its trailing comment in its column', () => {
    const out = editYamlText(FLEET, [{ path: ['environments', 'staging', 'versions', 'intent_classifier'], value: '1.10.0' }]);
    expect(changedLines(FLEET, out)).toEqual({
      removed: ['      intent_classifier: 1.0.0      # pinned by deploy'],
      added: ['      intent_classifier: 1.10.0     # pinned by deploy'],
    });
  });

  it('quotes a value only where plain text would read as another type', () => {
    const out = editYamlText(FLEET, [{ path: ['environments', 'staging', 'versions', 'intent_classifier'], value: '1.10' }]);
    expect(parse(out).environments.staging.versions.intent_classifier).toBe('1.10');
    expect(out).toContain('intent_classifier: "1.10"');
  });

  it('inserts a missing key after the last entry, below the comments that belong to it', () => {
    const out = editYamlText(FLEET, [{ path: ['environments', 'production', 'versions', 'intent_classifier'], value: '1.1.0' }]);
    expect(out).toBe(`${FLEET}    versions:\n      intent_classifier: 1.1.0\n`);
  });

  it('inserts into an environment that is followed by another one, before the blank line', () => {
    const out = editYamlText(FLEET, [{ path: ['environments', 'staging', 'strategy', 'models', 'intent_classifier'], value: 'canary' }]);
    expect(changedLines(FLEET, out)).toEqual({ removed: [], added: ['    strategy:', '      models:', '        intent_classifier: canary'] });
    expect(out).toContain('        intent_classifier: canary\n\n  production:');
  });

  it('adds to a flow mapping in flow style', () => {
    const out = editYamlText(FLEET, [{ path: ['environments', 'staging', 'gateway', 'className'], value: 'nginx' }]);
    expect(changedLines(FLEET, out).added).toEqual(['    gateway: { kind: nginx, host: a.example.com, className: nginx }']);
  });

  it('deletes a key with the comment lines directly above it', () => {
    const out = editYamlText(FLEET, [{ path: ['environments', 'production', 'autoscaling'], delete: true }]);
    expect(changedLines(FLEET, out)).toEqual({ removed: ['    # the last key of production', '    autoscaling:', '      maxReplicas: 8', '      # minReplicas: 2'], added: [] });
  });

  it('refuses to set a scalar over a mapping', () => {
    expect(() => editYamlText(FLEET, [{ path: ['environments', 'staging'], value: 'x' }])).toThrow(YamlEditError);
  });

  it('refuses YAML that does not parse', () => {
    expect(() => editYamlText('a: [', [{ path: ['a'], value: 'x' }])).toThrow(/does not parse/);
  });

  // Any block mapping document, any path of keys, any value: the result parses to the old data
  // with exactly that change, and no line that held other data changes.
  it('changes only the edited data, for generated documents', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
    const scalar = fc.oneof(fc.stringMatching(/^[a-z0-9.]{1,8}$/), fc.integer({ min: 0, max: 999 }), fc.boolean());
    type Tree = { [k: string]: Tree | string | number | boolean };
    const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
      node: fc.dictionary(key, fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalar, tie('node')), { minKeys: 1, maxKeys: 4 }),
    })).node;
    const render = (node: Tree, indent: number): string => Object.entries(node).map(([k, v]) => {
      const pad = ' '.repeat(indent);
      if (typeof v === 'object') return `${pad}# about ${k}\n${pad}${k}:\n${render(v, indent + 2)}`;
      return `${pad}${k}: ${JSON.stringify(v)}   # ${k}\n`;
    }).join('');
    fc.assert(fc.property(tree, fc.array(key, { minLength: 1, maxLength: 4 }), scalar, (doc, path, value) => {
      const text = render(doc, 0);
      let out: string;
      try {
        out = editYamlText(text, [{ path, value }]);
      } catch (error) {
        // Only a path that runs through an existing value or list may be refused.
        expect(error).toBeInstanceOf(YamlEditError);
        return;
      }
      const { removed, added } = changedLines(text, out);
      expect(removed.length).toBeLessThanOrEqual(1);
      expect(added.length).toBeLessThanOrEqual(path.length);
    }), { seed: 20261202, numRuns: 300 });
  });
});
