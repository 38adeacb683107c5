import { isCelError, isCelList, type CelValue } from '@bufbuild/cel';
import { describe, expect, it } from 'vitest';
import { compileCelExpression, escapeCelPropertyName, goSplitN } from '../lib/validation';
import { hasCelOverload } from '../lib/validation/kubernetes-cel-library';

/** Evaluates an expression in the validator's CEL environment, lists as arrays, errors as `{ error }`. */
function evaluate(expression: string, self: unknown = null): unknown {
  const compiled = compileCelExpression(expression);
  if (!compiled.program) throw new Error(`does not compile: ${compiled.unsupported}`);
  const result = compiled.program({ self: self as never });
  const plain = (value: CelValue | Error): unknown => (isCelError(value) ? { error: value.message } : isCelList(value) ? [...value].map(plain) : value);
  return plain(result);
}

describe('Kubernetes CEL library', () => {
  describe('split (cel-go ext.Strings v2: Go strings.Split and strings.SplitN)', () => {
    it.each([
      ["'a/b/c'.split('/')", ['a', 'b', 'c']],
      ["'a,,b'.split(',')", ['a', '', 'b']],
      ["',a,'.split(',')", ['', 'a', '']],
      ["'aaa'.split('aa')", ['', 'a']],
      ["'no-separator'.split('/')", ['no-separator']],
      // Go: Split("", sep) is [""] for a non-empty sep, but [] for an empty one.
      ["''.split('/')", ['']],
      ["''.split('')", []],
      // An empty separator splits after each code point, not each UTF-16 unit.
      ["'abc'.split('')", ['a', 'b', 'c']],
      ["'\u{1F600}x'.split('')", ['\u{1F600}', 'x']],
      // SplitN: 0 gives nothing, 1 the whole string, n the first n-1 pieces and the rest, negative all.
      ["'a,b,c'.split(',', 0)", []],
      ["'a,b,c'.split(',', 1)", ['a,b,c']],
      ["'a,b,c'.split(',', 2)", ['a', 'b,c']],
      ["'a,b,c'.split(',', -1)", ['a', 'b', 'c']],
      ["'a,b,c'.split(',', 10)", ['a', 'b', 'c']],
      ["'a,b,c'.split(',', 9223372036854775807)", ['a', 'b', 'c']],
      ["'abc'.split('', 2)", ['a', 'bc']],
      ["''.split(',', 0)", []],
    ])('%s', (expression, expected) => {
      expect(evaluate(expression)).toEqual(expected);
    });

    it('is what the Gateway label and annotation key rules call', () => {
      const rule = "self.all(key, key.split('/')[0].size() < 253)";
      expect(evaluate(rule, new Map([[`${'a'.repeat(252)}/team`, 'ml']]))).toBe(true);
      expect(evaluate(rule, new Map([[`${'a'.repeat(253)}/team`, 'ml']]))).toBe(false);
      // A key without a prefix is its own first piece.
      expect(evaluate(rule, new Map([['team', 'ml']]))).toBe(true);
    });

    it('joins back to the input for any non-empty separator', () => {
      const samples = ['', '/', 'a/', '/a', 'a//b', 'x/y/z', '\u{1F600}/\u{1F600}', 'no separator'];
      for (const s of samples) {
        for (const sep of ['/', '//', 'a', '\u{1F600}']) {
          for (const n of [-1, 1, 2, 3, 100]) expect(goSplitN(s, sep, n).join(sep)).toBe(s);
        }
      }
    });

    it('is a method with one or two arguments, not a global function', () => {
      expect(hasCelOverload('split', 1, true)).toBe(true);
      expect(hasCelOverload('split', 2, true)).toBe(true);
      expect(hasCelOverload('split', 2, false)).toBe(false);
      expect(hasCelOverload('split', 3, true)).toBe(false);
    });

    it('refuses a non-string separator', () => {
      expect(evaluate("'a/b'.split(1)")).toEqual({ error: expect.stringContaining('split') });
    });
  });

  describe('functions not implemented do not compile', () => {
    it.each([
      ['isURL(self)', 'unknown function isURL(1 argument)'],
      ['self.url().getHost()', 'unknown function <receiver>.url(0 arguments)'],
      ['self.lowerAscii() == self', 'unknown function <receiver>.lowerAscii(0 arguments)'],
      ["quantity(self).isGreaterThan(quantity('1'))", 'unknown function quantity(1 argument)'],
      ['[1, 2].isSorted()', 'unknown function <receiver>.isSorted(0 arguments)'],
      ['unknownVariable == 1', 'undeclared reference to "unknownVariable"'],
    ])('%s', (expression, reason) => {
      expect(compileCelExpression(expression).unsupported).toContain(reason);
    });

    it('reports a parse error as unsupported', () => {
      expect(compileCelExpression('self ==').unsupported).toMatch(/^does not parse:/);
    });
  });

  describe('standard functions behave as in the API server', () => {
    it.each([
      // matches is RE2: inline flags and Unicode classes work, Perl lookaround is an error.
      ["'ABC'.matches('(?i)^abc$')", true],
      ["'caf\u00e9'.matches('^\\\\pL+$')", true],
      ["'abc'.matches('a(?=b)')", { error: expect.stringContaining('(?=') }],
      // size counts code points.
      ["'\u{1F600}\u00e9'.size()", 2n],
      // duration parses Go durations.
      ["duration('1h30m') > duration('89m')", true],
      ["duration('1d')", { error: expect.stringContaining('duration') }],
      ['9223372036854775807 + 1', { error: expect.stringContaining('overflow') }],
    ])('%s', (expression, expected) => {
      expect(evaluate(expression)).toEqual(expected);
    });
  });

  describe('property names (k8s.io/apiserver/pkg/cel escaping)', () => {
    it.each([
      ['spec', 'spec'],
      ['_a', '_a'],
      ['namespace', '__namespace__'],
      ['true', '__true__'],
      ['in', '__in__'],
      ['a.b', 'a__dot__b'],
      ['a-b', 'a__dash__b'],
      ['a/b', 'a__slash__b'],
      ['a__b', 'a__underscores__b'],
      ['__', '__underscores__'],
      ['a___b', 'a__underscores___b'],
      ['kubernetes.io/ingress-class', 'kubernetes__dot__io__slash__ingress__dash__class'],
    ])('%s is %s', (name, escaped) => {
      expect(escapeCelPropertyName(name)).toBe(escaped);
    });

    it.each([[''], ['1a'], ['a b'], ['a:b'], ['caf\u00e9']])('%j cannot be escaped', (name) => {
      expect(escapeCelPropertyName(name)).toBeUndefined();
    });
  });
});
