import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeRequirements, normalizePackageName, parseRequirements } from '../lib/image';

const HASH_A = `sha256:${'a'.repeat(64)}`;
const HASH_B = `sha256:${'b'.repeat(64)}`;

describe('requirements files', () => {
  it('reads pins with extras, hashes, comments and continuations, at the line each starts on', () => {
    const text = [
      '\uFEFF# pinned by pip-compile',
      '',
      'transformers[torch, sentencepiece]==4.46.3  # a comment',
      `tokenizers == 0.20.3 \\`,
      `    --hash=${HASH_A} \\`,
      `    --hash ${HASH_B}`,
      'Foo.Bar_baz==1.0',
      'pkg==1.0 #not-a-hash --hash=x',
    ].join('\r\n');
    const { requirements, problems } = parseRequirements(text, 'r.txt');
    expect(problems).toEqual([]);
    expect(requirements.map((r) => [r.line, r.name, r.key, r.extras, r.version, r.hashes])).toEqual([
      [3, 'transformers', 'transformers', ['sentencepiece', 'torch'], '4.46.3', []],
      [4, 'tokenizers', 'tokenizers', [], '0.20.3', [HASH_A, HASH_B]],
      [7, 'Foo.Bar_baz', 'foo-bar-baz', [], '1.0', []],
      [8, 'pkg', 'pkg', [], '1.0', []],
    ]);
  });

  it.each([
    ['numpy~=1.26', 'is not pinned'],
    ['numpy!=1.0', 'is not pinned'],
    ['numpy==1.0,<2', 'is not pinned'],
    ['numpy===1.0', 'is not pinned'],
    ['numpy==one.two', 'is not pinned to one version: "one.two" is not a PEP 440 version'],
    ['-e ./local', 'is an editable install'],
    ['--extra-index-url https://x', 'chooses a package index'],
    ['--pre', 'is a pip option, which is not supported here'],
    ['numpy==1.0 --hash=md5:abc', 'after the version only --hash=<sha256|sha384|sha512>:<hex digest> options are allowed'],
    [`numpy==1.0 --hash=sha256:${'a'.repeat(63)}`, 'after the version only --hash='],
    ['numpy==1.0 --no-binary :all:', 'after the version only --hash='],
    ['./wheels/numpy.whl', 'is not a requirement'],
  ])('refuses %s at its line', (line, message) => {
    const { requirements, problems } = parseRequirements(`ok==1.0\n${line}\n`, 'r.txt');
    expect(requirements.map((r) => r.name)).toEqual(['ok']);
    expect(problems).toEqual([{ file: 'r.txt', line: 2, message: expect.stringContaining(message) }]);
    expect(problems[0].message.startsWith(`"${line}" `)).toBe(true);
  });

  it('normalizes names as PEP 503 does', () => {
    expect(['Friendly-Bar', 'friendly.bar', 'FRIENDLY__bar', 'friendly-._bar'].map(normalizePackageName)).toEqual(Array(4).fill('friendly-bar'));
  });
});

describe('merging the requirements of the models of one image', () => {
  const pins = (model: string, text: string) => ({ model, requirements: parseRequirements(text, `${model}.txt`).requirements });

  it('keeps one line per project, with the union of extras and hashes, sorted by normalized name', () => {
    const { requirements, problems } = mergeRequirements('default', [
      pins('a', `zeta==1.0\nTorch-Audio==2.4 --hash=${HASH_A}\n`),
      pins('b', `torch_audio[x]==2.4.0 --hash=${HASH_B}\nalpha==3\n`),
    ]);
    expect(problems.filter((p) => !p.message.includes('no --hash'))).toEqual([]);
    expect(requirements.map((r) => [r.key, r.extras, r.version, r.hashes, r.sources.map((s) => s.model)])).toEqual([
      ['alpha', [], '3', [], ['b']],
      ['torch-audio', ['x'], '2.4', [HASH_A, HASH_B], ['a', 'b']],
      ['zeta', [], '1.0', [], ['a']],
    ]);
  });

  it('reports a conflict at the second pin, naming both models, files and lines', () => {
    const { problems } = mergeRequirements('default', [pins('a', 'x==1\nnumpy==1.26.4\n'), pins('b', 'NumPy==2.1.3\n')]);
    expect(problems).toEqual([{
      file: 'b.txt',
      line: 1,
      message: expect.stringContaining('"NumPy==2.1.3" (model "b") conflicts with "numpy==1.26.4" (model "a", a.txt:2): both models run the serving image "default"'),
    }]);
  });

  it('finds every conflict and only conflicts, whatever the pins (property)', () => {
    const pin = fc.record({ pkg: fc.constantFrom('numpy', 'NumPy', 'scipy', 'torch_audio', 'torch-audio', 'rich'), version: fc.constantFrom('1.0', '1.0.0', '1.1', '2') });
    const model = fc.array(pin, { maxLength: 5 });
    fc.assert(fc.property(fc.array(model, { minLength: 1, maxLength: 4 }), (models) => {
      const input = models.map((m, i) => pins(`m${i}`, m.map((p) => `${p.pkg}==${p.version}`).join('\n')));
      const { requirements, problems } = mergeRequirements('default', input);
      // The expected outcome, computed independently: the first version seen per project wins,
      // and every later pin at a different version (1.0 equals 1.0.0) is one conflict.
      const same = (a: string, b: string) => a.replace(/(\.0)+$/, '') === b.replace(/(\.0)+$/, '');
      const first = new Map<string, string>();
      let conflicts = 0;
      for (const m of models) {
        for (const p of m) {
          const key = p.pkg.toLowerCase().replace(/[-_.]+/g, '-');
          if (!first.has(key)) first.set(key, p.version);
          else if (!same(first.get(key)!, p.version)) conflicts++;
        }
      }
      expect(problems).toHaveLength(conflicts);
      expect(requirements.map((r) => r.key)).toEqual([...first.keys()].sort());
      for (const r of requirements) expect(same(r.version, first.get(r.key)!)).toBe(true);
    }), { numRuns: 200 });
  });
});
