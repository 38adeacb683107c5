import fs from 'node:fs';
import path from 'node:path';
import { Yaml } from 'cdk8s';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manifestYaml } from '../lib/private/manifest-yaml';
import { REPO_ROOT, readTree, synthToTemp } from './helpers/app';

// Strings that sit on every boundary of the YAML writer: implicit YAML 1.1 types, indicators,
// document markers, quotes of either kind, escapes, blank and indented lines, chomping.
const TRICKY = [
  '', ' ', 'a', 'yes', 'No', 'ON', 'off', 'y', 'N', 'true', 'False', '~', 'null', 'NULL', 'e5', '1e3', '.5', '5.', '.inf', '-.Inf', '.nan',
  '0', '007', '0x1F', '0b101', '0o7', '1_000', '1:20', '1:20.5', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '<<', '=', '-', '?', ':',
  '- a', '? a', ': a', 'a: b', 'a:b', 'a:', 'a #b', 'a#b', '#a', '&a', '*a', '!a', '|', '>', '%a', '@a', '`a', "'a'", '"a"', 'a"b', "a'b", 'a"b\'c',
  '---', '--- a', '...', '...a', 'a\n---\nb', '[a]', '{a}', 'a,b', 'a b', 'a  b', ' a', 'a ', '\ta', 'a\t', 'ü', '日本', '\u00a0', '\u2028', '\u0085',
  'a\\nb', 'a\nb', 'a\nb\n', 'a\nb\n\n', '\na', 'a\n', '\n', '\n\n', ' a\nb', 'a\n b', 'a \nb', 'a\n\nb', 'a\n\n\nb\n', 'a\nb ', 'a\nb\t', 'a\n ', 'a\n\t\n',
  'a\rb', 'a\u0007b', '\ud800', 'x'.repeat(300), `${'y'.repeat(300)}\nz`, `${'k '.repeat(200)}:`, `{\n  "a": 1\n}\n`,
];

const trickyString = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '\t', ':', '#', '-', '"', "'", '.', '0', '1', 'e', 'y') }),
  fc.array(fc.constantFrom(...TRICKY), { maxLength: 4 }).map((parts) => parts.join('')),
);
const key = fc.oneof(trickyString, fc.constantFrom('apiVersion', 'kind', 'metadata', 'app.kubernetes.io/name', 'nvidia.com/gpu', 'a'.repeat(1025)));
const scalar = fc.oneof(trickyString, fc.integer(), fc.double(), fc.constantFrom(0, -0, 1e21, 0.1, -1.5, Number.MAX_SAFE_INTEGER), fc.boolean());
// Null and undefined, which cdk8s's sanitizing drops, take the whole-document path.
const rare = fc.constantFrom(null, undefined);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, scalar, rare, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
}));
const manifest = fc.dictionary(key, value, { minKeys: 0, maxKeys: 6 });

describe('manifestYaml', () => {
  it('writes what cdk8s Yaml.stringify writes, for any JSON-like document', () => {
    fc.assert(fc.property(manifest, (doc) => {
      expect(manifestYaml(doc)).toBe(Yaml.stringify(doc));
    }), { numRuns: 3000 });
  });

  it('writes every string of the tricky set at every depth and in sequences as Yaml.stringify does', () => {
    for (const s of TRICKY) {
      const doc = { [s]: s, a: { [s]: [s, { [s]: s }, [s]], b: { c: s } } };
      expect(manifestYaml(doc)).toBe(Yaml.stringify(doc));
    }
  });

  it('writes objects met twice (anchors), class instances and non-objects as Yaml.stringify does', () => {
    const shared = { a: 1 };
    for (const doc of [{ x: shared, y: shared }, { d: new Date(0) }, { m: new Map([['a', 1]]) }, [1, 2], 'text', {}, { a: {} }, { a: [] }, { a: [[], {}] }]) {
      expect(manifestYaml(doc)).toBe(Yaml.stringify(doc));
    }
  });

  it('writes the synthesized example fleet byte for byte', () => {
    const tree = readTree(synthToTemp());
    const manifests = Object.entries(tree).filter(([file]) => file.endsWith('.k8s.yaml'));
    expect(manifests.length).toBeGreaterThan(20);
    for (const [, text] of manifests) {
      const doc = parse(text, { version: '1.1' });
      expect(manifestYaml(doc)).toBe(text);
    }
  });

  it('decides plain strings with the YAML 1.1 types of the yaml package that cdk8s writes with', () => {
    // The implicit type tests come from the project's `yaml`; cdk8s bundles its own copy. When
    // one is upgraded without the other, check the writer against the new one (the tests above).
    const version = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf-8')).version;
    expect(version(path.join(REPO_ROOT, 'node_modules', 'yaml'))).toBe(version(path.join(REPO_ROOT, 'node_modules', 'cdk8s', 'node_modules', 'yaml')));
  });
});
