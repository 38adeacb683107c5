import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CollectOptions, UnresolvedCodeError, collectValidationErrorCodes, mentionsCode } from './helpers/validation-error-codes';

/**
 * Every `ValidationError` code the constructs in lib/ can throw is asserted by some test: a code
 * nobody tests is a rule nobody knows still holds. The codes are collected with the TypeScript
 * compiler API, not a regex, and the collector refuses what it cannot follow.
 */

// Not from helpers/app, which loads every construct: this test reads the sources, it runs none.
const REPO_ROOT = path.resolve(__dirname, '..');
const THIS_FILE = path.relative(REPO_ROOT, __filename).split(path.sep).join('/');

describe('ValidationError codes in lib/', () => {
  const { sites, classesByFile, testLiterals } = collectValidationErrorCodes({ root: REPO_ROOT, excludeTests: [THIS_FILE] });
  const codes = [...new Set(sites.map((s) => s.code))];

  it('are found, each written as <Construct>.<Code> by the construct that throws it', () => {
    // Literal codes, fail('Code') helpers (arrow and method) and a forwarding callback (ModelRelease's gates).
    expect(codes).toEqual(expect.arrayContaining(['GatewayFrontend.NoHosts', 'GatewayRoute.MissingGateway', 'ModelRelease.WrongWorkload', 'ModelRelease.InvalidGate']));
    for (const site of sites) {
      const where = `${site.file}:${site.line}`;
      expect(site.code, where).toMatch(/^[A-Z][A-Za-z0-9]*\.[A-Z][A-Za-z0-9]*$/);
      expect(classesByFile.get(site.file), `${where}: ${site.code} names no class of its file`).toContain(site.code.split('.')[0]);
    }
  });

  it('are each asserted by a test', () => {
    const untested = codes.filter((code) => !testLiterals.some((literal) => mentionsCode(literal, code)));
    const where = (code: string) => sites.filter((s) => s.code === code).map((s) => `${s.file}:${s.line}`).join(', ');
    expect(untested.map((code) => `${code} (${where(code)})`)).toEqual([]);
  });
});

describe('the code collector', () => {
  const ERROR_CLASS = 'export class ValidationError extends Error {\n  constructor(public readonly code: string, message: string, _scope: unknown) { super(`[${code}] ${message}`); }\n}\n';

  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });

  /** A throwaway project: src/ holds the sources, test/ the tests. */
  function project(files: Record<string, string>): CollectOptions {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codes-'));
    roots.push(root);
    const all: Record<string, string> = {
      'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2022'], module: 'preserve', moduleResolution: 'bundler', strict: true, noEmit: true, types: [] }, include: ['**/*.ts'] }),
      'src/validation-error.ts': ERROR_CLASS,
      ...files,
    };
    for (const [file, text] of Object.entries(all)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }
    return { root, sourceDir: 'src', errorClassFile: 'src/validation-error.ts' };
  }

  it('follows literals, fail() helpers, methods, forwarding callbacks and conditionals, and counts only literals a test can compare', () => {
    const options = project({
      'src/widget.ts': `import { ValidationError } from './validation-error';

export class Widget {
  constructor(props: { n: number; mode: string }) {
    if (props.n < 0) throw new ValidationError('Widget.Negative', 'n', this);
    const fail = (code: string, message: string): never => {
      throw new ValidationError(\`Widget.\${code}\`, message, this);
    };
    if (props.n > 9) fail('TooLarge', 'n');
    check(props.mode, (code, message) => this.fail(code, message));
    if (props.n === 3) fail(props.mode === 'a' ? 'ModeA' : 'ModeB', '');
  }

  private fail(code: string, message: string): never {
    throw new ValidationError(\`Widget.\${code}\`, message, this);
  }
}

function check(mode: string, fail: (code: string, message: string) => never): void {
  if (mode === '') fail('EmptyMode', 'mode');
}
`,
      'test/widget.test.ts': `declare const it: (name: string, fn: () => void) => void;
declare const expect: (x: unknown) => { toThrow(message: string): void };
// Widget.ModeA in a comment asserts nothing.
it('refuses Widget.Negative', () => {
  expect(() => 0).toThrow('[Widget.TooLarge] n');
  expect(() => 0).toThrow(\`[Widget.EmptyMode] \${'x'}\`);
  expect(() => 0).toThrow('[Widget.ModeBee] is another code');
});
`,
    });
    const { sites, testLiterals } = collectValidationErrorCodes(options);
    expect(sites).toEqual([
      { code: 'Widget.EmptyMode', file: 'src/widget.ts', line: 20 },
      { code: 'Widget.ModeA', file: 'src/widget.ts', line: 11 },
      { code: 'Widget.ModeB', file: 'src/widget.ts', line: 11 },
      { code: 'Widget.Negative', file: 'src/widget.ts', line: 5 },
      { code: 'Widget.TooLarge', file: 'src/widget.ts', line: 9 },
    ]);
    const tested = sites.map((s) => s.code).filter((code) => testLiterals.some((l) => mentionsCode(l, code)));
    expect(tested).toEqual(['Widget.EmptyMode', 'Widget.TooLarge']);
  });

  it.each([
    ['a code from a mutable variable', `let code = 'Widget.A';\nexport const make = () => new ValidationError(code, '', {});\n`, /src\/widget\.ts:3: cannot tell which codes `code` can be/],
    ['a code computed by a call', `export const make = (n: string) => new ValidationError(n.trim(), '', {});\nmake('Widget.A');\n`, /src\/widget\.ts:2: cannot tell which codes `n\.trim\(\)` can be/],
    ['a fail helper handed to a library function', `const fail = (code: string) => new ValidationError(\`Widget.\${code}\`, '', {});\n['A'].forEach(fail);\n`, /src\/widget\.ts:3: a code helper handed to a function whose parameter cannot be followed/],
    ['a fail helper stored away', `const fail = (code: string) => new ValidationError(\`Widget.\${code}\`, '', {});\nexport const helpers = [fail];\n`, /src\/widget\.ts:3: a code helper used other than by a call/],
    ['a subclass of ValidationError', `export class WidgetError extends ValidationError {}\n`, /src\/widget\.ts:2: a subclass of ValidationError/],
    ['a subclass of ValidationError under another name', `import { ValidationError as Base } from './validation-error';\nexport class WidgetError extends Base {}\n`, /src\/widget\.ts:3: a subclass of ValidationError/],
    ['no code at all', `export const nothing = 1;\n`, /found no ValidationError code at all/],
  ])('refuses %s', (_name, source, message) => {
    const options = project({ 'src/widget.ts': `import { ValidationError } from './validation-error';\n${source}` });
    let error: unknown;
    try {
      collectValidationErrorCodes(options);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnresolvedCodeError);
    expect((error as Error).message).toMatch(message);
  });

  it('tells a code from a longer one', () => {
    expect(mentionsCode('[GatewayRoute.InvalidHost] prod/route', 'GatewayRoute.InvalidHost')).toBe(true);
    expect(mentionsCode('[GatewayRoute.InvalidHostname] prod/route', 'GatewayRoute.InvalidHost')).toBe(false);
    expect(mentionsCode('[XGatewayRoute.InvalidHost]', 'GatewayRoute.InvalidHost')).toBe(false);
    expect(mentionsCode('Other.GatewayRoute.InvalidHost', 'GatewayRoute.InvalidHost')).toBe(false);
  });
});
