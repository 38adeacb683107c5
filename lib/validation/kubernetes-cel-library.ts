import { CelScalar, celEnv, celMethod, listType, type CelEnv, type CelFunc } from '@bufbuild/cel';

/*
 * The Kubernetes CEL environment on top of @bufbuild/cel's standard library.
 *
 * The API server compiles CRD validation rules in a base environment (k8s.io/apiserver/pkg/cel/environment):
 * the CEL standard library plus cel-go extensions (strings v2, sets, ...) and the Kubernetes libraries
 * (k8s.io/apiserver/pkg/cel/library: URLs, regex, lists, quantity, IP, CIDR, format, ...). Only the functions
 * that the rules of the pinned CRDs call are implemented here, each with the upstream semantics; a rule that
 * calls anything else does not compile in this environment and is reported as unsupported (see cel-rules.ts),
 * never passed.
 *
 * Functions beyond the standard library that the pinned rules use:
 *   - `<string>.split(<string>)` (cel-go ext.Strings): Gateway API's Gateway `spec.infrastructure.labels` and
 *     `.annotations` key-prefix rules. Its `split(<string>, <int>)` overload is the same cel-go function and
 *     is registered with it.
 * Standard-library functions that the rules use (`matches` with RE2, `size`, `startsWith`, `endsWith`,
 * `contains`, `duration`, `in`, the macros) come from @bufbuild/cel, whose `matches` uses @bufbuild/re2.
 */

const { STRING, INT } = CelScalar;

/**
 * Go's `strings.SplitN(s, sep, n)`, which cel-go's `split` calls (`strings.Split` is `n = -1`):
 * `n == 0` gives no substrings, `n < 0` all of them, `n > 0` at most `n`, the last holding the unsplit rest.
 * An empty separator splits after each Unicode code point (Go: each UTF-8 sequence), and an empty string
 * split by an empty separator gives no substrings while any other separator gives `[""]`.
 */
export function goSplitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const points = Array.from(s);
    const count = n < 0 || n > points.length ? points.length : n;
    if (count === 0) return [];
    return [...points.slice(0, count - 1), points.slice(count - 1).join('')];
  }
  const parts: string[] = [];
  let rest = s;
  while (n < 0 || parts.length < n - 1) {
    const at = rest.indexOf(sep);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + sep.length);
  }
  parts.push(rest);
  return parts;
}

/** A CEL int (int64) as a Go `int` count for SplitN; only its sign and whether it exceeds the length matter. */
function splitCount(n: bigint, s: string): number {
  if (n < 0n) return -1;
  const limit = BigInt(s.length + 1);
  return Number(n > limit ? limit : n);
}

/** The Kubernetes CEL extension functions implemented here, registered on top of the standard library. */
export const KUBERNETES_CEL_FUNCTIONS: readonly CelFunc[] = [
  celMethod('split', STRING, [STRING], listType(STRING), function (sep) {
    return goSplitN(this, sep, -1);
  }),
  celMethod('split', STRING, [STRING, INT], listType(STRING), function (sep, n) {
    return goSplitN(this, sep, splitCount(n, this));
  }),
];

let sharedEnv: CelEnv | undefined;

/** The CEL environment CRD validation rules are planned in: the standard library plus {@link KUBERNETES_CEL_FUNCTIONS}. */
export function kubernetesCelEnv(): CelEnv {
  sharedEnv ??= celEnv({ funcs: [...KUBERNETES_CEL_FUNCTIONS] });
  return sharedEnv;
}

/**
 * Operators the @bufbuild/cel planner evaluates itself (short-circuiting logic, the conditional, indexing);
 * they are never looked up in the function registry.
 */
const PLANNER_OPERATORS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '_[?_]', '_?._', '@not_strictly_false', '__not_strictly_false__']);

/**
 * Whether the environment has an overload of `name` with this many arguments, called as a method
 * (`x.name(...)`) or as a global function (`name(...)`). The check is by shape only: argument types are
 * dynamic here (no schema-typed declarations), so a type mismatch shows at evaluation as an error.
 */
export function hasCelOverload(name: string, args: number, method: boolean): boolean {
  if (PLANNER_OPERATORS.has(name)) return true;
  const group = kubernetesCelEnv().funcs.find(name);
  if (!group) return false;
  for (const fn of group) {
    if ((fn.target !== undefined) === method && fn.arguments.length === args) return true;
  }
  return false;
}

/** CEL type names that may appear as identifiers, e.g. `type(x) == string`. */
export const CEL_TYPE_IDENTIFIERS = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type']);

// k8s.io/apiserver/pkg/cel/escaping.go: property names that are CEL keywords are escaped as `__<name>__`.
const CEL_RESERVED_SYMBOLS = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import',
  'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);

/**
 * The name a CRD property has in CEL (Kubernetes `cel.Escape`): keywords become `__<keyword>__` (so
 * `namespace` is `self.__namespace__`), `__` becomes `__underscores__`, and `.`, `-`, `/` become `__dot__`,
 * `__dash__`, `__slash__`. Names outside `[a-zA-Z_.-/][a-zA-Z0-9_.-/]*` cannot be escaped and are not
 * accessible from CEL: `undefined`.
 */
export function escapeCelPropertyName(name: string): string | undefined {
  if (name === '' || /^[0-9]/.test(name)) return undefined;
  if (CEL_RESERVED_SYMBOLS.has(name)) return `__${name}__`;
  if (!/^[A-Za-z0-9_./-]+$/.test(name)) return undefined;
  return name.replace(/__|[./-]/g, (match) => {
    switch (match) {
      case '__':
        return '__underscores__';
      case '.':
        return '__dot__';
      case '-':
        return '__dash__';
      default:
        return '__slash__';
    }
  });
}
